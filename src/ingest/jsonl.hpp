// JSON Lines (`format=jsonl`): one JSON object per line, parsed on a worker
// with simdjson's On Demand API. The table's columns are the union of the
// objects' keys in first-seen order, so a block is parsed against keys of its
// own (JsonBlock::keys) and the pipeline maps them to the table's columns in
// file order afterwards. Values keep their text: a string its unescaped
// characters, a number its token exactly as written (1.50 stays 1.50 until
// type inference decides), true/false as words, an object or array its JSON
// text; null and a missing key are SQL NULL. A line that is not one JSON
// object (or has a value over the field limit) is a bad row.
//
// The splitter cuts JSON Lines with the CSV splitter: JSON text never holds a
// raw line break inside a value, so a dialect whose delimiter and quote are
// control characters valid JSON cannot contain raw (JsonlDialect) makes every
// line end a row end. Pure: no loop, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "csv/dialect.hpp"
#include "csv/parser.hpp"
#include "csv/splitter.hpp"

namespace sluice::ingest {

/// The splitter dialect for JSON Lines (see the top of this file).
csv::Dialect JsonlDialect();

/// The rows of one block of JSON Lines.
struct JsonBlock {
  /// One value of a row.
  struct Cell {
    std::uint32_t key = 0;     ///< index into `keys`
    std::uint32_t offset = 0;  ///< the value's bytes in `arena`
    std::uint32_t length = 0;
    bool null = false;         ///< JSON null
  };
  std::vector<std::string> keys;          ///< this block's keys, first-seen order
  std::string arena;                      ///< every value's bytes
  std::vector<Cell> cells;                ///< the good rows' values, row after row
  std::vector<std::uint32_t> row_begin;   ///< per good row: its first cell; one more at the end
  std::vector<std::uint64_t> records;     ///< per good row: its record number (0-based)
  std::vector<std::uint64_t> lines;       ///< per good row: its line (1-based)
  std::vector<csv::BadRow> bad;           ///< the first max_bad_rows bad rows
  std::uint64_t bad_count = 0;            ///< all bad rows
  std::uint64_t record_count = 0;         ///< rows seen (good + bad)

  std::size_t row_count() const noexcept { return records.size(); }
  std::string_view Value(const Cell& cell) const noexcept { return std::string_view(arena).substr(cell.offset, cell.length); }
  /// Bytes held, for the memory budget.
  std::size_t memory_bytes() const noexcept;
};

/// Parses every line of `block` (from a BlockSplitter with JsonlDialect()).
JsonBlock ParseJsonBlock(const csv::Block& block, std::size_t max_bad_rows = csv::kDefaultMaxBadRows,
                         std::size_t max_field_bytes = csv::kDefaultMaxFieldBytes);

/// True if `token` is a JSON number (RFC 8259 grammar).
bool IsJsonNumber(std::string_view token) noexcept;

}  // namespace sluice::ingest
