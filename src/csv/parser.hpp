// Parser: one block (whole rows, from BlockSplitter) → rows of fields, plus the
// bad rows with their line numbers and reasons. Runs on a worker; pure.
//
// The rules (RFC 4180, plus what real files do):
//  - fields are separated by the delimiter, rows by LF, CRLF or a lone CR;
//  - a field that starts with the quote is quoted: delimiters, CR and LF in it
//    are data, `""` is one quote, and bytes after the closing quote up to the
//    next delimiter are kept literally (`"ab"c` is `abc`);
//  - a quote anywhere else is a literal character (`5'11"`);
//  - whitespace is kept as is; empty lines are skipped (they are not rows);
//  - the last row may or may not end with a line end.
// A row is bad when its field count differs from the expected one, a field is
// longer than max_field_bytes, a field is not valid UTF-8 (in a UTF-8 file) or
// a quoted field never closes. Bad rows are reported, never loaded.
//
// Fields are string_views into the parsed block's own text: the block's bytes
// for UTF-8 (a field with `""` is unescaped in place, which only shortens it),
// or the UTF-8 transcoding of the block for Latin-1. Validation is one SIMD
// pass over the whole block; only a block that fails it is checked field by
// field to find the bad rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "csv/dialect.hpp"
#include "csv/encoding.hpp"
#include "csv/splitter.hpp"

namespace sluice::csv {

/// Why a row was rejected.
enum class BadRowKind {
  kFieldCount,    ///< not as many fields as the header
  kEncoding,      ///< invalid UTF-8 in a UTF-8 file
  kFieldTooLong,  ///< a field over max_field_bytes
  kUnterminated,  ///< a quoted field that never closes (only at the end of the file)
};

/// A rejected row, as the upload record reports it.
struct BadRow {
  std::uint64_t line = 0;    ///< 1-based line where the row starts
  std::uint64_t record = 0;  ///< its record number (see Block::first_record)
  BadRowKind kind = BadRowKind::kFieldCount;
  std::string reason;        ///< e.g. "expected 12 fields, found 11"
};

/// Default for ParseOptions::max_field_bytes.
inline constexpr std::size_t kDefaultMaxFieldBytes = std::size_t{16} << 20;
/// Default for ParseOptions::max_bad_rows (API.md reports the first 1000).
inline constexpr std::size_t kDefaultMaxBadRows = 1000;

/// How to parse one block.
struct ParseOptions {
  Dialect dialect;
  Encoding encoding = Encoding::kUtf8;  ///< kUtf8 or kLatin1 (decide kAuto first)
  std::size_t expected_fields = 0;      ///< 0: the block's first row sets it
  bool skip_header = false;             ///< the block's first row is the header: not a data row
  std::size_t max_field_bytes = kDefaultMaxFieldBytes;
  std::size_t max_bad_rows = kDefaultMaxBadRows;  ///< BadRow entries kept (all are counted)
};

/// One good row.
struct RowView {
  std::uint64_t line = 0;    ///< 1-based line where the row starts
  std::uint64_t record = 0;  ///< record number in the file
  std::span<const std::string_view> fields;
};

/// The rows of one block. Movable; the views stay valid while it lives.
class ParsedBlock {
 public:
  ParsedBlock() = default;

  /// Good rows, in file order.
  std::size_t row_count() const noexcept { return lines_.size(); }
  /// Good row `i` (< row_count()).
  RowView row(std::size_t i) const noexcept {
    return RowView{lines_[i], records_[i],
                   std::span<const std::string_view>(fields_).subspan(i * field_count_, field_count_)};
  }
  /// Fields per good row (the expected count).
  std::size_t field_count() const noexcept { return field_count_; }
  /// The header's fields when ParseOptions::skip_header (else empty).
  std::span<const std::string_view> header() const noexcept { return header_; }
  /// The first max_bad_rows bad rows.
  const std::vector<BadRow>& bad_rows() const noexcept { return bad_rows_; }
  /// All bad rows, kept or not.
  std::uint64_t bad_row_count() const noexcept { return bad_row_count_; }
  /// Records seen: good + bad + the header when skipped (= Block::record_count).
  std::uint64_t record_count() const noexcept { return record_count_; }
  /// Bytes this block holds (text + field table), for the memory budget.
  std::size_t memory_bytes() const noexcept;

  /// Takes the text buffer (for BlockSplitter::Recycle) and empties the
  /// block: every row view dies with it.
  std::string ReleaseText();

 private:
  friend ParsedBlock ParseBlock(Block block, const ParseOptions& options);
  std::unique_ptr<std::string> text_;  // stable address: the views point into it
  std::vector<std::string_view> fields_;
  std::vector<std::uint64_t> lines_;
  std::vector<std::uint64_t> records_;
  std::vector<std::string_view> header_;
  std::vector<BadRow> bad_rows_;
  std::size_t field_count_ = 0;
  std::uint64_t bad_row_count_ = 0;
  std::uint64_t record_count_ = 0;
};

/// Parses `block` (taking its bytes) with `options`.
ParsedBlock ParseBlock(Block block, const ParseOptions& options);

/// The first row of `data` (e.g. the header of the first block), decoded to
/// UTF-8 in `encoding` (kUtf8 or kLatin1). Errors (kInvalid): no row, invalid
/// UTF-8, an unterminated quote, a field over max_field_bytes.
core::Result<std::vector<std::string>> ParseFirstRow(std::string_view data, const Dialect& dialect,
                                                     Encoding encoding,
                                                     std::size_t max_field_bytes = kDefaultMaxFieldBytes);

}  // namespace sluice::csv
