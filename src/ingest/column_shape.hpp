// ColumnShape: whether a column's values can sit in a typed staging table and
// still be given back exactly as the file wrote them, should the column have
// to become TEXT later. That decides the load stage's column types, so most
// uploads load straight into their final types (no copy at publish) without
// ever risking an altered value.
//
// A typed column gives its values back as MariaDB renders them, which equals
// the file's text only for canonical spellings: BIGINT `42` (not `-0`), DATE
// `2024-01-31`, DECIMAL(p,s) when EVERY value has exactly s decimals (`1.50`
// in DECIMAL(4,2) is `1.50`, but `1.5` would come back `1.50`) and is not a
// negative zero, DATETIME(n) with exactly n fraction digits and a space (not
// `T`). DOUBLE never renders reliably. A column whose values so far all share
// one such exact form is "exact"; one odd value makes it "text" for good.
// Empty fields do not count (they are NULL while typed; the job turns them
// back into '' if the column ends as TEXT). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "csv/type_inference.hpp"

namespace sluice::ingest {

/// See the top of this file. Join()able, like the type inference.
struct ColumnShape {
  enum class State : std::uint8_t {
    kNone,   ///< no value yet (only empty fields)
    kExact,  ///< every value in one exact form: `kind` and `scale`
    kText,   ///< some value would not come back as written from a typed column
  };
  State state = State::kNone;
  csv::TypeKind kind = csv::TypeKind::kNull;  ///< kExact: kBigint, kDecimal, kDate or kDatetime
  std::uint16_t scale = 0;       ///< kExact DECIMAL: decimals; DATETIME: fraction digits
  std::uint16_t int_digits = 0;  ///< kExact DECIMAL: the most integer digits
  std::uint64_t empties = 0;     ///< empty fields seen

  /// Takes one value into account.
  void Observe(std::string_view value);
  /// Takes what `other` (the same column, other rows) saw.
  void Join(const ColumnShape& other);
  /// True if a column of the exact type `staged` (from ExactType) holds every
  /// value seen here unchanged.
  bool FitsExact(const csv::ColumnType& staged) const;
  bool operator==(const ColumnShape&) const = default;
};

/// The staging type for a column: the inferred type when the shape is exact
/// (and matches it), else TEXT large enough for `max_bytes`; a forced type
/// (types=text, type.{column}) as forced. SQL text, e.g. "DECIMAL(7,2)".
std::string StagingType(const ColumnShape& shape, const csv::ColumnType& inferred, bool forced);

}  // namespace sluice::ingest
