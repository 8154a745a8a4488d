// UTF-8 as protobuf requires it in a proto3 `string` field.
#pragma once

#include <cstdint>
#include <string_view>

namespace cyclr {

// Whether `s` is well-formed UTF-8: no stray continuation byte, truncated sequence, overlong
// form, surrogate (U+D800..U+DFFF) or code point past U+10FFFF. Protobuf refuses to parse a
// string field holding any of these, so a value bound for one (a stored reason, a JobSpec's
// path) is checked with this first.
inline bool IsUtf8(std::string_view s) {
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};  // shortest form of each length
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80           ? 1
                       : (c >> 5) == 0x6  ? 2
                       : (c >> 4) == 0xE  ? 3
                       : (c >> 3) == 0x1E ? 4
                                          : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7Fu >> len);
    for (size_t k = 1; k < len; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3Fu);
    }
    if (len > 1 && (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace cyclr
