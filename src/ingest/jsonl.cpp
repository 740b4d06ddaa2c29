// See jsonl.hpp. Each line is copied into a padded buffer (simdjson reads up
// to SIMDJSON_PADDING bytes past the end) and iterated once with the On
// Demand API; values are appended to the block's arena as they are met. The
// parser is per worker thread (thread_local), so blocks parse in parallel
// without sharing anything.
#include "ingest/jsonl.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <unordered_map>

namespace sluice::ingest {
namespace {

constexpr char kJsonlDelimiter = '\x1f';
constexpr char kJsonlQuote = '\x1e';

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimRight(std::string_view text) {
  while (!text.empty() && IsJsonSpace(text.back())) text.remove_suffix(1);
  return text;
}

/// True unless something other than whitespace follows the line's first
/// value (when that value is an object or array; scalars are refused later).
bool OneValue(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && IsJsonSpace(line[i])) ++i;
  if (i == line.size() || (line[i] != '{' && line[i] != '[')) return true;
  int depth = 0;
  bool in_string = false;
  for (; i < line.size(); ++i) {
    char c = line[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) break;
    }
  }
  for (++i; i < line.size(); ++i) {
    if (!IsJsonSpace(line[i])) return false;
  }
  return true;
}

/// Parses one line into `out`'s arena and cells; an error message, or empty.
std::string ParseLine(std::string_view line, JsonBlock& out, std::unordered_map<std::string, std::uint32_t>& key_index,
                      std::size_t max_field_bytes) {
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string padded;
  padded.assign(line);
  padded.resize(line.size() + simdjson::SIMDJSON_PADDING, ' ');

  const std::size_t first_cell = out.cells.size();
  const std::size_t arena_mark = out.arena.size();
  auto fail = [&](std::string message) {
    out.cells.resize(first_cell);
    out.arena.resize(arena_mark);
    return message;
  };
  auto bad_json = [&](simdjson::error_code error) {
    return fail(fmt::format("invalid JSON: {}", simdjson::error_message(error)));
  };

  // On Demand reads the first value and stops: what follows it must be nothing.
  if (!OneValue(line)) return fail("invalid JSON: more than one value on the line");
  simdjson::ondemand::document doc;
  if (auto error = parser.iterate(padded.data(), line.size(), padded.size()).get(doc)) return bad_json(error);
  simdjson::ondemand::object object;
  if (auto error = doc.get_object().get(object)) {
    return error == simdjson::INCORRECT_TYPE ? fail("not a JSON object") : bad_json(error);
  }
  for (auto field_result : object) {
    if (auto error = field_result.error()) return bad_json(error);
    simdjson::ondemand::field field = field_result.value_unsafe();
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return bad_json(error);
    simdjson::ondemand::value value = field.value();
    simdjson::ondemand::json_type type;
    if (auto error = value.type().get(type)) return bad_json(error);
    std::string_view text;
    bool null = false;
    switch (type) {
      case simdjson::ondemand::json_type::string:
        if (auto error = value.get_string().get(text)) return bad_json(error);
        break;
      case simdjson::ondemand::json_type::number:
        text = TrimRight(value.raw_json_token());
        if (!IsJsonNumber(text)) return fail(fmt::format("invalid JSON: bad number '{}'", text));
        break;
      case simdjson::ondemand::json_type::boolean: {
        bool flag = false;
        if (auto error = value.get_bool().get(flag)) return bad_json(error);
        text = flag ? "true" : "false";
        break;
      }
      case simdjson::ondemand::json_type::null: {
        bool is_null = false;
        if (auto error = value.is_null().get(is_null); error || !is_null) {
          return bad_json(error ? error : simdjson::INCORRECT_TYPE);
        }
        null = true;
        break;
      }
      case simdjson::ondemand::json_type::object: {
        simdjson::ondemand::object nested;
        if (auto error = value.get_object().get(nested)) return bad_json(error);
        if (auto error = nested.raw_json().get(text)) return bad_json(error);
        text = TrimRight(text);
        break;
      }
      case simdjson::ondemand::json_type::array: {
        simdjson::ondemand::array nested;
        if (auto error = value.get_array().get(nested)) return bad_json(error);
        if (auto error = nested.raw_json().get(text)) return bad_json(error);
        text = TrimRight(text);
        break;
      }
    }
    if (text.size() > max_field_bytes) {
      return fail(fmt::format("the value of '{}' is longer than max_field_bytes ({})", key, max_field_bytes));
    }
    auto [it, added] = key_index.try_emplace(std::string(key), static_cast<std::uint32_t>(out.keys.size()));
    if (added) out.keys.emplace_back(key);
    JsonBlock::Cell cell{it->second, static_cast<std::uint32_t>(out.arena.size()),
                         static_cast<std::uint32_t>(text.size()), null};
    out.arena.append(text);
    // A key given twice in one object: the last value counts.
    bool replaced = false;
    for (std::size_t c = first_cell; c < out.cells.size() && !replaced; ++c) {
      if (out.cells[c].key == cell.key) {
        out.cells[c] = cell;
        replaced = true;
      }
    }
    if (!replaced) out.cells.push_back(cell);
  }
  return {};
}

}  // namespace

