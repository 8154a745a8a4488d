// Helpers shared by the fuzz targets: invariant checks that abort (libFuzzer reports the input),
// the byte format of the row fuzzer's inputs and a scratch file for readers that take a path.
#pragma once

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

// Aborts with the broken invariant when `cond` is false; libFuzzer then saves the input.
#define FUZZ_REQUIRE(cond, what)                                                             \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n  %s\n", __FILE__, __LINE__, \
                   #cond, std::string(what).c_str());                                        \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

namespace cyclr::fuzz {

// Reads the fuzzers' simple binary records: little-endian int64s and u32-length-prefixed byte
// strings; past the end it yields zeros and short strings, so every input decodes to something.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  bool empty() const { return n_ == 0; }
  uint8_t Byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  int64_t Int64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{Byte()} << (8 * i);
    return static_cast<int64_t>(v);
  }
  std::string Bytes() {
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i) len |= uint32_t{Byte()} << (8 * i);
    size_t take = len < n_ ? len : n_;
    std::string out(reinterpret_cast<const char*>(p_), take);
    p_ += take;
    n_ -= take;
    return out;
  }

 private:
  const uint8_t* p_;
  size_t n_;
};

// The inverse of ByteReader (tests/fuzz/make_corpus.cc writes seeds with it).
class ByteWriter {
 public:
  void Byte(uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void Int64(int64_t v) {
    for (int i = 0; i < 8; ++i) Byte(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
  }
  void Bytes(const std::string& s) {
    const uint32_t len = static_cast<uint32_t>(s.size());
    for (int i = 0; i < 4; ++i) Byte(static_cast<uint8_t>(len >> (8 * i)));
    out_ += s;
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

// A file of this process holding `data` (rewritten by every call), for readers that take a path.
// Lives in /dev/shm when there is one; removed when the process exits normally.
inline std::string WriteScratchFile(const uint8_t* data, size_t size, const char* suffix) {
  struct Scratch {
    std::string path;
    ~Scratch() {
      if (!path.empty()) std::remove(path.c_str());
    }
  };
  static Scratch scratch;
  const std::string dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  const std::string path =
      dir + "/cyclr-fuzz-" + std::to_string(::getpid()) + "-" + std::string(suffix);
  if (scratch.path != path) scratch.path = path;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  FUZZ_REQUIRE(out.good(), "cannot write the scratch file " + path);
  return path;
}

inline void RequireInRange(const char* field, int64_t v, int64_t lo, int64_t hi) {
  FUZZ_REQUIRE(v >= lo && v <= hi, std::string(field) + " = " + std::to_string(v) + " outside [" +
                                       std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

}  // namespace cyclr::fuzz
