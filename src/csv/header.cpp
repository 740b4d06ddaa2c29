// Column naming: clean each header cell, cut it to 64 characters, then
// resolve duplicates in two passes (first the names that are unique keep
// them, then each later duplicate takes the smallest free `_k`).
//
// Names are handled as code points (decoded once, re-encoded at the end), so
// the 64-character cut and the suffixes never split a UTF-8 sequence. The
// duplicate key is a simple upper-case fold, which is what MariaDB's
// my_strcasecmp over utf8mb3_general_ci does for the scripts folded here;
// accents stay distinct (`e` and `é` are two columns), as in MariaDB.
#include "csv/header.hpp"

#include <fmt/format.h>

#include <unordered_set>

namespace sluice::csv {
namespace {

constexpr char32_t kReplacement = 0xFFFD;
constexpr char32_t kBom = 0xFEFF;

/// Decodes UTF-8; an invalid or truncated sequence is one U+FFFD per byte.
std::u32string Decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      len = 1, cp = b0;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      ok = (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3F);
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    if (!ok) {
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void Encode(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string Encode(const std::u32string& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) Encode(cp, out);
  return out;
}

bool IsSpace(char32_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

void TrimEnd(std::u32string& s) {
  while (!s.empty() && IsSpace(s.back())) s.pop_back();
}

/// Trimmed, BOM-less, with characters MariaDB refuses replaced.
std::u32string Clean(std::string_view cell) {
  std::u32string s = Decode(cell);
  std::size_t b = 0;
  while (b < s.size() && (IsSpace(s[b]) || s[b] == kBom)) ++b;
  s.erase(0, b);
  TrimEnd(s);
  for (char32_t& c : s) {
    if (c == 0 || c > 0xFFFF) c = kReplacement;
  }
  return s;
}

/// `s` cut to `chars` code points, without trailing whitespace.
std::u32string Cut(std::u32string s, std::size_t chars) {
  if (s.size() > chars) s.resize(chars);
  TrimEnd(s);
  return s;
}

char32_t FoldChar(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 0x20 : c;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 0x20;       // à..þ
  if (c == 0xFF) return 0x178;                                      // ÿ
  if (c >= 0x100 && c <= 0x17F) {                                   // Latin Extended-A
    if (c == 0x131) return 'I';                                     // dotless i
    if (c == 0x17F) return 'S';                                     // long s
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) {
      return (c % 2 == 0) ? c - 1 : c;                              // odd upper, even lower
    }
    if (c == 0x138 || c == 0x149 || c == 0x178) return c;
    return (c % 2 == 1) ? c - 1 : c;                                // even upper, odd lower
  }
  if (c >= 0x3B1 && c <= 0x3C9) return c == 0x3C2 ? 0x3A3 : c - 0x20;  // Greek α..ω, final ς
  if (c == 0x3AC) return 0x386;
  if (c >= 0x3AD && c <= 0x3AF) return c - 0x25;
  if (c == 0x3CC) return 0x38C;
  if (c == 0x3CD || c == 0x3CE) return c - 0x3F;
  if (c >= 0x430 && c <= 0x44F) return c - 0x20;                  // Cyrillic а..я
  if (c >= 0x450 && c <= 0x45F) return c - 0x50;                  // ѐ..џ
  return c;
}

std::string Fold(const std::u32string& s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) Encode(FoldChar(c), out);
  return out;
}

}  // namespace

std::string FoldColumnName(std::string_view name) { return Fold(Decode(name)); }

bool SameColumnName(std::string_view a, std::string_view b) {
  return FoldColumnName(a) == FoldColumnName(b);
}

std::vector<Column> NameColumns(std::span<const std::string_view> header) {
  const std::size_t n = header.size();
  std::vector<std::u32string> names(n);
  for (std::size_t i = 0; i < n; ++i) {
    names[i] = Clean(header[i]);
    if (names[i].empty()) names[i] = Decode(fmt::format("c{}", i + 1));
    names[i] = Cut(std::move(names[i]), kMaxColumnNameChars);
  }

  std::unordered_set<std::string> taken{FoldColumnName(kRowKeyColumn)};
  std::vector<bool> keeps(n, false);
  for (std::size_t i = 0; i < n; ++i) keeps[i] = taken.insert(Fold(names[i])).second;
  for (std::size_t i = 0; i < n; ++i) {
    if (keeps[i]) continue;
    for (std::size_t k = 2;; ++k) {
      const std::u32string suffix = Decode(fmt::format("_{}", k));
      std::u32string candidate = Cut(names[i], kMaxColumnNameChars - suffix.size()) + suffix;
      if (taken.insert(Fold(candidate)).second) {
        names[i] = std::move(candidate);
        break;
      }
    }
  }

  std::vector<Column> columns(n);
  for (std::size_t i = 0; i < n; ++i) {
    columns[i].name = Encode(names[i]);
    columns[i].header = std::string(header[i]);
  }
  return columns;
}

std::vector<Column> NameColumns(std::span<const std::string> header) {
  std::vector<std::string_view> views(header.begin(), header.end());
  return NameColumns(std::span<const std::string_view>(views));
}

std::vector<Column> DefaultColumns(std::size_t count) {
  std::vector<Column> columns(count);
  for (std::size_t i = 0; i < count; ++i) columns[i].name = fmt::format("c{}", i + 1);
  return columns;
}

}  // namespace sluice::csv
