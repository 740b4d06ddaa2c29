// Block parser: a hand-written state machine over the block's bytes.
//
// An unquoted field is a scan to the next delimiter, CR or LF (16 bytes at a
// time with SSE2 where the block has room, a byte table otherwise); a quoted
// field is a scan to the next quote, CR or LF, counting the line ends inside
// it. Fields are appended straight into the block's flat field table; a bad
// row's fields are dropped again, so good rows are `field_count` consecutive
// entries. A quoted field with `""` or bytes after its closing quote is
// compacted in place, over its own opening quote, which the output never
// overtakes.
#include "csv/parser.hpp"

#include <fmt/format.h>

#include <array>
#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sluice::csv {
namespace {

using ByteTable = std::array<bool, 256>;

ByteTable MakeTable(char a, char b, char c) {
  ByteTable t{};
  t[static_cast<unsigned char>(a)] = true;
  t[static_cast<unsigned char>(b)] = true;
  t[static_cast<unsigned char>(c)] = true;
  return t;
}

/// How one record ended.
struct RecordInfo {
  std::uint64_t line = 0;     // where it starts
  std::size_t first_field = 0;  // index in the field table
  bool unterminated = false;  // a quoted field ran to the end of the block
  bool ended_by_eol = false;  // a line end (not the end of the block) closed it
};

}  // namespace

/// Parses the records of one mutable buffer into a ParsedBlock's field table.
class BlockParser {
 public:
  BlockParser(const Dialect& dialect, char* begin, char* end, std::uint64_t first_line,
              std::vector<std::string_view>& fields)
      : p_(begin),
        end_(end),
        line_(first_line),
        delimiter_(dialect.delimiter),
        quote_(dialect.quote),
        unquoted_stop_(MakeTable(dialect.delimiter, '\n', '\r')),
        quoted_stop_(MakeTable(dialect.quote, '\n', '\r')),
        fields_(fields) {}

  /// Skips blank lines; false at the end of the buffer.
  bool AtRecord() {
    while (p_ < end_ && (*p_ == '\n' || *p_ == '\r')) {
      p_ += (*p_ == '\r' && p_ + 1 < end_ && p_[1] == '\n') ? 2 : 1;
      ++line_;
    }
    return p_ < end_;
  }

  /// Parses the record at the cursor (AtRecord() was true), appending its
  /// fields to the field table.
  RecordInfo ParseRecord() {
    RecordInfo info;
    info.line = line_;
    info.first_field = fields_.size();
    for (;;) {
      if (p_ < end_ && *p_ == quote_) {
        if (!ParseQuoted()) {
          info.unterminated = true;
          return info;
        }
      } else {
        char* begin = p_;
        p_ = ScanUnquoted(p_);
        fields_.emplace_back(begin, static_cast<std::size_t>(p_ - begin));
      }
      if (p_ == end_) return info;
      if (*p_ == delimiter_) {
        ++p_;
        continue;
      }
      p_ += (*p_ == '\r' && p_ + 1 < end_ && p_[1] == '\n') ? 2 : 1;  // CR, LF or CRLF
      ++line_;
      info.ended_by_eol = true;
      return info;
    }
  }

  const char* cursor() const noexcept { return p_; }

 private:
  /// The end of the unquoted run starting at `p`: the next delimiter, CR, LF
  /// or the end of the buffer.
  char* ScanUnquoted(char* p) const {
#if defined(__SSE2__)
    const __m128i d = _mm_set1_epi8(delimiter_);
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
    while (end_ - p >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, d), _mm_cmpeq_epi8(v, lf)),
                                       _mm_cmpeq_epi8(v, cr));
      const int mask = _mm_movemask_epi8(hit);
      if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
      p += 16;
    }
#endif
    while (p < end_ && !unquoted_stop_[static_cast<unsigned char>(*p)]) ++p;
    return p;
  }

  /// Parses the quoted field at the cursor; false if it never closes (the
  /// field then runs to the end of the buffer).
  bool ParseQuoted() {
    char* const open = p_;
    char* const content = p_ + 1;
    char* r = content;
    bool escaped = false;
    for (;;) {
      while (r < end_ && !quoted_stop_[static_cast<unsigned char>(*r)]) ++r;
      if (r == end_) {
        fields_.emplace_back(content, static_cast<std::size_t>(end_ - content));
        p_ = end_;
        return false;
      }
      if (*r == quote_) {
        if (r + 1 < end_ && r[1] == quote_) {
          escaped = true;
          r += 2;
          continue;
        }
        break;
      }
      r += (*r == '\r' && r + 1 < end_ && r[1] == '\n') ? 2 : 1;  // a line end inside quotes
      ++line_;
    }
    char* const close = r;
    char* const after = close + 1;
    char* const tail_end = ScanUnquoted(after);  // literal bytes after the closing quote
    if (!escaped && tail_end == after) {
      fields_.emplace_back(content, static_cast<std::size_t>(close - content));
    } else {
      char* w = open;
      for (char* s = content; s < close; ++s) {
        *w++ = *s;
        if (*s == quote_) ++s;  // the second quote of a pair
      }
      const auto tail = static_cast<std::size_t>(tail_end - after);
      std::memmove(w, after, tail);
      w += tail;
      fields_.emplace_back(open, static_cast<std::size_t>(w - open));
    }
    p_ = tail_end;
    return true;
  }

  char* p_;
  char* const end_;
  std::uint64_t line_;
  const char delimiter_;
  const char quote_;
  const ByteTable unquoted_stop_;
  const ByteTable quoted_stop_;
  std::vector<std::string_view>& fields_;
};

