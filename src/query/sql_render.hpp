// The query model → SQL for MariaDB. Identifiers come only from the table's
// schema (the catalog), quoted in backticks; every value is either a string
// literal escaped as mysql_real_escape_string does, or a number that passes
// IsNumber() again here (anything else is written as a string literal), so no
// client text ever reaches the SQL as SQL.
//
// Comparisons (API.md "Operators"):
//   text eq/neq/in/like   exact: `c` = 'v' COLLATE utf8mb4_nopad_bin (case,
//                          accents and trailing spaces count)
//   ilike                 <expr> LIKE 'p' COLLATE utf8mb4_unicode_520_ci
//                          (case- and accent-insensitive)
//   like/ilike pattern    `*` is the wildcard (%); `%`, `_` and `\` are escaped;
//                          with no `*` it matches a substring (%v%). A number or
//                          date column is matched through CAST(c AS CHAR).
//   lt/lte/gt/gte         numeric and date columns compare as such; a TEXT
//                          column with a numeric value compares its numeric-looking
//                          values as numbers — (`c` REGEXP '<number>' AND
//                          CAST(`c` AS DOUBLE) < v) — and as exact text otherwise
//   is:null / notnull     IS NULL / IS NOT NULL; on TEXT also '' (an empty field)
//
// Order and keyset paging: rows are ordered by the sort keys, then `_row` in
// the direction of the last key (so an index on that column serves the whole
// order, backwards too), so every order is total. A cursor's position (the last row's key values and
// `_row`) becomes the standard expanded predicate
//   k1 after v1 OR (k1 = v1 AND k2 after v2) OR … OR (… AND `_row` > r)
// (`_row` < r when the tie-breaker runs backwards)
// with MariaDB's NULL order (NULL first ascending, last descending) spelled
// out, so it needs no row constructors and works for any mix of directions.
// Key values compare in the column's own collation, as ORDER BY does.
// Aggregates order by output position (never ambiguous with a table column)
// with the group columns as tie-breakers, so offset paging is stable.
//
// Pure: unit-tested as golden SQL.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "query/query_model.hpp"

namespace sluice::query {

/// The collation of exact text comparisons (data tables use it too).
inline constexpr std::string_view kExactCollation = "utf8mb4_nopad_bin";
/// The collation of `ilike`: case- and accent-insensitive.
inline constexpr std::string_view kFoldingCollation = "utf8mb4_unicode_520_ci";

/// A SELECT and how to read its result rows.
struct RenderedSelect {
  std::string sql;
  std::vector<std::string> names;  ///< every result column: the visible ones, then hidden keys
  std::size_t visible = 0;         ///< the answer's columns are the first `visible`
  /// Result positions of the sort keys, then of `_row` (rows queries), for the
  /// next page's cursor.
  std::vector<std::size_t> keys;
};

/// `SELECT <select>[, hidden keys] FROM t [WHERE …] ORDER BY <sort>, `_row`
/// ASC|DESC LIMIT fetch_limit [OFFSET o]`, after `after` when given.
RenderedSelect RenderRowsSelect(const TableSchema& schema, const RowsQuery& query, const KeysetPosition* after,
                                std::uint64_t fetch_limit);

/// `SELECT <groups>, <aggregates> FROM t [WHERE …] [GROUP BY …] [ORDER BY …]
/// LIMIT fetch_limit [OFFSET offset]`.
RenderedSelect RenderAggregateSelect(const TableSchema& schema, const AggregateQuery& query, std::uint64_t offset,
                                     std::uint64_t fetch_limit);

/// `SELECT COUNT(*) FROM t [WHERE …]`.
std::string RenderCount(const TableSchema& schema, const std::vector<Filter>& filters);

/// `EXPLAIN FORMAT=JSON SELECT * FROM t [WHERE …]`: the optimizer's estimate.
std::string RenderEstimate(const TableSchema& schema, const std::vector<Filter>& filters);

/// The WHERE condition of `filters` (ANDed), empty when none.
std::string RenderConditions(const TableSchema& schema, const std::vector<Filter>& filters);

/// `value` as a LIKE pattern (before quoting): `*` → `%`, `%` `_` `\` escaped,
/// and `%…%` around it when it has no `*`.
std::string LikePattern(std::string_view value);

/// Appends `text` as a numeric literal when IsNumber(text) (a leading `+`
/// dropped), else as a quoted string literal.
void AppendNumber(std::string& out, std::string_view text);

}  // namespace sluice::query
