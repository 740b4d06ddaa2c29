// SQL rendering of the query model (see sql_render.hpp for the rules). Every
// identifier goes through db::AppendIdentifier with a name from the schema,
// every value through db::AppendString or AppendNumber.
#include "query/sql_render.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "db/sql_quote.hpp"
#include "db/table_ddl.hpp"
#include "query/query_params.hpp"

namespace sluice::query {
namespace {

/// A TEXT value that reads as a number (what CAST(… AS DOUBLE) takes whole).
constexpr std::string_view kNumericText =
    "'^[[:space:]]*[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?[[:space:]]*$'";

void AppendColumn(std::string& out, const Column& column) { db::AppendIdentifier(out, column.name); }

void AppendRowColumn(std::string& out) { db::AppendIdentifier(out, db::kRowColumn); }

void AppendTable(std::string& out, const TableSchema& schema) { db::AppendIdentifier(out, schema.name); }

void AppendCollate(std::string& out, std::string_view collation) {
  out += " COLLATE ";
  out += collation;
}

/// A value compared with `column` in a filter: exact text, number or date.
void AppendFilterValue(std::string& out, const Column& column, std::string_view value) {
  if (column.numeric()) {
    AppendNumber(out, value);
  } else if (column.temporal()) {
    db::AppendString(out, value);
  } else {
    db::AppendString(out, value);
    AppendCollate(out, kExactCollation);
  }
}

/// A key value of a cursor, compared in the column's own collation (as ORDER
/// BY compares). DOUBLE keys are written as DOUBLE literals (`…e0`) so they
/// compare with the column bit for bit.
void AppendKeyValue(std::string& out, const Column& column, std::string_view value) {
  if (column.numeric()) {
    AppendNumber(out, value);
    if (column.type.kind == db::SqlTypeKind::kDouble && IsNumber(value) &&
        value.find_first_of("eE") == std::string_view::npos) {
      out += "e0";
    }
  } else {
    db::AppendString(out, value);
  }
}

/// The column as text, for like/ilike on a number or date column.
void AppendAsText(std::string& out, const Column& column) {
  if (column.text()) {
    AppendColumn(out, column);
    return;
  }
  out += "CAST(";
  AppendColumn(out, column);
  out += " AS CHAR)";
}

std::string_view Comparison(Op op) {
  switch (op) {
    case Op::kEq: return " = ";
    case Op::kNeq: return " <> ";
    case Op::kLt: return " < ";
    case Op::kLte: return " <= ";
    case Op::kGt: return " > ";
    case Op::kGte: return " >= ";
    default: return " = ";
  }
}

void AppendFilter(std::string& out, const TableSchema& schema, const Filter& filter) {
  const Column& column = schema.columns[filter.column];
  const std::string empty;
  const std::string& value = filter.values.empty() ? empty : filter.values[0];
  switch (filter.op) {
    case Op::kEq:
    case Op::kNeq:
      AppendColumn(out, column);
      out += Comparison(filter.op);
      AppendFilterValue(out, column, value);
      return;
    case Op::kLt:
    case Op::kLte:
    case Op::kGt:
    case Op::kGte:
      if (column.text() && filter.numeric_text) {
        out += '(';
        AppendColumn(out, column);
        out += " REGEXP ";
        out += kNumericText;
        out += " AND CAST(";
        AppendColumn(out, column);
        out += " AS DOUBLE)";
        out += Comparison(filter.op);
        AppendNumber(out, value);
        out += ')';
        return;
      }
      AppendColumn(out, column);
      out += Comparison(filter.op);
      AppendFilterValue(out, column, value);
      return;
    case Op::kLike:
    case Op::kIlike:
      AppendAsText(out, column);
      out += " LIKE ";
      db::AppendString(out, LikePattern(value));
      AppendCollate(out, filter.op == Op::kLike ? kExactCollation : kFoldingCollation);
      return;
    case Op::kIn: {
      AppendColumn(out, column);
      out += " IN (";
      bool first = true;
      for (const auto& item : filter.values) {
        if (!first) out += ", ";
        first = false;
        AppendFilterValue(out, column, item);
      }
      out += ')';
      return;
    }
    case Op::kIs: {
      bool null = value != "notnull";
      if (column.text()) {
        out += '(';
        AppendColumn(out, column);
        out += null ? " IS NULL OR " : " IS NOT NULL AND ";
        AppendColumn(out, column);
        out += null ? " = '')" : " <> '')";
        return;
      }
      AppendColumn(out, column);
      out += null ? " IS NULL" : " IS NOT NULL";
      return;
    }
  }
}

/// "strictly after `value`" for one sort key (MariaDB orders NULL first
/// ascending and last descending). False when nothing can follow.
bool AppendAfter(std::string& out, const Column& column, bool descending, const std::optional<std::string>& value) {
  if (!value) {
    if (descending) return false;  // NULLs come last: nothing is after one
    AppendColumn(out, column);
    out += " IS NOT NULL";
    return true;
  }
  if (descending) {
    out += '(';
    AppendColumn(out, column);
    out += " < ";
    AppendKeyValue(out, column, *value);
    out += " OR ";
    AppendColumn(out, column);
    out += " IS NULL)";
    return true;
  }
  AppendColumn(out, column);
  out += " > ";
  AppendKeyValue(out, column, *value);
  return true;
}

void AppendEqual(std::string& out, const Column& column, const std::optional<std::string>& value) {
  AppendColumn(out, column);
  if (!value) {
    out += " IS NULL";
    return;
  }
  out += " = ";
  AppendKeyValue(out, column, *value);
}

/// The direction of the `_row` tie-breaker: the last sort key's, so an index
/// on that column (which InnoDB extends with the primary key) serves the
/// whole order, forwards or backwards.
bool RowDescending(const std::vector<SortKey>& sort) { return !sort.empty() && sort.back().descending; }

/// The keyset predicate of a position over `sort` + `_row`.
std::string KeysetCondition(const TableSchema& schema, const std::vector<SortKey>& sort, const KeysetPosition& after) {
  std::vector<std::string> terms;
  std::string equal_prefix;  // "k1 = v1 AND k2 = v2 AND "
  for (std::size_t i = 0; i < sort.size() && i < after.values.size(); ++i) {
    const Column& column = schema.columns[sort[i].column];
    std::string after_term;
    if (AppendAfter(after_term, column, sort[i].descending, after.values[i])) {
      terms.push_back(equal_prefix.empty() ? after_term : "(" + equal_prefix + after_term + ")");
    }
    AppendEqual(equal_prefix, column, after.values[i]);
    equal_prefix += " AND ";
  }
  std::string row_term;
  AppendRowColumn(row_term);
  row_term += fmt::format(" {} {}", RowDescending(sort) ? "<" : ">", after.row);
  terms.push_back(equal_prefix.empty() ? row_term : "(" + equal_prefix + row_term + ")");
  if (terms.size() == 1) return terms[0];
  std::string out = "(";
  for (std::size_t i = 0; i < terms.size(); ++i) {
    if (i > 0) out += " OR ";
    out += terms[i];
  }
  out += ')';
  return out;
}

void AppendWhere(std::string& out, const std::string& conditions, const std::string& keyset) {
  if (conditions.empty() && keyset.empty()) return;
  out += " WHERE ";
  out += conditions;
  if (!conditions.empty() && !keyset.empty()) out += " AND ";
  out += keyset;
}

void AppendLimit(std::string& out, std::uint64_t limit, std::uint64_t offset) {
  out += fmt::format(" LIMIT {}", limit);
  if (offset > 0) out += fmt::format(" OFFSET {}", offset);
}

/// The aggregate expression of `aggregate`.
void AppendAggregate(std::string& out, const TableSchema& schema, const Aggregate& aggregate) {
  if (aggregate.fn == AggFn::kCount) {
    out += "COUNT(*)";
    return;
  }
  const Column& column = schema.columns[aggregate.column];
  switch (aggregate.fn) {
    case AggFn::kSum: out += "SUM("; break;
    case AggFn::kAvg: out += "AVG("; break;
    case AggFn::kMin: out += "MIN("; break;
    case AggFn::kMax: out += "MAX("; break;
    case AggFn::kCount: break;
  }
  if (column.text() && (aggregate.fn == AggFn::kSum || aggregate.fn == AggFn::kAvg)) {
    // Numbers stored as text: the numeric-looking values count, the rest
    // (empty fields, words) are missing values.
    out += "CASE WHEN ";
    AppendColumn(out, column);
    out += " REGEXP ";
    out += kNumericText;
    out += " THEN CAST(";
    AppendColumn(out, column);
    out += " AS DOUBLE) END";
  } else {
    AppendColumn(out, column);
  }
  out += ')';
}

}  // namespace

std::string LikePattern(std::string_view value) {
  bool wildcard = value.find('*') != std::string_view::npos;
  std::string pattern;
  pattern.reserve(value.size() + 4);
  if (!wildcard) pattern.push_back('%');
  for (char c : value) {
    switch (c) {
      case '*': pattern.push_back('%'); break;
      case '%': pattern += "\\%"; break;
      case '_': pattern += "\\_"; break;
      case '\\': pattern += "\\\\"; break;
      default: pattern.push_back(c);
    }
  }
  if (!wildcard) pattern.push_back('%');
  return pattern;
}

void AppendNumber(std::string& out, std::string_view text) {
  if (!IsNumber(text)) {
    db::AppendString(out, text);
    return;
  }
  if (text[0] == '+') text.remove_prefix(1);
  out.append(text);
}

std::string RenderConditions(const TableSchema& schema, const std::vector<Filter>& filters) {
  std::string out;
  for (const auto& filter : filters) {
    if (!out.empty()) out += " AND ";
    AppendFilter(out, schema, filter);
  }
  return out;
}

RenderedSelect RenderRowsSelect(const TableSchema& schema, const RowsQuery& query, const KeysetPosition* after,
                                std::uint64_t fetch_limit) {
  RenderedSelect rendered;
  std::vector<std::size_t> columns = query.select;
  if (columns.empty()) {
    for (std::size_t i = 0; i < schema.columns.size(); ++i) columns.push_back(i);
  }
  rendered.visible = columns.size();
  // Hidden keys: sort columns not selected, then `_row`.
  for (const auto& key : query.sort) {
    auto at = std::find(columns.begin(), columns.end(), key.column);
    if (at == columns.end()) {
      rendered.keys.push_back(columns.size());
      columns.push_back(key.column);
    } else {
      rendered.keys.push_back(static_cast<std::size_t>(at - columns.begin()));
    }
  }
  rendered.keys.push_back(columns.size());

  std::string& sql = rendered.sql;
  sql = "SELECT ";
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) sql += ", ";
    AppendColumn(sql, schema.columns[columns[i]]);
    rendered.names.push_back(schema.columns[columns[i]].name);
  }
  sql += ", ";
  AppendRowColumn(sql);
  rendered.names.emplace_back(db::kRowColumn);
  sql += " FROM ";
  AppendTable(sql, schema);
  AppendWhere(sql, RenderConditions(schema, query.filters),
              after != nullptr ? KeysetCondition(schema, query.sort, *after) : std::string());
  sql += " ORDER BY ";
  for (const auto& key : query.sort) {
    AppendColumn(sql, schema.columns[key.column]);
    sql += key.descending ? " DESC, " : " ASC, ";
  }
  AppendRowColumn(sql);
  sql += RowDescending(query.sort) ? " DESC" : " ASC";
  AppendLimit(sql, fetch_limit, query.offset);
  return rendered;
}

