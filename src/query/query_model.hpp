// The query model: what a `/rows` or `/aggregate` request asks for, after its
// parameters were parsed and checked against the table's catalog entry
// (query_params.hpp) and before it is rendered to SQL (sql_render.hpp).
//
// Everything here refers to columns by their index in the table's schema, never
// by the text the client sent, so by construction no identifier in the SQL can
// come from anywhere but the catalog. Values are kept as the client's text; each
// was already checked to fit the comparison it is used in (a number for a
// numeric comparison, a date for a date column), and the renderer writes them
// only as escaped literals or re-checked numeric literals.
//
// Pure: no loop, no connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "db/catalog_records.hpp"
#include "db/table_ddl.hpp"

namespace sluice::query {

/// Query parameters as they came in, decoded, in order (http::ParamList).
using Params = std::vector<std::pair<std::string, std::string>>;

/// One column of the queried table, from the catalog.
struct Column {
  std::string name;  ///< the column's name in MariaDB (and in answers)
  db::SqlType type;  ///< parsed and whitelisted

  /// BIGINT, DECIMAL or DOUBLE.
  bool numeric() const noexcept;
  /// DATE or DATETIME.
  bool temporal() const noexcept;
  /// TEXT, MEDIUMTEXT or LONGTEXT (an empty field is stored as '').
  bool text() const noexcept;
};

/// The queried table: its name and columns (without the hidden `_row`).
struct TableSchema {
  std::string name;
  std::vector<Column> columns;
  std::uint64_t row_count = 0;  ///< the catalog's count: exact `total` when nothing filters

  /// The schema of a catalog entry; kInvalid when a column type does not parse
  /// (a catalog written by something else).
  static core::Result<TableSchema> FromEntry(const db::TableEntry& entry);
  /// The index of the column MariaDB would take `name` for (names compare
  /// without case, as MariaDB compares them), or nullopt.
  std::optional<std::size_t> Find(std::string_view name) const;
};

/// A filter operator (API.md "Operators").
enum class Op { kEq, kNeq, kLt, kLte, kGt, kGte, kLike, kIlike, kIn, kIs };

/// "eq", "neq", ….
std::string_view OpName(Op op);

/// One `{column}={op}:{value}` filter. Several are ANDed.
struct Filter {
  std::size_t column = 0;           ///< index into TableSchema::columns
  Op op = Op::kEq;
  std::vector<std::string> values;  ///< one value; the list for `in`; "null"/"notnull" for `is`
  /// lt/lte/gt/gte on a TEXT column with a numeric value: compare the column's
  /// numeric-looking values as numbers (other values never match).
  bool numeric_text = false;
  bool operator==(const Filter&) const = default;
};

/// One sort key: a column (rows: schema index; aggregate: output index).
struct SortKey {
  std::size_t column = 0;
  bool descending = false;
  bool operator==(const SortKey&) const = default;
};

/// `count=`: how `total` is found when filters apply.
enum class CountMode { kNone, kExact, kEstimate };

/// The answer's format.
enum class Format { kJson, kCsv, kNdjson };

/// "json", "csv", "ndjson".
std::string_view FormatName(Format format);

/// A `/rows` request.
struct RowsQuery {
  std::vector<Filter> filters;
  std::vector<SortKey> sort;        ///< without the final `_row` tie-breaker
  std::vector<std::size_t> select;  ///< columns to return, in order; empty = every column
  std::uint64_t offset = 0;
  std::uint64_t limit = 100;
  std::string cursor;               ///< the raw `cursor` parameter; empty = none
  CountMode count = CountMode::kNone;
  std::optional<Format> format;     ///< unset: from the Accept header, else JSON
};

/// An aggregate function of `/aggregate`.
enum class AggFn { kSum, kAvg, kMin, kMax, kCount };

/// "sum", "avg", "min", "max", "count".
std::string_view AggFnName(AggFn fn);

/// One aggregate output column, e.g. `sum=plays` → SUM(`plays`) AS `sum_plays`.
struct Aggregate {
  AggFn fn = AggFn::kCount;
  std::size_t column = 0;  ///< index into TableSchema::columns; unused for kCount
  std::string name;        ///< the output name: `sum_<column>`, …, `count`
  bool operator==(const Aggregate&) const = default;
};

/// A `/aggregate` request. Output columns are the group columns, then the
/// aggregates; SortKey::column indexes that output list.
struct AggregateQuery {
  std::vector<std::size_t> group_by;
  std::vector<Aggregate> aggregates;
  std::vector<Filter> filters;
  std::vector<SortKey> sort;  ///< default: the group columns in order
  std::uint64_t offset = 0;
  std::uint64_t limit = 100;
  std::string cursor;
  std::optional<Format> format;
};

/// A keyset position: the sort-key values of the last row of a page (nullopt =
/// NULL) and its `_row`. The next page starts after it.
struct KeysetPosition {
  std::vector<std::optional<std::string>> values;
  std::int64_t row = 0;
  bool operator==(const KeysetPosition&) const = default;
};

}  // namespace sluice::query
