// ResultWriter (see result_writer.hpp). The per-row paths are the hot loop of
// a large answer, so keys are escaped once up front, JSON strings go through
// core::AppendJsonString (runs between the bytes that need escaping appended
// whole, found eight bytes at a time), CSV fields are scanned once, eight bytes
// at a time, for the characters that force quoting, and nothing allocates per
// cell beyond the caller's buffer growing.
#include "query/result_writer.hpp"

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

/// True when a CSV field holding `field` must be quoted: it has `,` `"` CR or
/// LF. Eight bytes at a time.
bool NeedsQuotes(std::string_view field) {
  const char* data = field.data();
  std::size_t i = 0;
  for (; field.size() - i >= 8; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, data + i, 8);
    if (WordNeedsQuotes(word) != 0) return true;
  }
  for (; i < field.size(); ++i) {
    char c = data[i];
    if (c == ',' || c == '"' || c == '\r' || c == '\n') return true;
  }
  return false;
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

void ResultWriter::JsonObject(std::string& out, const RowView& row) {
  out.push_back('{');
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    out += json_keys_[i];  // `,"name":` (no comma for the first)
    if (row.cells[i] == nullptr) {
      out += "null";
      continue;
    }
    std::string_view cell(row.cells[i], row.lengths[i]);
    if (columns_[i].numeric && IsJsonNumber(cell)) {
      out.append(cell);
    } else {
      core::AppendJsonString(out, cell);
    }
  }
  out.push_back('}');
}

void ResultWriter::CsvField(std::string& out, std::string_view field) {
  if (!NeedsQuotes(field)) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void ResultWriter::Row(std::string& out, const RowView& row) {
  switch (format_) {
    case Format::kJson:
      if (rows_ > 0) out.push_back(',');
      JsonObject(out, row);
      break;
    case Format::kNdjson:
      JsonObject(out, row);
      out.push_back('\n');
      break;
    case Format::kCsv:
      for (std::size_t i = 0; i < columns_.size(); ++i) {
        if (i > 0) out.push_back(',');
        if (row.cells[i] != nullptr) CsvField(out, std::string_view(row.cells[i], row.lengths[i]));
      }
      out += "\r\n";
      break;
  }
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
