// Identifier validation and quoting, and string-literal escaping (see
// sql_quote.hpp for the rules and why). Pure; no connection needed, so the
// escaping does not depend on a live MYSQL* the way mysql_real_escape_string
// does — sluice's connections are all utf8mb4, where the two agree.
#include "db/sql_quote.hpp"

#include <fmt/format.h>

namespace sluice::db {
namespace {

/// Decodes one UTF-8 sequence at `text[i]`; returns its length (advancing
/// nothing) and the code point, or 0 when the bytes are not valid UTF-8.
std::size_t DecodeUtf8(std::string_view text, std::size_t i, char32_t& cp) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t length = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return length;
}

}  // namespace

long Utf8Length(std::string_view text) {
  long count = 0;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    std::size_t n = DecodeUtf8(text, i, cp);
    if (n == 0) return -1;
    i += n;
    ++count;
  }
  return count;
}

core::Status ValidateIdentifier(std::string_view name) {
  if (name.empty()) return core::Status::Invalid("an identifier cannot be empty");
  std::size_t chars = 0;
  for (std::size_t i = 0; i < name.size();) {
    char32_t cp = 0;
    std::size_t n = DecodeUtf8(name, i, cp);
    if (n == 0) return core::Status::Invalid(fmt::format("identifier is not valid UTF-8 (byte {})", i));
    if (cp == 0) return core::Status::Invalid("identifier contains a NUL character");
    if (cp > 0xFFFF) {
      return core::Status::Invalid(
          fmt::format("identifier contains U+{:X}, outside the Basic Multilingual Plane MariaDB names allow",
                      static_cast<unsigned>(cp)));
    }
    i += n;
    ++chars;
  }
  if (chars > kMaxIdentifierChars) {
    return core::Status::Invalid(
        fmt::format("identifier has {} characters; MariaDB allows at most {}", chars, kMaxIdentifierChars));
  }
  if (name.back() == ' ') return core::Status::Invalid("identifier ends with a space, which MariaDB refuses");
  return core::Status::Ok();
}

core::Result<std::string> QuoteIdentifier(std::string_view name) {
  core::Status status = ValidateIdentifier(name);
  if (!status.ok()) return status;
  std::string out;
  out.reserve(name.size() + 2);
  AppendIdentifier(out, name);
  return out;
}

void AppendIdentifier(std::string& out, std::string_view name) {
  out.push_back('`');
  for (char c : name) {
    if (c == '`') out.push_back('`');
    out.push_back(c);
  }
  out.push_back('`');
}

std::string QuoteString(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  AppendString(out, text);
  return out;
}

void AppendString(std::string& out, std::string_view text) {
  out.push_back('\'');
  for (char c : text) {
    switch (c) {
      case '\0': out += "\\0"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '"': out += "\\\""; break;
      case '\x1a': out += "\\Z"; break;
      default: out.push_back(c);
    }
  }
  out.push_back('\'');
}

}  // namespace sluice::db
