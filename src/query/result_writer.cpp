// ResultWriter (see result_writer.hpp). The per-row paths are the hot loop of
// a large answer, so keys are escaped once up front, JSON strings are copied
// in runs between the bytes that need escaping (a table lookup per byte, one
// append per run), CSV fields are scanned once for the characters that force
// quoting, and nothing allocates per cell beyond the caller's buffer growing.
#include "query/result_writer.hpp"

#include <array>
#include <cstring>


namespace sluice::query {
namespace {

/// 1 for the bytes a JSON string must escape: control characters, DEL, `"`, `\`.
constexpr auto kJsonEscape = [] {
  std::array<unsigned char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 1;
  table[0x7f] = 1;
  table['"'] = 1;
  table['\\'] = 1;
  return table;
}();

/// 1 for the bytes that make a CSV field need quotes: `,` `"` CR LF.
constexpr auto kCsvQuote = [] {
  std::array<unsigned char, 256> table{};
  table[','] = 1;
  table['"'] = 1;
  table['\r'] = 1;
  table['\n'] = 1;
  return table;
}();

/// core::AppendJsonString's output, faster: safe runs are appended whole.
void AppendJsonText(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  const char* data = text.data();
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(data[i]);
    if (kJsonEscape[c] == 0) continue;
    out.append(data + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(data + run, text.size() - run);
  out.push_back('"');
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
    std::string key;
    AppendJsonText(key, column.name);
    key.push_back(':');
    json_keys_.push_back(std::move(key));
  }
}

void ResultWriter::Begin(std::string& out) {
  switch (format_) {
    case Format::kJson:
      out += "{\"table\":";
      AppendJsonText(out, head_.table);
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
    if (i > 0) out.push_back(',');
    out += json_keys_[i];
    if (row.cells[i] == nullptr) {
      out += "null";
      continue;
    }
    std::string_view cell(row.cells[i], row.lengths[i]);
    if (columns_[i].numeric && IsJsonNumber(cell)) {
      out.append(cell);
    } else {
      AppendJsonText(out, cell);
    }
  }
  out.push_back('}');
}

void ResultWriter::CsvField(std::string& out, std::string_view field) {
  bool plain = true;
  for (char c : field) {
    if (kCsvQuote[static_cast<unsigned char>(c)] != 0) {
      plain = false;
      break;
    }
  }
  if (plain) {
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
    AppendJsonText(out, *next_cursor);
  } else {
    out += "null";
  }
  out.push_back('}');
}

}  // namespace sluice::query
