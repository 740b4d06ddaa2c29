// See table_routes.hpp. The catalog answers the list and the schema; DELETE
// drops the table, then its entry, on one pooled connection; POST …/indexes
// adds a secondary index with ALTER TABLE … ALGORITHM=INPLACE, LOCK=NONE, so
// reads (and the loop: the statement runs on the non-blocking connection)
// carry on while InnoDB builds it. Text columns are indexed by a prefix (as
// much as fits InnoDB's 3072-byte key), which serves equality, ranges and
// LIKE 'prefix*' filters.
#include "api/table_routes.hpp"

#include <fmt/format.h>
#include <openssl/sha.h>
#include <simdjson.h>

#include <memory>
#include <string>
#include <vector>

#include "api/table_query.hpp"
#include "core/json_writer.hpp"
#include "db/catalog_records.hpp"
#include "db/sql_quote.hpp"
#include "db/table_ddl.hpp"
#include "http/simple_handler.hpp"
#include "query/query_model.hpp"

namespace sluice::api {
namespace {

/// ER_DUP_KEYNAME: an index with that name (the same columns) exists.
constexpr int kDuplicateKeyName = 1061;
/// InnoDB's longest index key (DYNAMIC rows), in bytes; utf8mb4 takes 4 per character.
constexpr std::size_t kMaxKeyBytes = 3072;
constexpr std::size_t kMaxTextPrefixChars = 255;
constexpr std::size_t kMaxIndexColumns = 16;

void RespondNotReady(http::Exchange& exchange) {
  exchange.RespondError(503, "not_ready", "the catalog is not ready yet (is MariaDB up?); retry shortly", "",
                        {{"Retry-After", "5"}});
}

void RespondCatalogError(http::Exchange& exchange, const core::Status& status, std::string_view table) {
  if (status.domain() == core::ErrorDomain::kNotFound) {
    exchange.RespondError(404, "not_found", fmt::format("no table '{}'", table), "table");
  } else {
    exchange.RespondError(503, "catalog_unavailable", status.message(), "", {{"Retry-After", "5"}});
  }
}

/// A route whose answer needs only the request; 503 until the catalog is ready.
http::HandlerFactory WhenReady(const TableApi& api, std::function<void(const TableApi&, http::Exchange&)> fn) {
  return http::Simple([&api, fn](http::Exchange& exchange) {
    if (api.ready && !api.ready()) {
      RespondNotReady(exchange);
      return;
    }
    fn(api, exchange);
  });
}

void ListTables(const TableApi& api, http::Exchange& exchange) {
  std::weak_ptr<http::Exchange> weak = exchange.weak_from_this();
  api.catalog->ListTables([weak](core::Result<std::vector<db::TableEntry>> entries) {
    auto live = weak.lock();
    if (!live || !live->alive()) return;
    if (!entries) {
      RespondCatalogError(*live, entries.error(), "");
      return;
    }
    std::string body = "[";
    for (std::size_t i = 0; i < entries->size(); ++i) {
      if (i > 0) body += ',';
      body += db::TableEntryJson((*entries)[i]);
    }
    body += ']';
    live->Respond(200, std::move(body));
  });
}

void GetTable(const TableApi& api, http::Exchange& exchange) {
  std::string name(exchange.request().PathParam("table"));
  std::weak_ptr<http::Exchange> weak = exchange.weak_from_this();
  api.catalog->GetTable(name, [weak, name](core::Result<db::TableEntry> entry) {
    auto live = weak.lock();
    if (!live || !live->alive()) return;
    if (!entry) {
      RespondCatalogError(*live, entry.error(), name);
      return;
    }
    live->Respond(200, db::TableEntryJson(*entry));
  });
}

/// Runs `statements` in order on one connection; `done` gets the first error
/// or Ok.
void RunInOrder(std::shared_ptr<db::Lease> lease, std::vector<std::string> statements, std::size_t next,
                std::function<void(core::Status)> done) {
  if (next == statements.size()) {
    done(core::Status::Ok());
    return;
  }
  std::string sql = statements[next];
  (*lease)->Query(std::move(sql), [lease, statements = std::move(statements), next,
                                   done = std::move(done)](core::Result<glue::QueryResult> result) mutable {
    if (!result) {
      done(result.error());
      return;
    }
    RunInOrder(std::move(lease), std::move(statements), next + 1, std::move(done));
  });
}

void DeleteTable(const TableApi& api, http::Exchange& exchange) {
  std::string name(exchange.request().PathParam("table"));
  std::weak_ptr<http::Exchange> weak = exchange.weak_from_this();
  // The catalog decides what is a table: a name it does not list (a catalog
  // table, a staging table, anything else) is a 404, never dropped.
  api.catalog->GetTable(name, [&api, weak, name](core::Result<db::TableEntry> entry) {
    auto live = weak.lock();
    if (!live || !live->alive()) return;
    if (!entry) {
      RespondCatalogError(*live, entry.error(), name);
      return;
    }
    if (!db::ValidateTableName(entry->name).ok()) {
      live->RespondError(404, "not_found", fmt::format("no table '{}'", name), "table");
      return;
    }
    std::string drop = db::DropTableSql(entry->name);
    std::string forget = "DELETE FROM sluice_tables WHERE name = ";
    db::AppendString(forget, entry->name);
    api.pool->Acquire([&api, weak, name, drop, forget](core::Result<db::Lease> lease) {
      if (!lease) {
        if (auto failed = weak.lock(); failed && failed->alive()) {
          failed->RespondError(503, "database_unavailable", lease.error().message(), "", {{"Retry-After", "5"}});
        }
        return;
      }
      auto shared = std::make_shared<db::Lease>(std::move(lease).value());
      // Runs to the end even when the client has gone: a drop is not undone.
      RunInOrder(shared, {drop, forget}, 0, [&api, weak, name](core::Status status) {
        api.catalog->TableChanged();  // the queries' cached entry goes, whatever happened
        auto done = weak.lock();
        if (!done || !done->alive()) return;
        if (!status.ok()) {
          done->RespondError(500, "internal", fmt::format("dropping '{}' failed: {}", name, status.message()));
          return;
        }
        done->Respond(204, "");
      });
    });
  });
}

/// POST /v1/tables/{table}/indexes {"columns":["a","b"]}
class CreateIndexHandler final : public http::Handler {
 public:
  explicit CreateIndexHandler(const TableApi& api) : api_(api) {}

