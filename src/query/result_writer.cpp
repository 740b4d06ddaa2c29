// ResultWriter (see result_writer.hpp). The per-row paths are the hot loop of
// a large answer, so keys are escaped once up front, JSON strings go through
// core::AppendJsonString (runs between the bytes that need escaping appended
// whole, found eight bytes at a time), CSV fields are scanned once, eight bytes
// at a time, for the characters that force quoting. A row is written with
// plain pointer stores into a scratch buffer sized for its worst case and
// appended to the caller's buffer in one piece, so nothing allocates or
// checks capacity per cell.
#include "query/result_writer.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "core/json_writer.hpp"

namespace sluice::query {
namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

/// Non-zero when some byte of `word` is zero (exact about "some").
constexpr std::uint64_t HasZeroByte(std::uint64_t word) { return (word - kOnes) & ~word & kHighBits; }

/// Non-zero when some byte of `word` is `,` `"` CR or LF.
constexpr std::uint64_t WordNeedsQuotes(std::uint64_t word) {
  return HasZeroByte(word ^ (kOnes * ',')) | HasZeroByte(word ^ (kOnes * '"')) | HasZeroByte(word ^ (kOnes * '\r')) |
         HasZeroByte(word ^ (kOnes * '\n'));
}

/// 1 for the bytes that make a CSV field need quotes: `,` `"` CR LF.
constexpr auto kCsvQuote = [] {
  std::array<unsigned char, 256> table{};
  table[','] = 1;
  table['"'] = 1;
  table['\r'] = 1;
  table['\n'] = 1;
  return table;
}();

/// `field` quoted at `p`, quotes doubled (room: 2 × size + 2); returns the end.
char* WriteQuotedCsvField(char* p, std::string_view field) {
  *p++ = '"';
  for (char c : field) {
    if (c == '"') *p++ = '"';
    *p++ = c;
  }
  *p++ = '"';
  return p;
}

}  // namespace

std::string_view ContentType(Format format) {
  switch (format) {
    case Format::kCsv: return "text/csv; charset=utf-8; header=present";
    case Format::kNdjson: return "application/x-ndjson; charset=utf-8";
    case Format::kJson: break;
  }
  return "application/json; charset=utf-8";
}

bool IsJsonNumber(std::string_view text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (i < n && text[i] == '-') ++i;
  if (i >= n) return false;
  if (text[i] == '0') {
    ++i;
  } else if (text[i] >= '1' && text[i] <= '9') {
    while (i < n && text[i] >= '0' && text[i] <= '9') ++i;
  } else {
    return false;
  }
  if (i < n && text[i] == '.') {
    ++i;
    std::size_t start = i;
    while (i < n && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    std::size_t start = i;
    while (i < n && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == start) return false;
  }
  return i == n;
}

ResultWriter::ResultWriter(Format format, std::vector<OutputColumn> columns, PageHead head)
    : format_(format), columns_(std::move(columns)), head_(std::move(head)) {
  for (const auto& column : columns_) {
    std::string key = json_keys_.empty() ? "" : ",";
    core::AppendJsonString(key, column.name);
    key.push_back(':');
    keys_bytes_ += key.size();
    json_keys_.push_back(std::move(key));
  }
}

void ResultWriter::Begin(std::string& out) {
  switch (format_) {
    case Format::kJson:
      out += "{\"table\":";
      core::AppendJsonString(out, head_.table);
      out += ",\"total\":";
      out += head_.total ? std::to_string(*head_.total) : "null";
      out += ",\"offset\":";
      out += std::to_string(head_.offset);
      out += ",\"limit\":";
      out += std::to_string(head_.limit);
      out += ",\"rows\":[";
      return;
    case Format::kCsv:
      for (std::size_t i = 0; i < columns_.size(); ++i) {
        if (i > 0) out.push_back(',');
        CsvField(out, columns_[i].name);
      }
      out += "\r\n";
      return;
    case Format::kNdjson:
      return;
  }
}

char* ResultWriter::Room(std::size_t bytes) {
  if (scratch_.size() < bytes) scratch_.resize(std::max(bytes, scratch_.size() * 2));
  return scratch_.data();
}

char* ResultWriter::JsonObject(char* p, const RowView& row) {
  *p++ = '{';
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    const std::string& key = json_keys_[i];  // `,"name":` (no comma for the first)
    std::memcpy(p, key.data(), key.size());
    p += key.size();
    if (row.cells[i] == nullptr) {
      std::memcpy(p, "null", 4);
      p += 4;
      continue;
    }
    std::string_view cell(row.cells[i], row.lengths[i]);
    if (columns_[i].numeric && IsJsonNumber(cell)) {
      std::memcpy(p, cell.data(), cell.size());
      p += cell.size();
    } else {
      p = core::WriteJsonString(p, cell);
    }
  }
  *p++ = '}';
  return p;
}

