// The tables API (API.md "Tables"):
//   GET    /v1/tables                        every table: name, rows, columns, upload_id, created_at (read)
//   GET    /v1/tables/{table}                one table's schema and row count (read)
//   DELETE /v1/tables/{table}                drop the table and its catalog entry (admin)
//   GET    /v1/tables/{table}/rows           filter, sort, page, select; JSON, CSV or NDJSON (read)
//   GET    /v1/tables/{table}/aggregate      group_by with sum/avg/min/max/count (read)
//   POST   /v1/tables/{table}/indexes        {"columns":[…]}: add an index, online (admin)
// The query routes are table_query.hpp; the rest are here. Every route
// answers 503 until the catalog is ready.
#pragma once

#include <uv.h>

#include <functional>

#include "config/config.hpp"
#include "db/catalog.hpp"
#include "db/db_pool.hpp"
#include "http/router.hpp"

namespace sluice::api {

/// What the tables API runs on. Everything pointed to must outlive the router.
struct TableApi {
  uv_loop_t* loop = nullptr;
  db::DbPool* pool = nullptr;
  db::Catalog* catalog = nullptr;
  /// Read on every request (so a SIGHUP reload applies): [server]
  /// max_page_rows, [mariadb] max_statement_time, [auth] jwt_secret (the
  /// cursor key).
  const config::Config* config = nullptr;
  /// False until the catalog is ready: the routes answer 503 until then.
  /// Empty = always ready.
  std::function<bool()> ready;
};

/// Adds the routes; `api` must outlive the router.
void AddTableRoutes(http::Router& router, const TableApi& api);

}  // namespace sluice::api
