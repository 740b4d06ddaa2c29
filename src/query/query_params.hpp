// Query parameters → the query model (query_model.hpp), checked against the
// table's catalog entry. This is the one place where client text meets
// column names and operators, so it is strict: a parameter that is neither a
// reserved one nor a column, an unknown column in `select`/`sort`/`group_by`,
// an unknown operator, a value that cannot be compared the way it is asked to
// (`gt:abc` on a number column), a malformed list or a limit past the
// configured maximum is a ParamError naming the parameter — the API's 400.
//
// The grammar (API.md "Tables"):
//   {column}={op}:{value}      filter; no `op:` means eq. Several are ANDed.
//   where.{column}={op}:{value}  the same, for a column named like a reserved parameter
//   limit=N | limit=offset,N   offset=N   sort=col[:asc|:desc],…   select=col,…
//   cursor=…   count=exact|estimate|none   format=json|csv|ndjson
//   /aggregate also: group_by=col,…  sum=col,…  avg=…  min=…  max=…  count=true
// Columns match without case (as MariaDB matches names). A list item holding a
// comma is double-quoted, a quote inside doubled: `in:a,"b,c"` (CSV's rule).
// An `op:` prefix is recognised without case; a prefix of lower-case letters
// that is no operator is an error (so `name=nte:x` is caught, not matched
// literally); any other text before a colon is part of an eq value
// (`time=12:30`). A value of an eq/neq/lt/lte/gt/gte/in on a numeric column
// must be a number, on a date column a date or date-time; lt/lte/gt/gte on a
// TEXT column compare numerically when the value is a number, as text
// otherwise; `is` takes `null` or `notnull`. Values must be valid UTF-8.
//
// Pure: no loop, no connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "query/query_model.hpp"

namespace sluice::query {

/// Why a request's parameters were refused: the API error's code, message and
/// the parameter at fault (as the client spelled it).
struct ParamError {
  std::string code;     ///< unknown_parameter, unknown_column, unknown_operator, invalid_parameter
  std::string message;
  std::string param;
};

/// Paging bounds from the conf.
struct ParamLimits {
  std::uint64_t default_limit = 100;
  std::uint64_t max_limit = 10000;  ///< [server] max_page_rows
};

/// Parses a `/rows` request. nullopt with `*error` set when it is refused.
std::optional<RowsQuery> ParseRowsQuery(const Params& params, const TableSchema& schema, const ParamLimits& limits,
                                        ParamError* error);

/// Parses a `/aggregate` request. nullopt with `*error` set when it is refused.
std::optional<AggregateQuery> ParseAggregateQuery(const Params& params, const TableSchema& schema,
                                                  const ParamLimits& limits, ParamError* error);

/// The answer's format: `format` when given, else from an Accept header that
/// names text/csv or application/x-ndjson (JSON otherwise).
Format ChooseFormat(std::optional<Format> format, std::string_view accept);

/// Splits a comma-separated list; an item may be double-quoted to hold commas
/// (a quote inside it doubled). nullopt when a quote is not closed or text
/// follows a closing quote other than `:` (sort's direction).
std::optional<std::vector<std::string>> SplitList(std::string_view text);

/// A decimal number: `[+-]digits[.digits][e[+-]digits]` (or `.5`), at most 100
/// characters. The only text the renderer writes into SQL unquoted.
bool IsNumber(std::string_view text);

/// `YYYY-MM-DD`, or that with ` HH:MM[:SS[.ffffff]]` (a `T` also separates),
/// with fields in range.
bool IsDateOrDateTime(std::string_view text);

}  // namespace sluice::query