char* ResultWriter::WriteCsvField(char* p, std::string_view field) {
  // Copied eight bytes at a time while checked; a byte that needs quoting
  // (rare) starts the field over, quoted.
  char* start = p;
  const char* data = field.data();
  const std::size_t size = field.size();
  std::size_t i = 0;
  for (; size - i >= 8; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    if (WordNeedsQuotes(word) != 0) return WriteQuotedCsvField(start, field);
    std::memcpy(p, &word, 8);
    p += 8;
  }
  const std::size_t left = size - i;
  if (left == 0) return p;
  if (size >= 8) {  // the tail: the field's last eight bytes, rewriting the plain ones before it
    std::uint64_t word;
    std::memcpy(&word, data + size - 8, 8);
    if (WordNeedsQuotes(word) != 0) return WriteQuotedCsvField(start, field);
    std::memcpy(p + left - 8, &word, 8);
    return p + left;
  }
  for (; i < size; ++i) {
    auto c = static_cast<unsigned char>(data[i]);
    if (kCsvQuote[c] != 0) return WriteQuotedCsvField(start, field);
    *p++ = static_cast<char>(c);
  }
  return p;
}

void ResultWriter::CsvField(std::string& out, std::string_view field) {
  char* start = Room(2 * field.size() + 2);
  out.append(start, static_cast<std::size_t>(WriteCsvField(start, field) - start));
}

void ResultWriter::Row(std::string& out, const RowView& row) {
  // The row is written into scratch_, sized once for the worst case (every
  // byte escaped), then appended in one piece: no capacity check per cell.
  std::size_t bound = 4 + keys_bytes_;
  const std::size_t columns = columns_.size();
  for (std::size_t i = 0; i < columns; ++i) {
    if (row.cells[i] != nullptr) bound += core::MaxJsonStringSize(row.lengths[i]) + 1;
    bound += 4;  // null, a comma
  }
  char* start = Room(bound);
  char* p = start;
  switch (format_) {
    case Format::kJson:
      if (rows_ > 0) *p++ = ',';
      p = JsonObject(p, row);
      break;
    case Format::kNdjson:
      p = JsonObject(p, row);
      *p++ = '\n';
      break;
    case Format::kCsv:
      for (std::size_t i = 0; i < columns; ++i) {
        if (i > 0) *p++ = ',';
        if (row.cells[i] == nullptr) continue;
        if (columns_[i].numeric) {  // a number's text never holds , " CR or LF
          std::memcpy(p, row.cells[i], row.lengths[i]);
          p += row.lengths[i];
        } else {
          p = WriteCsvField(p, std::string_view(row.cells[i], row.lengths[i]));
        }
      }
      *p++ = '\r';
      *p++ = '\n';
      break;
  }
  out.append(start, static_cast<std::size_t>(p - start));
  ++rows_;
}

void ResultWriter::End(std::string& out, const std::optional<std::string>& next_cursor) {
  if (format_ != Format::kJson) return;
  out += "],\"next_cursor\":";
  if (next_cursor) {
    core::AppendJsonString(out, *next_cursor);
  } else {
    out += "null";
  }
  out.push_back('}');
}

}  // namespace sluice::query