namespace {

/// The reason a row is bad, or none (kind unset) if it is good.
struct Verdict {
  bool bad = false;
  BadRowKind kind = BadRowKind::kFieldCount;
  std::string reason;
};

Verdict Judge(const RecordInfo& info, std::span<const std::string_view> fields, std::size_t expected,
              std::size_t max_field_bytes, bool validate_utf8) {
  if (info.unterminated) {
    return {true, BadRowKind::kUnterminated, "unterminated quoted field"};
  }
  if (expected != 0 && fields.size() != expected) {
    return {true, BadRowKind::kFieldCount,
            fmt::format("expected {} fields, found {}", expected, fields.size())};
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].size() > max_field_bytes) {
      return {true, BadRowKind::kFieldTooLong,
              fmt::format("field {} is {} bytes, over max_field_bytes ({})", i + 1, fields[i].size(),
                          max_field_bytes)};
    }
  }
  if (validate_utf8) {
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (!IsValidUtf8(fields[i])) {
        return {true, BadRowKind::kEncoding, fmt::format("field {} is not valid UTF-8", i + 1)};
      }
    }
  }
  return {};
}

/// The text to parse: the block's own bytes for UTF-8, a transcoding for Latin-1.
std::unique_ptr<std::string> TakeText(std::string&& data, Encoding encoding) {
  if (encoding == Encoding::kLatin1) {
    auto text = std::make_unique<std::string>(Latin1ToUtf8(data));
    data = std::string();
    return text;
  }
  return std::make_unique<std::string>(std::move(data));
}

}  // namespace

std::size_t ParsedBlock::memory_bytes() const noexcept {
  return (text_ ? text_->capacity() : 0) + fields_.capacity() * sizeof(std::string_view) +
         (lines_.capacity() + records_.capacity()) * sizeof(std::uint64_t) +
         header_.capacity() * sizeof(std::string_view) + bad_rows_.capacity() * sizeof(BadRow);
}

std::string ParsedBlock::ReleaseText() {
  std::string text = text_ ? std::move(*text_) : std::string();
  text_.reset();
  fields_.clear();
  lines_.clear();
  records_.clear();
  header_.clear();
  return text;
}

ParsedBlock ParseBlock(Block block, const ParseOptions& options) {
  ParsedBlock out;
  out.text_ = TakeText(std::move(block.data), options.encoding);
  std::string& text = *out.text_;
  const bool validate = options.encoding != Encoding::kLatin1 && !IsValidUtf8(text);
  std::size_t expected = options.expected_fields;
  if (expected != 0) out.fields_.reserve(expected * block.record_count);
  out.lines_.reserve(block.record_count);
  out.records_.reserve(block.record_count);

  BlockParser parser(options.dialect, text.data(), text.data() + text.size(), block.first_line,
                     out.fields_);
  std::uint64_t record = block.first_record;
  bool first = true;
  while (parser.AtRecord()) {
    const RecordInfo info = parser.ParseRecord();
    const std::span<const std::string_view> fields =
        std::span<const std::string_view>(out.fields_).subspan(info.first_field);
    if (expected == 0) expected = fields.size();
    if (first && options.skip_header) {
      out.header_.assign(fields.begin(), fields.end());
      out.fields_.resize(info.first_field);
    } else if (Verdict v = Judge(info, fields, expected, options.max_field_bytes, validate); v.bad) {
      out.fields_.resize(info.first_field);
      ++out.bad_row_count_;
      if (out.bad_rows_.size() < options.max_bad_rows) {
        out.bad_rows_.push_back(BadRow{info.line, record, v.kind, std::move(v.reason)});
      }
    } else {
      out.lines_.push_back(info.line);
      out.records_.push_back(record);
    }
    first = false;
    ++record;
  }
  out.field_count_ = expected;
  out.record_count_ = record - block.first_record;
  return out;
}

core::Result<std::vector<std::string>> ParseFirstRow(std::string_view data, const Dialect& dialect,
                                                     Encoding encoding, std::size_t max_field_bytes) {
  // Parse a prefix, doubling it until it holds the whole first row.
  std::size_t n = std::min<std::size_t>(data.size(), std::size_t{64} << 10);
  for (;;) {
    std::unique_ptr<std::string> text = TakeText(std::string(data.substr(0, n)), encoding);
    std::vector<std::string_view> fields;
    BlockParser parser(dialect, text->data(), text->data() + text->size(), 1, fields);
    if (!parser.AtRecord()) {
      if (n < data.size()) {
        n = std::min(data.size(), n * 2);
        continue;
      }
      return core::Status::Invalid("no row: the file is empty");
    }
    const RecordInfo info = parser.ParseRecord();
    if (!info.ended_by_eol && n < data.size()) {
      n = std::min(data.size(), n * 2);
      continue;
    }
    Verdict v = Judge(info, fields, 0, max_field_bytes, encoding != Encoding::kLatin1);
    if (v.bad) return core::Status::Invalid(fmt::format("the first row is bad: {}", v.reason));
    return std::vector<std::string>(fields.begin(), fields.end());
  }
}

}  // namespace sluice::csv