  void OnBody(http::Exchange&, std::string_view chunk) override { body_.append(chunk); }

  void OnBodyEnd(http::Exchange& exchange) override {
    if (api_.ready && !api_.ready()) {
      RespondNotReady(exchange);
      return;
    }
    std::vector<std::string> names;
    if (!ParseColumns(exchange, names)) return;
    std::string table(exchange.request().PathParam("table"));
    std::weak_ptr<http::Exchange> weak = exchange.weak_from_this();
    const TableApi& api = api_;
    api_.catalog->GetTable(table, [&api, weak, table, names](core::Result<db::TableEntry> entry) {
      auto live = weak.lock();
      if (!live || !live->alive()) return;
      if (!entry) {
        RespondCatalogError(*live, entry.error(), table);
        return;
      }
      auto schema = query::TableSchema::FromEntry(*entry);
      if (!schema) {
        live->RespondError(500, "internal", schema.error().message());
        return;
      }
      std::vector<std::size_t> columns;
      for (const auto& name : names) {
        auto index = schema->Find(name);
        if (!index) {
          live->RespondError(400, "unknown_column", fmt::format("table '{}' has no column '{}'", table, name),
                             "columns");
          return;
        }
        if (std::find(columns.begin(), columns.end(), *index) != columns.end()) {
          live->RespondError(400, "invalid_parameter", fmt::format("column '{}' is listed twice", name), "columns");
          return;
        }
        columns.push_back(*index);
      }
      std::string index_name = IndexName(*schema, columns);
      std::string sql = IndexSql(*schema, columns, index_name);
      api.pool->Query(sql, [&api, weak, table, index_name, schema = *schema,
                            columns](core::Result<glue::QueryResult> r) {
        api.catalog->TableChanged();  // nothing cached depends on indexes today; keep it that way cheaply
        auto done = weak.lock();
        if (!done || !done->alive()) return;
        if (!r && r.error().code() == kDuplicateKeyName) {
          done->RespondError(409, "index_exists", fmt::format("table '{}' already has this index", table),
                             "columns");
          return;
        }
        if (!r) {
          done->RespondError(500, "internal", fmt::format("adding the index failed: {}", r.error().message()));
          return;
        }
        core::JsonWriter w;
        w.BeginObject().Key("table").String(schema.name).Key("index").String(index_name).Key("columns").BeginArray();
        for (std::size_t index : columns) w.String(schema.columns[index].name);
        w.EndArray().EndObject();
        done->Respond(201, std::move(w).str());
      });
    });
  }

