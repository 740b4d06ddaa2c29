// The catalog's statements on the pool (see catalog.hpp). Init runs on one
// Lease, because GET_LOCK belongs to a session: lock, create the version
// table, read the version, create or migrate, record it, unlock. Every other
// call is a single statement (Recover: a few in a row) through DbPool::Query.
#include "db/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <utility>

#include "db/sql_quote.hpp"
#include "db/table_ddl.hpp"
#include "log/logger.hpp"

namespace sluice::db {
namespace {

constexpr const char* kLockName = "'sluice_catalog'";
constexpr int kLockSeconds = 30;

core::Status NotFound(std::string what) { return {core::ErrorDomain::kNotFound, 0, std::move(what)}; }

/// "Rows matched: N" of an UPDATE's mysql_info() (affected_rows counts only
/// rows that changed); 0 when absent.
std::uint64_t RowsMatched(const glue::QueryResult& result) {
  constexpr std::string_view kKey = "Rows matched: ";
  auto at = result.info.find(kKey);
  if (at == std::string::npos) return result.affected_rows;
  return std::strtoull(result.info.c_str() + at + kKey.size(), nullptr, 10);
}

/// Runs `statements` in order on one connection; stops at the first error.
/// The callback gets every result.
void RunOnLease(std::shared_ptr<Lease> lease, std::vector<std::string> statements, std::size_t next,
                std::vector<glue::QueryResult> results,
                std::function<void(core::Result<std::vector<glue::QueryResult>>)> done) {
  if (next == statements.size()) {
    done(std::move(results));
    return;
  }
  std::string sql = statements[next];
  (**lease).Query(std::move(sql), [lease, statements = std::move(statements), next, results = std::move(results),
                                   done = std::move(done)](core::Result<glue::QueryResult> result) mutable {
    if (!result) {
      done(result.error());
      return;
    }
    results.push_back(std::move(result).value());
    RunOnLease(std::move(lease), std::move(statements), next + 1, std::move(results), std::move(done));
  });
}

}  // namespace

std::vector<std::string> Catalog::SchemaSql() {
  return {
      "CREATE TABLE IF NOT EXISTS sluice_schema_version ("
      "id TINYINT NOT NULL PRIMARY KEY, "
      "version INT NOT NULL, "
      "updated_at DATETIME(3) NOT NULL"
      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",

      "CREATE TABLE IF NOT EXISTS sluice_uploads ("
      "id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, "
      "state VARCHAR(16) CHARACTER SET ascii NOT NULL, "
      "table_name VARCHAR(64) NOT NULL, "
      "mode VARCHAR(16) CHARACTER SET ascii NOT NULL, "
      "filename TEXT NOT NULL, "
      "bytes_received BIGINT UNSIGNED NOT NULL DEFAULT 0, "
      "sha256 CHAR(64) CHARACTER SET ascii NULL, "
      "rows_total BIGINT UNSIGNED NOT NULL DEFAULT 0, "
      "rows_loaded BIGINT UNSIGNED NOT NULL DEFAULT 0, "
      "rows_rejected BIGINT UNSIGNED NOT NULL DEFAULT 0, "
      "columns_json LONGTEXT NULL, "
      "rejected_json LONGTEXT NULL, "
      "s3_bucket VARCHAR(255) NULL, "
      "s3_key TEXT NULL, "
      "s3_etag VARCHAR(255) NULL, "
      "error_code VARCHAR(64) NULL, "
      "error_message TEXT NULL, "
      "created_at DATETIME(3) NOT NULL, "
      "finished_at DATETIME(3) NULL, "
      "duration_ms BIGINT UNSIGNED NULL, "
      "KEY by_table_sha (table_name, sha256), "
      "KEY by_state (state)"
      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",

      "CREATE TABLE IF NOT EXISTS sluice_tables ("
      "name VARCHAR(64) NOT NULL PRIMARY KEY, "
      "header_json LONGTEXT NOT NULL, "
      "columns_json LONGTEXT NOT NULL, "
      "row_count BIGINT UNSIGNED NOT NULL DEFAULT 0, "
      "upload_id VARCHAR(32) CHARACTER SET ascii NULL, "
      "created_at DATETIME(3) NOT NULL, "
      "updated_at DATETIME(3) NOT NULL"
      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
  };
}

// ---- Init --------------------------------------------------------------------

void Catalog::Init(StatusCallback done) {
  pool_.Acquire([done = std::move(done)](core::Result<Lease> acquired) mutable {
    if (!acquired) {
      done(acquired.error());
      return;
    }
    auto lease = std::make_shared<Lease>(std::move(acquired).value());
    auto schema = SchemaSql();
    std::vector<std::string> first = {fmt::format("SELECT GET_LOCK({}, {})", kLockName, kLockSeconds), schema[0],
                                      "SELECT MAX(version) FROM sluice_schema_version"};
    // Whatever happens after the lock is taken, it is released before `done`.
    auto finish = [lease, done = std::move(done)](core::Status status) mutable {
      (**lease).Query(fmt::format("SELECT RELEASE_LOCK({})", kLockName),
                      [lease, status = std::move(status), done = std::move(done)](auto) mutable {
                        lease->Release();
                        done(std::move(status));
                      });
    };
    RunOnLease(lease, std::move(first), 0, {}, [lease, schema, finish = std::move(finish)](
                                                   core::Result<std::vector<glue::QueryResult>> results) mutable {
      if (!results) return finish(results.error());
      const auto& lock = (*results)[0];
      if (lock.rows.empty() || lock.rows[0].empty() || lock.rows[0][0] != "1") {
        return finish(core::Status(core::ErrorDomain::kDb, 0,
                                   fmt::format("catalog: another process held the catalog lock for {} s",
                                               kLockSeconds)));
      }
      const auto& version_rows = (*results)[2].rows;
      int version = 0;
      if (!version_rows.empty() && !version_rows[0].empty() && version_rows[0][0]) {
        version = std::atoi(version_rows[0][0]->c_str());
      }
      if (version > kCatalogSchemaVersion) {
        return finish(core::Status(core::ErrorDomain::kDb, 0,
                                   fmt::format("catalog schema version {} is newer than this sluice knows ({}): "
                                               "upgrade sluice",
                                               version, kCatalogSchemaVersion)));
      }
      std::vector<std::string> steps;
      if (version == 0) {
        steps.assign(schema.begin() + 1, schema.end());
      }
      // Migrations from version N to N+1 go here, in order, as the schema evolves.
      if (version != kCatalogSchemaVersion) {
        std::string record = fmt::format(
            "INSERT INTO sluice_schema_version (id, version, updated_at) VALUES (1, {}, ", kCatalogSchemaVersion);
        AppendString(record, SqlTimestamp(NowMs()));
        record += ") ON DUPLICATE KEY UPDATE version = VALUES(version), updated_at = VALUES(updated_at)";
        steps.push_back(std::move(record));
      }
      RunOnLease(lease, std::move(steps), 0, {}, [version, finish = std::move(finish)](
                                                     core::Result<std::vector<glue::QueryResult>> applied) mutable {
        if (!applied) return finish(applied.error());
        if (version != kCatalogSchemaVersion) {
          log::Get("db")->info("catalog: schema version {} → {}", version, kCatalogSchemaVersion);
        }
        finish(core::Status::Ok());
      });
    });
  });
}

// ---- Recover -----------------------------------------------------------------

void Catalog::Recover(Callback<RecoveryStats> done) {
  std::string mark =
      "UPDATE sluice_uploads SET state = 'failed', error_code = 'interrupted', "
      "error_message = 'the server stopped while this upload was running', finished_at = ";
  std::int64_t now = NowMs();
  AppendString(mark, SqlTimestamp(now));
  mark += fmt::format(", duration_ms = GREATEST(0, TIMESTAMPDIFF(MICROSECOND, created_at, '{}') DIV 1000) "
                      "WHERE state IN ('receiving', 'loading')",
                      SqlTimestamp(now));
  pool_.Query(std::move(mark), [this, done = std::move(done)](core::Result<glue::QueryResult> marked) mutable {
    if (!marked) {
      done(marked.error());
      return;
    }
    RecoveryStats stats;
    stats.interrupted = marked->affected_rows;
    pool_.Query(
        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
        "AND (TABLE_NAME LIKE '\\_sluice\\_stage\\_%' OR TABLE_NAME LIKE '\\_sluice\\_old\\_%')",
        [this, stats, done = std::move(done)](core::Result<glue::QueryResult> listed) mutable {
          if (!listed) {
            done(listed.error());
            return;
          }
          if (listed->rows.empty()) {
            done(stats);
            return;
          }
          std::string drop = "DROP TABLE IF EXISTS ";
          for (std::size_t i = 0; i < listed->rows.size(); ++i) {
            if (i > 0) drop += ", ";
            AppendIdentifier(drop, listed->rows[i][0].value_or(""));
          }
          stats.dropped_tables = listed->rows.size();
          pool_.Query(std::move(drop), [stats, done = std::move(done)](core::Result<glue::QueryResult> dropped) {
            if (!dropped) {
              done(dropped.error());
              return;
            }
            if (stats.interrupted + stats.dropped_tables > 0) {
              log::Get("db")->warn("catalog: {} interrupted upload(s) marked failed, {} leftover table(s) dropped",
                                   stats.interrupted, stats.dropped_tables);
            }
            done(stats);
          });
        });
  });
}

// ---- Uploads -----------------------------------------------------------------

void Catalog::CreateUpload(const UploadRecord& record, StatusCallback done) {
  pool_.Query(InsertUploadSql(record), [done = std::move(done)](core::Result<glue::QueryResult> result) {
    done(result ? core::Status::Ok() : result.error());
  });
}

void Catalog::UpdateProgress(const UploadProgress& progress, StatusCallback done) {
  pool_.Query(UpdateProgressSql(progress), [id = progress.id, done = std::move(done)](
                                               core::Result<glue::QueryResult> result) {
    if (!result) {
      done(result.error());
      return;
    }
    done(RowsMatched(*result) == 0 ? NotFound(fmt::format("no upload '{}'", id)) : core::Status::Ok());
  });
}

void Catalog::FinishUpload(const UploadRecord& record, StatusCallback done) {
  pool_.Query(FinishUploadSql(record), [id = record.id, done = std::move(done)](
                                           core::Result<glue::QueryResult> result) {
    if (!result) {
      done(result.error());
      return;
    }
    done(RowsMatched(*result) == 0 ? NotFound(fmt::format("no upload '{}'", id)) : core::Status::Ok());
  });
}

void Catalog::GetUpload(std::string id, Callback<UploadRecord> done) {
  std::string sql(SelectUploadSql());
  sql += " WHERE id = ";
  AppendString(sql, id);
  pool_.Query(std::move(sql), [id, done = std::move(done)](core::Result<glue::QueryResult> result) {
    if (!result) {
      done(result.error());
      return;
    }
    if (result->rows.empty()) {
      done(NotFound(fmt::format("no upload '{}'", id)));
      return;
    }
    done(UploadFromRow(result->rows[0]));
  });
}

void Catalog::ListUploads(std::size_t limit, std::string cursor, Callback<UploadPage> done) {
  limit = std::clamp<std::size_t>(limit, 1, 1000);
  std::string sql(SelectUploadSql());
  if (!cursor.empty()) {
    sql += " WHERE id < ";
    AppendString(sql, cursor);
  }
  sql += fmt::format(" ORDER BY id DESC LIMIT {}", limit + 1);
  pool_.Query(std::move(sql), [limit, done = std::move(done)](core::Result<glue::QueryResult> result) {
    if (!result) {
      done(result.error());
      return;
    }
    UploadPage page;
    for (std::size_t i = 0; i < result->rows.size() && i < limit; ++i) {
      auto record = UploadFromRow(result->rows[i]);
      if (!record) {
        done(record.error());
        return;
      }
      page.uploads.push_back(std::move(*record));
    }
    if (result->rows.size() > limit) page.next_cursor = page.uploads.back().id;
    done(std::move(page));
  });
}

void Catalog::FindUpload(std::string table, std::string sha256, Callback<std::optional<UploadRecord>> done) {
  std::string sql(SelectUploadSql());
  sql += " WHERE table_name = ";
  AppendString(sql, table);
  sql += " AND sha256 = ";
  AppendString(sql, sha256);
  sql += " AND state = 'done' ORDER BY id DESC LIMIT 1";
  pool_.Query(std::move(sql), [done = std::move(done)](core::Result<glue::QueryResult> result) {
    if (!result) {
      done(result.error());
      return;
    }
    if (result->rows.empty()) {
      done(std::optional<UploadRecord>());
      return;
    }
    auto record = UploadFromRow(result->rows[0]);
    if (!record) {
      done(record.error());
      return;
    }
    done(std::optional<UploadRecord>(std::move(*record)));
  });
}

// ---- Tables ------------------------------------------------------------------

void Catalog::PutTable(const TableEntry& entry, StatusCallback done) {
  pool_.Query(PutTableSql(entry), [this, done = std::move(done)](core::Result<glue::QueryResult> result) {
    TableChanged();
    done(result ? core::Status::Ok() : result.error());
  });
}

void Catalog::AddTableRows(std::string table, std::uint64_t rows, std::string upload_id, StatusCallback done) {
  pool_.Query(AddTableRowsSql(table, rows, upload_id, NowMs()),
              [this, table, done = std::move(done)](core::Result<glue::QueryResult> result) {
                TableChanged();
                if (!result) {
                  done(result.error());
                  return;
                }
                done(RowsMatched(*result) == 0 ? NotFound(fmt::format("no catalog entry for table '{}'", table))
                                                : core::Status::Ok());
              });
}

void Catalog::GetTable(std::string name, Callback<TableEntry> done) {
  std::string sql(SelectTableSql());
  sql += " WHERE name = ";
  AppendString(sql, name);
  pool_.Query(std::move(sql), [name, done = std::move(done)](core::Result<glue::QueryResult> result) {
    if (!result) {
      done(result.error());
      return;
    }
    if (result->rows.empty()) {
      done(NotFound(fmt::format("no table '{}'", name)));
      return;
    }
    done(TableFromRow(result->rows[0]));
  });
}

void Catalog::ListTables(Callback<std::vector<TableEntry>> done) {
  std::string sql(SelectTableSql());
  sql += " ORDER BY name";
  pool_.Query(std::move(sql), [done = std::move(done)](core::Result<glue::QueryResult> result) {
    if (!result) {
      done(result.error());
      return;
    }
    std::vector<TableEntry> entries;
    for (const auto& row : result->rows) {
      auto entry = TableFromRow(row);
      if (!entry) {
        done(entry.error());
        return;
      }
      entries.push_back(std::move(*entry));
    }
    done(std::move(entries));
  });
}

void Catalog::DeleteTable(std::string name, StatusCallback done) {
  std::string sql = "DELETE FROM sluice_tables WHERE name = ";
  AppendString(sql, name);
  pool_.Query(std::move(sql), [this, done = std::move(done)](core::Result<glue::QueryResult> result) {
    TableChanged();
    done(result ? core::Status::Ok() : result.error());
  });
}

}  // namespace sluice::db
