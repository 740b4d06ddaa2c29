// Fuzz target: the query path's pure parts — a `/rows` or `/aggregate` query
// string → ParseQueryString → ParseRowsQuery/ParseAggregateQuery (checked
// against a table's schema) → the rendered SQL (select, count, estimate, the
// keyset predicate of a next page), plus the cursor codec's round trip.
// Invariants: a refused query names its error code and parameter; an
// accepted one renders SQL that passes CheckSqlLexically (no client text
// outside a literal, no identifier that is not the schema's). Whether MariaDB
// itself accepts that SQL is checked by replaying this corpus against a real
// server (tests/integration/query/fuzz_sql_replay_test.cpp).
// Input layout: query_case.hpp.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "query_case.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const sluice::fuzz::QueryCase c = sluice::fuzz::RenderQueryCase(input);
  if (!c.accepted) {
    if (!c.error.code.empty()) {
      FUZZ_CHECK(!c.error.message.empty(), "error %s without a message", c.error.code.c_str());
    }
    return 0;
  }
  FUZZ_CHECK(c.error.code.empty(), "accepted, but: %s", c.error.code.c_str());
  for (const std::string& sql : c.sql) {
    const std::string why = sluice::fuzz::CheckSqlLexically(sql, c.identifiers);
    FUZZ_CHECK(why.empty(), "%s in: %s", why.c_str(), sql.c_str());
  }
  return 0;
}
