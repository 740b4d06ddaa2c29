// ResultWriter: turns result rows, as the MariaDB connector hands them (one
// row = an array of cell pointers, NULL for SQL NULL, and their lengths), into
// the bytes of an answer — JSON, CSV or NDJSON — appended to a caller's buffer,
// so a response can be written in chunks of any size while rows stream in and
// no answer is ever built whole.
//
//   JSON    {"table":…,"total":…,"offset":…,"limit":…,"rows":[{…},…],"next_cursor":…}
//           numeric columns (from the result's field types) as JSON numbers,
//           NULL as null, everything else as strings
//   CSV     RFC 4180: a header row, CRLF line ends, a field quoted when it holds
//           a comma, quote, CR or LF (quotes doubled); NULL and '' are both empty
//   NDJSON  one JSON object per row, each ending with "\n"
//
// Pure: no loop, no connector header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "query/query_model.hpp"

namespace sluice::query {

/// One result row in the connector's layout (MYSQL_ROW + mysql_fetch_lengths).
struct RowView {
  const char* const* cells = nullptr;    ///< nullptr cell = SQL NULL
  const unsigned long* lengths = nullptr;

  /// Cell `i` (nullopt for NULL).
  std::optional<std::string_view> Cell(std::size_t i) const {
    if (cells[i] == nullptr) return std::nullopt;
    return std::string_view(cells[i], lengths[i]);
  }
};

/// A column of the answer.
struct OutputColumn {
  std::string name;
  /// The column's SQL type is a number (integer, DECIMAL, FLOAT, DOUBLE):
  /// JSON writes it as a number (when its text is one), CSV as it is (such
  /// text never holds `,` `"` CR or LF).
  bool numeric = false;
};

/// What the JSON envelope says besides the rows.
struct PageHead {
  std::string table;
  std::optional<std::uint64_t> total;  ///< null when not counted
  std::uint64_t offset = 0;
  std::uint64_t limit = 0;
};

/// The MIME type of a format's answer.
std::string_view ContentType(Format format);

/// Writes one answer; see the top of this file.
class ResultWriter {
 public:
  /// A writer of `format` for rows whose first `columns.size()` cells are the answer.
  ResultWriter(Format format, std::vector<OutputColumn> columns, PageHead head);

  /// Appends what comes before the first row (JSON's envelope, CSV's header).
  void Begin(std::string& out);
  /// Appends one row.
  void Row(std::string& out, const RowView& row);
  /// Appends what comes after the last row (JSON: `next_cursor`, null when none).
  void End(std::string& out, const std::optional<std::string>& next_cursor);

  /// The envelope, until Begin() writes it (a total learnt late goes here).
  PageHead& head() noexcept { return head_; }
  Format format() const noexcept { return format_; }
  std::uint64_t rows() const noexcept { return rows_; }

 private:
  char* Room(std::size_t bytes);
  char* JsonObject(char* p, const RowView& row);
  static char* WriteCsvField(char* p, std::string_view field);
  void CsvField(std::string& out, std::string_view field);

  Format format_;
  std::vector<OutputColumn> columns_;
  std::vector<std::string> json_keys_;  ///< `,"name":` per column (first without the comma), escaped once
  std::size_t keys_bytes_ = 0;          ///< all of json_keys_
  std::string scratch_;                 ///< one row is written here, then appended (Row)
  PageHead head_;
  std::uint64_t rows_ = 0;
};

/// True when `text` is a JSON number (RFC 8259 §6).
bool IsJsonNumber(std::string_view text);

}  // namespace sluice::query