RenderedSelect RenderAggregateSelect(const TableSchema& schema, const AggregateQuery& query, std::uint64_t offset,
                                     std::uint64_t fetch_limit) {
  RenderedSelect rendered;
  std::string& sql = rendered.sql;
  sql = "SELECT ";
  bool first = true;
  for (std::size_t index : query.group_by) {
    if (!first) sql += ", ";
    first = false;
    AppendColumn(sql, schema.columns[index]);
    rendered.names.push_back(schema.columns[index].name);
  }
  for (const auto& aggregate : query.aggregates) {
    if (!first) sql += ", ";
    first = false;
    AppendAggregate(sql, schema, aggregate);
    sql += " AS ";
    db::AppendIdentifier(sql, aggregate.name);
    rendered.names.push_back(aggregate.name);
  }
  rendered.visible = rendered.names.size();
  sql += " FROM ";
  AppendTable(sql, schema);
  AppendWhere(sql, RenderConditions(schema, query.filters), {});
  if (!query.group_by.empty()) {
    sql += " GROUP BY ";
    for (std::size_t i = 0; i < query.group_by.size(); ++i) {
      if (i > 0) sql += ", ";
      AppendColumn(sql, schema.columns[query.group_by[i]]);
    }
  }
  // ORDER BY output positions: the sort keys, then every group column not
  // already there, so the order is total and offset paging stable.
  std::vector<std::string> order;
  std::vector<std::size_t> used;
  for (const auto& key : query.sort) {
    order.push_back(fmt::format("{} {}", key.column + 1, key.descending ? "DESC" : "ASC"));
    used.push_back(key.column);
  }
  for (std::size_t i = 0; i < query.group_by.size(); ++i) {
    if (std::find(used.begin(), used.end(), i) == used.end()) order.push_back(fmt::format("{} ASC", i + 1));
  }
  if (!order.empty()) {
    sql += " ORDER BY ";
    for (std::size_t i = 0; i < order.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += order[i];
    }
  }
  AppendLimit(sql, fetch_limit, offset);
  return rendered;
}

std::string RenderCount(const TableSchema& schema, const std::vector<Filter>& filters) {
  std::string sql = "SELECT COUNT(*) FROM ";
  AppendTable(sql, schema);
  AppendWhere(sql, RenderConditions(schema, filters), {});
  return sql;
}

std::string RenderEstimate(const TableSchema& schema, const std::vector<Filter>& filters) {
  std::string sql = "EXPLAIN FORMAT=JSON SELECT * FROM ";
  AppendTable(sql, schema);
  AppendWhere(sql, RenderConditions(schema, filters), {});
  return sql;
}

}  // namespace sluice::query
