#include "core/npy_header.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <limits>

namespace cyclr {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";

// A cursor over the header's dict literal, as numpy's format writes it (Python repr of a dict
// with str keys, a str, a bool and a tuple of ints), with Python's optional whitespace.
class DictReader {
 public:
  DictReader(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Take(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }
  char Peek() {
    SkipSpace();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

  StatusOr<std::string> String() {
    SkipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return Error("expected a quoted string");
    }
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) return Error("unterminated string");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  StatusOr<bool> Bool() {
    SkipSpace();
    for (auto [word, value] : {std::pair{std::string_view("True"), true}, {"False", false}}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    return Error("expected True or False");
  }

  StatusOr<int64_t> Int() {
    SkipSpace();
    int64_t v = 0;
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const int d = text_[pos_++] - '0';
      if (v > (std::numeric_limits<int64_t>::max() - d) / 10) return Error("dimension too large");
      v = v * 10 + d;
    }
    if (pos_ == start) return Error("expected a non-negative integer in 'shape'");
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2's long suffix
    return v;
  }

  StatusOr<std::vector<int64_t>> Shape() {
    if (!Take('(')) return Error("'shape' must be a tuple");
    std::vector<int64_t> dims;
    while (!Take(')')) {
      if (dims.size() >= 32) return Error("'shape' has more than 32 dimensions");
      CYCLR_ASSIGN_OR_RETURN(int64_t d, Int());
      dims.push_back(d);
      if (!Take(',') && Peek() != ')') return Error("expected ',' or ')' in 'shape'");
    }
    return dims;
  }

  Status Error(const std::string& what) const {
    return Status::InvalidArgument(name_ + ": not a valid .npy header (" + what + " at byte " +
                                   std::to_string(pos_) + " of the header)");
  }

 private:
  std::string_view text_;
  const std::string& name_;
  size_t pos_ = 0;
};

StatusOr<NpyDtype> DtypeFromDescr(const std::string& descr, const std::string& name) {
  struct Known {
    const char* descr;
    NpyDtype dtype;
  };
  static constexpr Known kKnown[] = {
      {"|u1", NpyDtype::kUint8},   {"<u1", NpyDtype::kUint8},   {"<i4", NpyDtype::kInt32},
      {"<i8", NpyDtype::kInt64},   {"<f2", NpyDtype::kFloat16}, {"<f4", NpyDtype::kFloat32},
  };
  for (const Known& k : kKnown) {
    if (descr == k.descr) return k.dtype;
  }
  return Status::InvalidArgument(
      name + ": dtype '" + descr +
      "' is not supported; expected little-endian uint8, int32, int64, float16 or float32 "
      "(convert with x.astype(numpy.float32) before numpy.save)");
}

uint32_t LittleEndian(std::string_view bytes) {
  uint32_t v = 0;
  for (size_t i = bytes.size(); i-- > 0;) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

// Parses the dict literal of the header into `h` (dtype and shape).
Status ParseDict(std::string_view text, const std::string& name, NpyHeader* h) {
  DictReader r(text, name);
  if (!r.Take('{')) return r.Error("expected '{'");
  bool have_descr = false, have_order = false, have_shape = false;
  while (!r.Take('}')) {
    CYCLR_ASSIGN_OR_RETURN(std::string key, r.String());
    if (!r.Take(':')) return r.Error("expected ':' after '" + key + "'");
    if (key == "descr" && !have_descr) {
      if (r.Peek() == '[') {
        return Status::InvalidArgument(name + ": structured dtypes are not supported");
      }
      CYCLR_ASSIGN_OR_RETURN(std::string descr, r.String());
      CYCLR_ASSIGN_OR_RETURN(h->dtype, DtypeFromDescr(descr, name));
      have_descr = true;
    } else if (key == "fortran_order" && !have_order) {
      CYCLR_ASSIGN_OR_RETURN(bool fortran, r.Bool());
      if (fortran) {
        return Status::InvalidArgument(
            name + ": Fortran order is not supported; save a C-order array "
                   "(numpy.save(f, numpy.ascontiguousarray(x)))");
      }
      have_order = true;
    } else if (key == "shape" && !have_shape) {
      CYCLR_ASSIGN_OR_RETURN(h->shape, r.Shape());
      have_shape = true;
    } else {
      return r.Error("unexpected or repeated key '" + key + "'");
    }
    if (!r.Take(',') && r.Peek() != '}') return r.Error("expected ',' or '}'");
  }
  if (!r.AtEnd()) return r.Error("text after '}'");
  if (!have_descr || !have_order || !have_shape) {
    return r.Error("it needs the keys 'descr', 'fortran_order' and 'shape'");
  }
  return Status::Ok();
}

// Element count with overflow and size limits checked.
Status CheckShape(const NpyHeader& h, const std::string& name) {
  int64_t n = 1;
  for (int64_t d : h.shape) {
    if (d != 0 && n > kMaxNpyElements / d) {
      return Status::InvalidArgument(name + ": shape " + h.ShapeString() + " has more than " +
                                     std::to_string(kMaxNpyElements) + " elements");
    }
    n *= d;
  }
  return Status::Ok();
}

}  // namespace

const char* NpyDtypeName(NpyDtype dtype) {
  switch (dtype) {
    case NpyDtype::kUint8: return "uint8";
    case NpyDtype::kInt32: return "int32";
    case NpyDtype::kInt64: return "int64";
    case NpyDtype::kFloat16: return "float16";
    case NpyDtype::kFloat32: return "float32";
  }
  return "?";
}

int64_t NpyItemSize(NpyDtype dtype) {
  switch (dtype) {
    case NpyDtype::kUint8: return 1;
    case NpyDtype::kFloat16: return 2;
    case NpyDtype::kInt32:
    case NpyDtype::kFloat32: return 4;
    case NpyDtype::kInt64: return 8;
  }
  return 1;
}

int64_t NpyHeader::count() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string NpyHeader::ShapeString() const {
  if (shape.empty()) return "()";
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

StatusOr<NpyHeader> ParseNpyHeader(std::string_view prefix, int64_t file_size,
                                   const std::string& name) {
  if (prefix.substr(0, kMagic.size()) != kMagic) {
    return Status::InvalidArgument(name + ": not a .npy file (it does not start with \\x93NUMPY;"
                                          " write it with numpy.save)");
  }
  if (prefix.size() < 10) return Status::InvalidArgument(name + ": truncated .npy header");
  const int major = static_cast<unsigned char>(prefix[6]);
  const int minor = static_cast<unsigned char>(prefix[7]);
  if (major < 1 || major > 3 || minor != 0) {
    return Status::InvalidArgument(name + ": .npy format version " + std::to_string(major) + "." +
                                   std::to_string(minor) + " is not supported (1.0 to 3.0 are)");
  }
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (prefix.size() < 8 + len_bytes) return Status::InvalidArgument(name + ": truncated header");
  const int64_t header_len = LittleEndian(prefix.substr(8, len_bytes));
  const int64_t offset = 8 + static_cast<int64_t>(len_bytes) + header_len;
  if (header_len > kMaxNpyHeaderBytes) {
    return Status::InvalidArgument(name + ": header of " + std::to_string(header_len) +
                                   " bytes is longer than " + std::to_string(kMaxNpyHeaderBytes));
  }
  if (static_cast<int64_t>(prefix.size()) < offset || file_size < offset) {
    return Status::InvalidArgument(name + ": truncated (the file ends inside its header)");
  }
  NpyHeader h;
  h.data_offset = offset;
  CYCLR_RETURN_IF_ERROR(ParseDict(prefix.substr(8 + len_bytes, header_len), name, &h));
  CYCLR_RETURN_IF_ERROR(CheckShape(h, name));
  if (file_size - offset < h.data_bytes()) {
    return Status::InvalidArgument(
        name + ": truncated: its header says " + h.ShapeString() + " " + NpyDtypeName(h.dtype) +
        " (" + std::to_string(h.data_bytes()) + " bytes of data), the file has " +
        std::to_string(file_size - offset));
  }
  return h;
}

StatusOr<NpyHeader> ReadNpyHeader(const std::string& path) {
  // Only regular files: a path from a request may name a device or a FIFO (/dev/zero never ends).
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::NotFound(path + ": no such file");
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + ": not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": not readable");
  const int64_t size = static_cast<int64_t>(st.st_size);
  std::string prefix(static_cast<size_t>(std::min<int64_t>(size, kMaxNpyHeaderBytes + 12)), '\0');
  in.read(prefix.data(), static_cast<std::streamsize>(prefix.size()));
  if (!in) return Status::InvalidArgument(path + ": could not read its header");
  return ParseNpyHeader(prefix, size, path);
}

}  // namespace cyclr
