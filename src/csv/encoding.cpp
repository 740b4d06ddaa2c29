// UTF-8 validation (simdjson), Windows-1252 → UTF-8 transcoding, BOM helpers
// and the `auto` rule. The transcoder copies runs of ASCII eight bytes at a
// time and writes two bytes (or three, for cp1252's 0x80–0x9F punctuation)
// per high byte, so Latin-1 files parse at close to the UTF-8 speed.
#include "csv/encoding.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

namespace sluice::csv {
namespace {

// Windows-1252 0x80–0x9F; the undefined five map to the C1 control of the
// same value, as MariaDB's latin1 does.
constexpr std::array<char16_t, 32> kCp1252High = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,  // 80–87
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,  // 88–8F
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,  // 90–97
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,  // 98–9F
};

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return AsciiLower(x) == AsciiLower(y); });
}

// Writes a BMP code point >= U+0080 as UTF-8 at `w`; returns the end.
char* WriteCodePoint(char16_t cp, char* w) {
  if (cp < 0x800) {
    *w++ = static_cast<char>(0xC0 | (cp >> 6));
  } else {
    *w++ = static_cast<char>(0xE0 | (cp >> 12));
    *w++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  }
  *w++ = static_cast<char>(0x80 | (cp & 0x3F));
  return w;
}

}  // namespace

core::Result<Encoding> ParseEncoding(std::string_view name) {
  for (std::string_view n : {"utf-8", "utf8"}) {
    if (EqualsNoCase(name, n)) return Encoding::kUtf8;
  }
  for (std::string_view n : {"latin-1", "latin1", "iso-8859-1", "cp1252", "windows-1252"}) {
    if (EqualsNoCase(name, n)) return Encoding::kLatin1;
  }
  if (EqualsNoCase(name, "auto")) return Encoding::kAuto;
  return core::Status::Invalid(
      fmt::format("encoding must be utf-8, latin-1 or auto, got '{}'", name));
}

std::string_view EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kUtf8: return "utf-8";
    case Encoding::kLatin1: return "latin-1";
    case Encoding::kAuto: return "auto";
  }
  return "auto";
}

bool IsValidUtf8(std::string_view text) noexcept {
  return simdjson::validate_utf8(text.data(), text.size());
}

bool HasUtf8Bom(std::string_view text) noexcept { return text.substr(0, kUtf8Bom.size()) == kUtf8Bom; }

std::string_view StripUtf8Bom(std::string_view text) noexcept {
  return HasUtf8Bom(text) ? text.substr(kUtf8Bom.size()) : text;
}

void AppendLatin1AsUtf8(std::string_view latin1, std::string& out) {
  // Worst case 3 bytes per input byte (cp1252 punctuation), usually ~1.
  const std::size_t start = out.size();
  out.resize(start + latin1.size() * 3);
  char* w = out.data() + start;
  const char* r = latin1.data();
  const char* const end = r + latin1.size();
  while (r < end) {
    if (end - r >= 8) {  // copy eight ASCII bytes at once
      std::uint64_t word;
      std::memcpy(&word, r, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        std::memcpy(w, r, 8);
        r += 8;
        w += 8;
        continue;
      }
    }
    const auto byte = static_cast<unsigned char>(*r++);
    if (byte < 0x80) {
      *w++ = static_cast<char>(byte);
    } else if (byte >= 0xA0) {  // Latin-1 proper: U+00A0–U+00FF
      w = WriteCodePoint(byte, w);
    } else {
      w = WriteCodePoint(kCp1252High[byte - 0x80], w);
    }
  }
  out.resize(static_cast<std::size_t>(w - out.data()));
}

std::string Latin1ToUtf8(std::string_view latin1) {
  std::string out;
  AppendLatin1AsUtf8(latin1, out);
  return out;
}

Encoding DecideEncoding(Encoding requested, std::string_view first_block, bool had_bom) noexcept {
  if (requested != Encoding::kAuto) return requested;
  if (had_bom || HasUtf8Bom(first_block) || IsValidUtf8(first_block)) return Encoding::kUtf8;
  return Encoding::kLatin1;
}

}  // namespace sluice::csv
