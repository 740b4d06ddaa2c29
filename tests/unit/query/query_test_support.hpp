// Shared fixtures of the query unit tests: the schemas of the sample tables
// (titanic.csv and plays_big.csv as type inference loads them) and a helper
// that turns "a=1&b=2" into the decoded parameter list a request carries.
#pragma once

#include <string>
#include <string_view>

#include "http/request.hpp"
#include "query/query_model.hpp"

namespace sluice::query::testing {

inline Column Col(std::string name, std::string_view type) {
  return {std::move(name), *db::ParseSqlType(type)};
}

/// titanic.csv with inferred types.
inline TableSchema Titanic() {
  TableSchema schema;
  schema.name = "titanic";
  schema.row_count = 891;
  schema.columns = {Col("PassengerId", "BIGINT"), Col("Survived", "BIGINT"), Col("Pclass", "BIGINT"),
                    Col("Name", "TEXT"),          Col("Sex", "TEXT"),         Col("Age", "DECIMAL(5,2)"),
                    Col("SibSp", "BIGINT"),       Col("Parch", "BIGINT"),     Col("Ticket", "TEXT"),
                    Col("Fare", "DECIMAL(9,4)"),  Col("Cabin", "TEXT"),       Col("Embarked", "TEXT")};
  return schema;
}

/// plays_big.csv: Song, Date, Number of Plays.
inline TableSchema Plays() {
  TableSchema schema;
  schema.name = "plays";
  schema.row_count = 50399;
  schema.columns = {Col("Song", "TEXT"), Col("Date", "DATE"), Col("Number of Plays", "BIGINT")};
  return schema;
}

/// A table with every kind of column.
inline TableSchema Mixed() {
  TableSchema schema;
  schema.name = "mixed";
  schema.columns = {Col("t", "TEXT"), Col("n", "BIGINT"), Col("d", "DOUBLE"), Col("dec", "DECIMAL(10,2)"),
                    Col("day", "DATE"), Col("at", "DATETIME(3)"), Col("limit", "TEXT")};
  return schema;
}

/// "a=1&b=x%20y" → decoded pairs, as the HTTP layer hands them over.
inline Params Q(std::string_view query) {
  http::ParamList params;
  http::ParseQueryString(query, params);
  return params;
}

}  // namespace sluice::query::testing
