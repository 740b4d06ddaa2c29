// The query routes, GET /v1/tables/{table}/rows and …/aggregate: one
// QueryRun per request carries it from the parameters to the last byte.
//
//   1. The table's catalog entry from memory when this process read it less
//      than a second ago and no table changed since (db/table_cache.hpp):
//      then steps 3 and 4 need no database, and a bad request is answered
//      without a connection.
//   2. One pooled connection (a Lease) for the rest of the request; without
//      an entry in memory, the entry is read on it first (404 when unknown)
//      and kept. A query built from a kept entry that fails as if the table
//      had changed under it (no such table or column: another process
//      replaced or dropped it) reads the entry again and starts over, once.
//   3. Parameters → query model (query_params), checked against the entry:
//      400 naming the parameter; a cursor is checked (tampered → 400).
//   4. count=exact|estimate with filters: COUNT(*) or EXPLAIN on the same
//      connection first (with no filter the catalog's count is exact).
//   5. The SELECT (sql_render), under SET STATEMENT max_statement_time, is
//      streamed (MysqlConnection::StreamQuery) row by row into a
//      ResultWriter. Nothing is sent before the first row (or the end), so
//      an error that comes early — max_statement_time (503 with a clear
//      message), a lost connection (503), a dropped table (404) — is still a
//      proper error answer. A small answer (under 64 KiB) goes out whole,
//      with Content-Length; a bigger one is chunked: each 64 KiB is written
//      as it fills, and when the socket's queue is full (Write() returns
//      false) fetching pauses until OnDrain, so the client's read speed sets
//      the pace and memory stays flat. `Accept-Encoding: gzip` compresses each
//      chunk on the worker pool (zlib), one at a time and in order.
//   6. JSON pages fetch limit+1 rows: the extra row is never written, it only
//      says that a next page exists; next_cursor is then the keyset position
//      of the page's last row (sort-key values and `_row`), or an offset for
//      aggregates. The envelope (or CSV header row) is written in front of
//      the first chunk, so an answer that ends inside its page can still say
//      its exact total (offset + rows) for free. CSV and NDJSON carry
//      `X-Total-Count` when the total is known, and no cursor.
//   7. An error after bytes went out aborts the response (the connection is
//      closed without the final chunk), so a truncated answer never looks
//      complete. A client that goes away abandons the stream; the pool drops
//      that connection rather than read the rest of the result.
#pragma once

#include <memory>

#include "api/table_routes.hpp"
#include "http/exchange.hpp"

namespace sluice::api {

/// Which query route.
enum class QueryKind { kRows, kAggregate };

/// The handler of one /rows or /aggregate request.
std::unique_ptr<http::Handler> MakeTableQueryHandler(const TableApi& api, QueryKind kind);

}  // namespace sluice::api
