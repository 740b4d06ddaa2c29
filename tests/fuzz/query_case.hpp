// One query-fuzz input → the SQL sluice would send, shared by the fuzz target
// (fuzz_query.cpp) and the MariaDB replay (tests/integration/query/
// fuzz_sql_replay_test.cpp), so the replay checks exactly what was fuzzed.
//
// Input: byte 0 — bits 0–1 the table (titanic, plays, every column type, or
// hostile names: backticks, quotes, comment starts, a snowman, a reserved word),
// bit 2 /aggregate instead of /rows, bit 3 a keyset position (the next page),
// bit 4 its key values NULL; the rest is the query string as a client sends it.
// Accepted queries render their SELECT, the count and the estimate.
//
// CheckSqlLexically is the fuzzer's own injection check: outside literals the
// SQL holds only keywords, numbers, operators and punctuation (no `;`, `#`,
// `--`, `/*`); every string literal closes; every backquoted identifier is a
// column, the table, `_row` or an aggregate's output name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/table_ddl.hpp"
#include "http/request.hpp"
#include "query/cursor_codec.hpp"
#include "query/query_model.hpp"
#include "query/query_params.hpp"
#include "query/sql_render.hpp"

namespace sluice::fuzz {

inline query::Column SchemaColumn(std::string name, std::string_view type) {
  return {std::move(name), *db::ParseSqlType(type)};
}

/// The four tables the query fuzzer queries (the replay creates them).
inline const std::vector<query::TableSchema>& FuzzSchemas() {
  static const std::vector<query::TableSchema> schemas = [] {
    using query::TableSchema;
    std::vector<TableSchema> out(4);
    out[0].name = "fuzz_titanic";
    out[0].row_count = 891;
    out[0].columns = {SchemaColumn("PassengerId", "BIGINT"), SchemaColumn("Survived", "BIGINT"),
                      SchemaColumn("Pclass", "BIGINT"),      SchemaColumn("Name", "TEXT"),
                      SchemaColumn("Sex", "TEXT"),           SchemaColumn("Age", "DECIMAL(5,2)"),
                      SchemaColumn("SibSp", "BIGINT"),       SchemaColumn("Parch", "BIGINT"),
                      SchemaColumn("Ticket", "TEXT"),        SchemaColumn("Fare", "DECIMAL(9,4)"),
                      SchemaColumn("Cabin", "TEXT"),         SchemaColumn("Embarked", "TEXT")};
    out[1].name = "fuzz_plays";
    out[1].row_count = 50399;
    out[1].columns = {SchemaColumn("Song", "TEXT"), SchemaColumn("Date", "DATE"),
                      SchemaColumn("Number of Plays", "BIGINT")};
    out[2].name = "fuzz_mixed";
    out[2].columns = {SchemaColumn("t", "TEXT"),       SchemaColumn("n", "BIGINT"),
                      SchemaColumn("d", "DOUBLE"),     SchemaColumn("dec", "DECIMAL(10,2)"),
                      SchemaColumn("day", "DATE"),     SchemaColumn("at", "DATETIME(3)"),
                      SchemaColumn("limit", "TEXT"),   SchemaColumn("m", "MEDIUMTEXT")};
    out[3].name = "fuzz_t`; DROP TABLE x; --";
    out[3].columns = {SchemaColumn("a`b", "TEXT"), SchemaColumn("c'; --", "BIGINT"),
                      SchemaColumn("\xE2\x98\x83 /*", "TEXT"), SchemaColumn("select", "DATE"),
                      SchemaColumn("x\\y\"z", "DECIMAL(4,1)")};
    return out;
  }();
  return schemas;
}

/// What one input gives.
struct QueryCase {
  const query::TableSchema* schema = nullptr;
  bool accepted = false;
  query::ParamError error;        ///< when refused
  std::vector<std::string> sql;   ///< when accepted: SELECT, count, estimate
  std::set<std::string> identifiers;  ///< the names the SQL may quote
};

inline QueryCase RenderQueryCase(std::string_view input) {
  QueryCase c;
  const std::uint8_t mode = input.empty() ? 0 : static_cast<std::uint8_t>(input.front());
  if (!input.empty()) input.remove_prefix(1);
  c.schema = &FuzzSchemas()[mode & 3];
  const query::TableSchema& schema = *c.schema;
  c.identifiers.insert(schema.name);
  c.identifiers.insert(std::string(db::kRowColumn));
  for (const auto& col : schema.columns) c.identifiers.insert(col.name);

  http::ParamList params;
  if (!http::ParseQueryString(input, params)) return c;
  query::ParamLimits limits;
  const bool after = (mode & 8) != 0;
  const bool nulls = (mode & 16) != 0;
  if ((mode & 4) == 0) {
    auto rows = query::ParseRowsQuery(params, schema, limits, &c.error);
    if (!rows) return c;
    c.accepted = true;
    std::optional<query::KeysetPosition> position;
    if (after) {
      query::KeysetPosition p;
      for (std::size_t i = 0; i < rows->sort.size(); ++i) {
        if (nulls || params.empty()) {
          p.values.emplace_back(std::nullopt);
        } else {
          p.values.emplace_back(params[i % params.size()].second);
        }
      }
      p.row = static_cast<std::int64_t>(params.size()) * 7 - 3;
      position = std::move(p);
    }
    c.sql.push_back(query::RenderRowsSelect(schema, *rows, position ? &*position : nullptr, rows->limit + 1).sql);
    c.sql.push_back(query::RenderCount(schema, rows->filters));
    c.sql.push_back(query::RenderEstimate(schema, rows->filters));
    if (position) {
      // The cursor that position travels in comes back the same.
      query::CursorCodec codec("fuzz-secret");
      const std::string scope = query::RowsCursorScope(schema, *rows);
      auto back = codec.Decode(codec.Encode(scope, *position), scope, rows->sort.size());
      c.error.code = back && std::get_if<query::KeysetPosition>(&*back) != nullptr &&
                             *std::get_if<query::KeysetPosition>(&*back) == *position
                         ? ""
                         : "cursor_roundtrip";
    }
  } else {
    auto agg = query::ParseAggregateQuery(params, schema, limits, &c.error);
    if (!agg) return c;
    c.accepted = true;
    for (const auto& a : agg->aggregates) c.identifiers.insert(a.name);
    c.sql.push_back(query::RenderAggregateSelect(schema, *agg, agg->offset, agg->limit + 1).sql);
  }
  return c;
}

/// "" when `sql` passes the lexical check (see the top of this file), else why not.
inline std::string CheckSqlLexically(std::string_view sql, const std::set<std::string>& identifiers) {
  std::size_t i = 0;
  int depth = 0;
  while (i < sql.size()) {
    const char ch = sql[i];
    if (ch == '`') {
      std::string name;
      ++i;
      while (true) {
        if (i >= sql.size()) return "an identifier never closes";
        if (sql[i] == '`') {
          if (i + 1 < sql.size() && sql[i + 1] == '`') {
            name.push_back('`');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        name.push_back(sql[i++]);
      }
      if (identifiers.count(name) == 0) return "identifier `" + name + "` is not from the schema";
    } else if (ch == '\'') {
      ++i;
      while (true) {
        if (i >= sql.size()) return "a string literal never closes";
        if (sql[i] == '\\') {
          if (i + 1 >= sql.size()) return "a literal ends in a backslash";
          i += 2;
          continue;
        }
        if (sql[i] == '\'') {
          if (i + 1 < sql.size() && sql[i + 1] == '\'') {
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (sql[i] == '\0') return "a raw NUL in a literal";
        ++i;
      }
    } else if (ch == '(') {
      ++depth;
      ++i;
    } else if (ch == ')') {
      if (--depth < 0) return "unbalanced ')'";
      ++i;
    } else if (ch == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      return "'--' outside a literal";
    } else if (ch == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      return "'/*' outside a literal";
    } else if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
               ch == ' ' || ch == ',' || ch == '.' || ch == '*' || ch == '=' || ch == '<' || ch == '>' ||
               ch == '!' || ch == '+' || ch == '-') {
      ++i;
    } else {
      return std::string("character '") + ch + "' outside a literal";
    }
  }
  if (depth != 0) return "unbalanced '('";
  return "";
}

}  // namespace sluice::fuzz
