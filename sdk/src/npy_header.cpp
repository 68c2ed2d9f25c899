#include "npy_header.hpp"

#include <tern/error.hpp>

#include <cctype>
#include <limits>
#include <optional>

namespace tern::detail {
namespace {

/// Reads the header left to right; every failure names the byte offset.
class Reader {
public:
  Reader(std::string_view text, const std::string& where) : text_(text), where_(where) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(where_ + "the NPY header is malformed at byte " + std::to_string(pos_) + ": " + what);
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  /// Consumes `c` (after spaces) when it is next.
  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c, const char* after) {
    if (!accept(c)) fail(std::string("expected '") + c + "' " + after);
  }
  /// A quoted string ('...' or "..."), without escapes (none of the fields needs them).
  std::string quoted(const char* what) {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) fail(std::string("expected ") + what);
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos || end - pos_ > 64) fail(std::string("unterminated or overlong ") + what);
    std::string value(text_.substr(pos_, end - pos_));
    for (const char c : value)
      if (!std::isprint(static_cast<unsigned char>(c))) fail(std::string("a non-printable byte in ") + what);
    pos_ = end + 1;
    return value;
  }
  /// True or False.
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair{std::string_view("True"), true}, {std::string_view("False"), false}})
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    fail("expected True or False for 'fortran_order'");
  }
  /// A non-negative decimal integer that fits int64.
  std::int64_t dimension() {
    skip_space();
    const std::size_t start = pos_;
    std::int64_t value = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      const int digit = text_[pos_] - '0';
      if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) fail("a dimension exceeds 2^63 - 1");
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) fail("expected a dimension (a non-negative integer)");
    return value;
  }
  /// (d0, d1, ...) with an optional trailing comma; () for a scalar.
  std::vector<std::int64_t> shape() {
    expect('(', "to open 'shape'");
    std::vector<std::int64_t> dims;
    while (!accept(')')) {
      if (dims.size() >= 32) fail("more than 32 dimensions");
      dims.push_back(dimension());
      if (!accept(',')) {
        expect(')', "or ',' in 'shape'");
        break;
      }
    }
    return dims;
  }
  bool at_end() {
    skip_space();
    return pos_ == text_.size();
  }

private:
  std::string_view text_;
  const std::string& where_;
  std::size_t pos_ = 0;
};

} // namespace

NpyHeader parse_npy_header(std::string_view text, const std::string& where) {
  check(text.size() <= npy_header_limit, [&] {
    return where + "the NPY header is " + std::to_string(text.size()) + " bytes, over the " +
           std::to_string(npy_header_limit) + "-byte limit";
  });
  Reader reader(text, where);
  NpyHeader header;
  std::optional<bool> descr, order, shape;
  reader.expect('{', "at the start of the header dict");
  while (!reader.accept('}')) {
    const std::string key = reader.quoted("a key ('descr', 'fortran_order' or 'shape')");
    reader.expect(':', "after a key");
    if (key == "descr" && !descr) {
      header.descr = reader.quoted("the 'descr' string");
      descr = true;
    } else if (key == "fortran_order" && !order) {
      header.fortran_order = reader.boolean();
      order = true;
    } else if (key == "shape" && !shape) {
      header.shape = reader.shape();
      shape = true;
    } else {
      reader.fail("unexpected or repeated key (expected 'descr', 'fortran_order' and 'shape' once each)");
    }
    if (!reader.accept(',')) {
      reader.expect('}', "or ',' after a value");
      break;
    }
  }
  if (!reader.at_end()) reader.fail("unexpected bytes after the header dict");
  if (!descr || !order || !shape) reader.fail("the dict lacks 'descr', 'fortran_order' or 'shape'");
  return header;
}

} // namespace tern::detail