 private:
  bool ParseColumns(http::Exchange& exchange, std::vector<std::string>& names) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    simdjson::dom::array array;
    if (parser.parse(body_).get(root) != simdjson::SUCCESS || root["columns"].get(array) != simdjson::SUCCESS ||
        array.size() == 0 || array.size() > kMaxIndexColumns) {
      exchange.RespondError(400, "invalid_parameter",
                            fmt::format("the body is {{\"columns\": [\"col\", …]}} with 1 to {} column names",
                                        kMaxIndexColumns),
                            "columns");
      return false;
    }
    for (simdjson::dom::element item : array) {
      std::string_view name;
      if (item.get(name) != simdjson::SUCCESS) {
        exchange.RespondError(400, "invalid_parameter", "columns holds column names (strings)", "columns");
        return false;
      }
      names.emplace_back(name);
    }
    return true;
  }

  /// `sluice_ix_<16 hex>`: from the column list, so the same columns give the
  /// same name (a second request is a 409, not a second index).
  static std::string IndexName(const query::TableSchema& schema, const std::vector<std::size_t>& columns) {
    std::string key;
    for (std::size_t index : columns) {
      key += schema.columns[index].name;
      key.push_back('\0');
    }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
    std::string name = "sluice_ix_";
    for (int i = 0; i < 8; ++i) name += fmt::format("{:02x}", digest[i]);
    return name;
  }

  static std::string IndexSql(const query::TableSchema& schema, const std::vector<std::size_t>& columns,
                              const std::string& index_name) {
    std::size_t fixed_bytes = 0, text_columns = 0;
    for (std::size_t index : columns) {
      if (schema.columns[index].text()) {
        ++text_columns;
      } else {
        fixed_bytes += 9;  // DECIMAL(65) at most 30 bytes, but BIGINT/DOUBLE/DATE(TIME) ≤ 9; room is ample
      }
    }
    std::size_t prefix = kMaxTextPrefixChars;
    if (text_columns > 0) {
      std::size_t room = kMaxKeyBytes > fixed_bytes + 64 ? kMaxKeyBytes - fixed_bytes - 64 : 0;
      prefix = std::min(prefix, room / 4 / text_columns);
      if (prefix == 0) prefix = 1;
    }
    std::string sql = "ALTER TABLE ";
    db::AppendIdentifier(sql, schema.name);
    sql += " ADD INDEX ";
    db::AppendIdentifier(sql, index_name);
    sql += " (";
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) sql += ", ";
      const query::Column& column = schema.columns[columns[i]];
      db::AppendIdentifier(sql, column.name);
      if (column.text()) sql += fmt::format("({})", prefix);
    }
    sql += "), ALGORITHM=INPLACE, LOCK=NONE";
    return sql;
  }

  const TableApi& api_;
  std::string body_;
};

}  // namespace

void AddTableRoutes(http::Router& router, const TableApi& api) {
  router.Add({"GET", "/v1/tables", "tables.list", http::BodyLimit::kSmall, WhenReady(api, ListTables),
              auth::Role::kRead});
  router.Add({"GET", "/v1/tables/{table}", "tables.get", http::BodyLimit::kSmall, WhenReady(api, GetTable),
              auth::Role::kRead});
  router.Add({"DELETE", "/v1/tables/{table}", "tables.delete", http::BodyLimit::kSmall, WhenReady(api, DeleteTable),
              auth::Role::kAdmin});
  router.Add({"GET", "/v1/tables/{table}/rows", "tables.rows", http::BodyLimit::kSmall,
              [&api] { return MakeTableQueryHandler(api, QueryKind::kRows); }, auth::Role::kRead});
  router.Add({"GET", "/v1/tables/{table}/aggregate", "tables.aggregate", http::BodyLimit::kSmall,
              [&api] { return MakeTableQueryHandler(api, QueryKind::kAggregate); }, auth::Role::kRead});
  router.Add({"POST", "/v1/tables/{table}/indexes", "tables.indexes", http::BodyLimit::kSmall,
              [&api] { return std::make_unique<CreateIndexHandler>(api); }, auth::Role::kAdmin});
}

}  // namespace sluice::api
