// Type inference: per column, the narrowest SQL type that holds every value
// seen, widened as new values arrive, so a value is never lost, altered or
// rejected for its type.
//
// The types, narrowest first, in two families:
//   numbers  BIGINT ⊂ DECIMAL(p,s) ⊂ DOUBLE        dates  DATE ⊂ DATETIME(n)
// and TEXT (MEDIUMTEXT / LONGTEXT past 64 KiB / 16 MiB) above both. A column
// with no value yet (only empty fields) has no type (kNull, TEXT if it stays
// so). Empty fields are NULL in typed columns and never affect the type.
//
// What counts as a number is strict, so that a value read back from its typed
// column is the text the file had: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
// `007`, `+34`, ` 5`, `1.`, `.5`, `1,5`, `inf` and `NaN` are TEXT, so
// identifiers keep their zeros. Integers beyond BIGINT are DECIMAL(n,0);
// DECIMAL is limited to precision 65 and scale 30, beyond that DOUBLE; values
// with an exponent are DOUBLE. DOUBLE holds 15 significant digits exactly, so
// a column that would need DOUBLE for a value with more (or that holds such a
// value and then needs DOUBLE) is TEXT instead; so are exponents out of
// DOUBLE's normal range.
// Dates are `YYYY-MM-DD` (real calendar dates, year 0001–9999); date-times are
// `YYYY-MM-DD HH:MM:SS` or with `T`, with up to six fractional digits
// (DATETIME(n) keeps the most seen). Time zones make TEXT.
//
// Numbers are parsed with std::from_chars (integers) and fast_float (doubles).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "csv/header.hpp"

namespace sluice::csv {

class ParsedBlock;

/// A column type, narrowest first within each family.
enum class TypeKind : std::uint8_t {
  kNull,      ///< no value seen yet
  kBigint,
  kDecimal,
  kDouble,
  kDate,
  kDatetime,
  kText,
};

/// A type and what it must hold; also the inference state of one column.
struct ColumnType {
  TypeKind kind = TypeKind::kNull;
  std::uint16_t int_digits = 0;  ///< numbers: most digits before the point ("0.5" has none)
  std::uint16_t scale = 0;       ///< DECIMAL: digits after the point; DATETIME: fractional digits
  std::uint16_t sig_digits = 0;  ///< numbers: most significant digits in one value (exact past 15)
  std::uint64_t max_bytes = 0;   ///< longest value in bytes (picks TEXT/MEDIUMTEXT/LONGTEXT)

  /// DECIMAL precision: int_digits + scale, at least 1.
  int precision() const noexcept { return int_digits + scale > 0 ? int_digits + scale : 1; }
  bool operator==(const ColumnType&) const = default;
};

/// DECIMAL limits of MariaDB.
inline constexpr int kMaxDecimalPrecision = 65;
inline constexpr int kMaxDecimalScale = 30;
/// Significant decimal digits a DOUBLE holds exactly (DBL_DIG).
inline constexpr int kDoubleDigits = 15;

/// The narrowest type of one value (kNull for "").
ColumnType Classify(std::string_view value);

/// The narrowest type holding everything `a` and `b` hold.
ColumnType Join(const ColumnType& a, const ColumnType& b);

/// `current` widened to hold `value` too.
ColumnType Widen(const ColumnType& current, std::string_view value);

/// True if `value` can be stored in a column of `type` unchanged ("" always:
/// NULL). For forced types (`type.{column}`), whose values are not widened.
bool Fits(const ColumnType& type, std::string_view value);

/// The SQL text: BIGINT, DECIMAL(10,2), DOUBLE, DATE, DATETIME, DATETIME(6),
/// TEXT, MEDIUMTEXT, LONGTEXT (kNull: TEXT).
std::string SqlTypeText(const ColumnType& type);

/// A type as a user writes it in `type.{column}=`: text, bigint, decimal(p,s)
/// or decimal(p), double, date, datetime or datetime(n), any case.
core::Result<ColumnType> ParseTypeName(std::string_view name);

/// The `types` and `type.{column}` options.
struct TypeOptions {
  bool all_text = false;  ///< types=text
  std::vector<std::pair<std::string, std::string>> overrides;  ///< {column, type name}
};

/// The types of all columns of one upload. Copyable: parse workers infer a
/// block each on a copy, and the loop thread Merge()s them in.
class SchemaInference {
 public:
  /// Errors (kInvalid): an override naming no column (matched as MariaDB
  /// matches column names) or an unknown type name.
  static core::Result<SchemaInference> Make(std::span<const Column> columns, const TypeOptions& options);

  /// Widens each column for one good row (fields.size() == column count).
  void Observe(std::span<const std::string_view> fields);
  /// Observe() for every good row of a block.
  void Observe(const ParsedBlock& block);
  /// Widens this with what `other` (same columns) has seen.
  void Merge(const SchemaInference& other);

  /// The column types (forced ones as forced, with max_bytes tracked).
  const std::vector<ColumnType>& types() const noexcept { return types_; }
  /// True if column `i` was forced by `types=text` or `type.{column}`.
  bool forced(std::size_t i) const noexcept { return forced_[i]; }
  /// SqlTypeText() of every column.
  std::vector<std::string> SqlTypes() const;

 private:
  std::vector<ColumnType> types_;
  std::vector<bool> forced_;
};

}  // namespace sluice::csv