csv::Dialect JsonlDialect() {
  csv::Dialect dialect;
  dialect.delimiter = kJsonlDelimiter;  // unit separator: raw control characters are not valid inside JSON strings
  dialect.quote = kJsonlQuote;          // record separator: likewise
  dialect.header = false;
  return dialect;
}

std::size_t JsonBlock::memory_bytes() const noexcept {
  std::size_t bytes = arena.capacity() + cells.capacity() * sizeof(Cell) + row_begin.capacity() * 4 +
                      (records.capacity() + lines.capacity()) * 8;
  for (const auto& key : keys) bytes += key.capacity() + sizeof(std::string);
  return bytes;
}

bool IsJsonNumber(std::string_view t) noexcept {
  std::size_t i = 0;
  if (i < t.size() && t[i] == '-') ++i;
  if (i >= t.size()) return false;
  if (t[i] == '0') {
    ++i;
  } else if (t[i] >= '1' && t[i] <= '9') {
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
  } else {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    std::size_t digits = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    if (i == digits) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    std::size_t digits = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    if (i == digits) return false;
  }
  return i == t.size();
}

namespace {

/// Where the row starting at `pos` ends by the splitter's rules with
/// JsonlDialect() (parser.hpp): a quote opens a quoted field at the start of
/// a field or right after a closing quote, and line ends inside quotes are
/// data. Returns the offset of the line end (or data.size()); `extra_lines`
/// gets the line ends inside quotes (CRLF counted once).
std::size_t SplitterRowEnd(std::string_view data, std::size_t pos, std::uint64_t& extra_lines) {
  bool field_start = true;
  bool after_close = false;
  bool in_quote = false;
  for (std::size_t i = pos; i < data.size(); ++i) {
    const char c = data[i];
    if (in_quote) {
      if (c == kJsonlQuote) {
        in_quote = false;
        after_close = true;
      } else if (c == '\n' || (c == '\r' && (i + 1 >= data.size() || data[i + 1] != '\n'))) {
        ++extra_lines;
      }
      continue;
    }
    if (c == kJsonlQuote && (field_start || after_close)) {
      in_quote = true;
      field_start = after_close = false;
    } else if (c == kJsonlDelimiter) {
      field_start = true;
      after_close = false;
    } else if (c == '\n' || c == '\r') {
      return i;
    } else {
      field_start = after_close = false;
    }
  }
  return data.size();
}

}  // namespace

JsonBlock ParseJsonBlock(const csv::Block& block, std::size_t max_bad_rows, std::size_t max_field_bytes) {
  JsonBlock out;
  out.arena.reserve(block.data.size());
  std::unordered_map<std::string, std::uint32_t> key_index;
  std::string_view data = block.data;
  std::uint64_t line = block.first_line;
  std::uint64_t record = block.first_record;
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t end = data.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = data.size();
    std::uint64_t extra_lines = 0;
    if (data.substr(pos, end - pos).find(kJsonlQuote) != std::string_view::npos) {
      // A raw U+001E (never valid JSON) may open a "quoted field" to the
      // splitter, which then takes the line ends after it as data: follow it,
      // so this is one (bad) row exactly where the splitter saw one — else
      // the lines after it would get record numbers (`_row`) the next block
      // also uses.
      end = SplitterRowEnd(data, pos, extra_lines);
    }
    std::string_view text = data.substr(pos, end - pos);
    // The next line starts after LF, CRLF or a lone CR (as the splitter counts them).
    std::size_t next = end;
    if (next < data.size()) next += (data[next] == '\r' && next + 1 < data.size() && data[next + 1] == '\n') ? 2 : 1;
    if (!text.empty()) {
      bool blank = true;
      for (char c : text) blank = blank && IsJsonSpace(c);
      if (!blank) {
        ++out.record_count;
        std::string error = ParseLine(text, out, key_index, max_field_bytes);
        if (error.empty()) {
          out.row_begin.push_back(static_cast<std::uint32_t>(out.cells.size()));  // this row's end, for now
          out.records.push_back(record);
          out.lines.push_back(line);
        } else {
          ++out.bad_count;
          if (out.bad.size() < max_bad_rows) {
            out.bad.push_back(csv::BadRow{line, record, csv::BadRowKind::kFieldCount, std::move(error)});
          }
        }
      }
      ++record;  // the splitter counts every non-empty line as a row
    }
    line += 1 + extra_lines;
    pos = next;
  }
  // row_begin holds each good row's end so far: turn the ends into starts.
  std::vector<std::uint32_t> begins;
  begins.reserve(out.row_begin.size() + 1);
  std::uint32_t start = 0;
  for (std::uint32_t row_end : out.row_begin) {
    begins.push_back(start);
    start = row_end;
  }
  begins.push_back(start);
  out.row_begin = std::move(begins);
  return out;
}

}  // namespace sluice::ingest
