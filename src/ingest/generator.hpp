// The data generator behind `sluice gen`: a realistic CSV of any size for
// tests and benchmarks — uuids, dates and date-times, amounts with decimals
// (some negative), integers, zero-padded codes such as `00123` (which type
// inference must keep as TEXT), names with commas and quotes (`"O'Neil, Mary
// ""Mo"""`), cities in several scripts, some empty fields — quoted as RFC 4180
// says.
//
// Deterministic: row r's values come from its own small random generator,
// seeded from (seed, r), so the same seed gives the same bytes whatever the
// chunking, and any row can be produced without the ones before it. Memory is
// flat: rows are produced into a caller's buffer chunk by chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/status.hpp"

namespace sluice::ingest {

/// The kinds of column the generator writes.
enum class GenColumn {
  kId,        ///< 1, 2, 3… (the row number)
  kUuid,      ///< random v4 uuid
  kName,      ///< "Last, First" — commas, apostrophes, some "nick" quotes, ~3% empty
  kEmail,     ///< first.last@example.org
  kDate,      ///< YYYY-MM-DD, 2000..2025
  kDatetime,  ///< YYYY-MM-DD HH:MM:SS
  kAmount,    ///< -500.00..99999.99, two decimals, ~2% empty
  kQuantity,  ///< 1..500
  kCode,      ///< five digits, zero-padded: 00123
  kCity,      ///< São Paulo, Zürich, 東京, "Washington, D.C."…
  kNote,      ///< free text: commas, quotes, rarely a line break, often empty
  kFlag,      ///< true / false
  kScore,     ///< 0.000..100.000, three decimals
};

/// The column list `sluice gen` writes without --columns.
std::vector<GenColumn> DefaultGenColumns();
/// The name of a kind as --columns takes it: id, uuid, name, email, date,
/// datetime, amount, quantity, code, city, note, flag, score.
std::string_view GenColumnName(GenColumn column);
/// Parses a comma-separated list of kinds (a kind may repeat; its header
/// name gets `_2`, `_3`…). kInvalid names the unknown kind.
core::Result<std::vector<GenColumn>> ParseGenColumns(std::string_view list);

/// What to generate.
struct GeneratorOptions {
  std::uint64_t rows = 0;
  std::vector<GenColumn> columns = DefaultGenColumns();
  std::uint64_t seed = 1;
  bool header = true;  ///< write a header row first
};

/// Produces the CSV in chunks.
class CsvGenerator {
 public:
  explicit CsvGenerator(GeneratorOptions options);

  /// Appends the header (first call) and whole rows to `out` until it holds
  /// at least `chunk_bytes` or every row is written. False once nothing is
  /// left to write (then `out` is unchanged).
  bool Next(std::string& out, std::size_t chunk_bytes);

  /// Appends row `row` (1-based) alone, as Next would write it.
  void AppendRow(std::string& out, std::uint64_t row) const;

  /// The header line, as Next writes it.
  std::string Header() const;

 private:
  GeneratorOptions options_;
  std::uint64_t next_row_ = 1;
  bool header_done_ = false;
};

/// Writes the whole CSV to `fd` (stdout for `sluice gen`) in 1 MiB chunks.
/// kInternal with errno's text when a write fails.
core::Status WriteCsv(const GeneratorOptions& options, int fd);

}  // namespace sluice::ingest
