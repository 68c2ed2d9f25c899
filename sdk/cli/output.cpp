#include "output.hpp"

#include <iostream>

namespace tern::cli {
namespace {

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

/// Length of the valid UTF-8 sequence at text[i] (1 to 4), or 0 when the byte there does
/// not start one (stray continuation bytes, overlong forms, surrogates, past U+10FFFF).
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto byte = static_cast<unsigned char>(text[i]);
  if (byte < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF; // allowed range of the second byte
  if (byte >= 0xC2 && byte <= 0xDF) {
    length = 2;
  } else if (byte >= 0xE0 && byte <= 0xEF) {
    length = 3;
    if (byte == 0xE0) low = 0xA0;
    if (byte == 0xED) high = 0x9F;
  } else if (byte >= 0xF0 && byte <= 0xF4) {
    length = 4;
    if (byte == 0xF0) low = 0x90;
    if (byte == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  const auto second = static_cast<unsigned char>(text[i + 1]);
  if (second < low || second > high) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if (!is_continuation(static_cast<unsigned char>(text[i + k]))) return 0;
  return length;
}

enum class Kind { Text, Space, Break };

/// What the (valid) sequence text[i, i + length) is: a line break (\n, \r, U+0085, U+2028,
/// U+2029), another control character or a space (C0, DEL, C1), or text.
Kind kind_of(std::string_view text, std::size_t i, std::size_t length) {
  const auto byte = static_cast<unsigned char>(text[i]);
  if (length == 1) {
    if (byte == '\n' || byte == '\r') return Kind::Break;
    return byte < 0x20 || byte == 0x7F || byte == ' ' ? Kind::Space : Kind::Text;
  }
  const auto second = static_cast<unsigned char>(text[i + 1]);
  if (length == 2 && byte == 0xC2 && second <= 0x9F) return second == 0x85 ? Kind::Break : Kind::Space;
  if (length == 3 && byte == 0xE2 && second == 0x80) {
    const auto third = static_cast<unsigned char>(text[i + 2]);
    if (third == 0xA8 || third == 0xA9) return Kind::Break;
  }
  return Kind::Text;
}

void trim_trailing_spaces(std::string& line) {
  while (!line.empty() && line.back() == ' ') line.pop_back();
}

} // namespace

std::string one_line(std::string_view text, std::size_t limit) {
  std::string line;
  std::size_t i = 0;
  while (i < text.size() && line.size() < limit) {
    const std::size_t length = utf8_length(text, i);
    if (length == 0) { // not UTF-8: shown as \xNN
      static constexpr char hex[] = "0123456789abcdef";
      const auto byte = static_cast<unsigned char>(text[i++]);
      line += "\\x";
      line += hex[byte >> 4];
      line += hex[byte & 0xF];
      continue;
    }
    const Kind kind = kind_of(text, i, length);
    if (kind == Kind::Text || (text[i] == ' ' && !line.empty())) { // spaces between words stay as they are
      line.append(text, i, length);
      i += length;
      continue;
    }
    // A run of control characters, line breaks and spaces: one separator.
    bool has_break = false;
    while (i < text.size()) {
      const std::size_t run = utf8_length(text, i);
      const Kind next = run == 0 ? Kind::Text : kind_of(text, i, run);
      if (next == Kind::Text) break;
      has_break = has_break || next == Kind::Break;
      i += run;
    }
    trim_trailing_spaces(line);
    if (line.empty() || i >= text.size()) continue; // leading or trailing: dropped
    const char last = line.back();
    const bool punctuated = last == ':' || last == ';' || last == ',' || last == '.';
    line += has_break && !punctuated ? "; " : " ";
  }
  trim_trailing_spaces(line);
  if (i < text.size()) line += "... (" + std::to_string(text.size() - i) + " more bytes)";
  return line;
}

std::ostream& Output::text() const { return json_ ? std::cerr : std::cout; }

void Output::fail(const std::string& message) {
  const std::string line = one_line(message);
  std::cerr << "tern: error: " << line << "\n";
  result_ = {{"error", line}};
}

void Output::finish() const {
  if (json_) std::cout << result_.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

} // namespace tern::cli
