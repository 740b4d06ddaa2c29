// See upload_delete.hpp. Every step runs to its end even when the client has
// gone: a half-done delete would leave a record that no longer tells the truth.
#include "api/upload_delete.hpp"

#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "db/catalog.hpp"
#include "db/db_pool.hpp"
#include "db/table_ddl.hpp"
#include "http/status.hpp"
#include "s3/s3_client.hpp"

namespace sluice::api {
namespace {

using WeakExchange = std::weak_ptr<http::Exchange>;

void RespondIfAlive(const WeakExchange& weak, int status, const char* code, const std::string& message) {
  if (auto live = weak.lock(); live && live->alive()) {
    if (status == 503) {
      live->RespondError(status, code, message, "", {{"Retry-After", "5"}});
    } else {
      live->RespondError(status, code, message);
    }
  }
}

/// Last step: the record says what happened.
void RewriteRecord(const UploadApi& api, const WeakExchange& weak, db::UploadRecord record, bool table_dropped) {
  record.state = db::UploadState::kCancelled;
  record.error_code = "deleted";
  record.error_message = fmt::format("deleted by DELETE /v1/uploads/{}: {}{}", record.id,
                                     table_dropped ? "table '" + record.table + "' dropped" : "table already gone",
                                     record.s3_key.empty() ? "" : ", S3 object removed");
  record.s3_key.clear();
  record.s3_etag.clear();
  auto shared = std::make_shared<db::UploadRecord>(std::move(record));
  api.catalog->FinishUpload(*shared, [weak, shared](core::Status status) {
    auto live = weak.lock();
    if (!live || !live->alive()) return;
    if (!status.ok()) {
      live->RespondError(503, "catalog_unavailable",
                         fmt::format("the table and object are gone but the record could not be updated: {}",
                                     status.message()),
                         "", {{"Retry-After", "5"}});
      return;
    }
    live->Respond(200, db::UploadRecordJson(*shared), http::kJsonType);
  });
}

/// Drops the table (when it is still this upload's), forgets it, then the record.
void DropTable(const UploadApi& api, const WeakExchange& weak, db::UploadRecord record) {
  const UploadApi* api_ptr = &api;
  api.catalog->GetTable(record.table, [api_ptr, weak, record](core::Result<db::TableEntry> entry) mutable {
    if (!entry) {
      if (entry.error().domain() == core::ErrorDomain::kNotFound) {
        RewriteRecord(*api_ptr, weak, std::move(record), false);  // dropped earlier (DELETE /v1/tables)
        return;
      }
      RespondIfAlive(weak, 503, "catalog_unavailable", entry.error().message());
      return;
    }
    std::string drop = db::DropTableSql(entry->name);
    api_ptr->pool->Query(std::move(drop), [api_ptr, weak, record](core::Result<glue::QueryResult> dropped) mutable {
      if (!dropped) {
        RespondIfAlive(weak, 503, "database_unavailable",
                       fmt::format("dropping table '{}' failed: {}", record.table, dropped.error().message()));
        return;
      }
      api_ptr->catalog->DeleteTable(record.table, [api_ptr, weak, record](core::Status forgot) mutable {
        if (!forgot.ok()) {
          RespondIfAlive(weak, 503, "catalog_unavailable", forgot.message());
          return;
        }
        RewriteRecord(*api_ptr, weak, std::move(record), true);
      });
    });
  });
}

}  // namespace

void DeleteFinishedUpload(const UploadApi& api, http::Exchange& exchange, const db::UploadRecord& record) {
  WeakExchange weak = exchange.weak_from_this();
  const UploadApi* api_ptr = &api;
  // Is the table still the one this upload made? Checked before anything goes.
  api.catalog->GetTable(record.table, [api_ptr, weak, record](core::Result<db::TableEntry> entry) {
    if (entry && entry->upload_id != record.id) {
      RespondIfAlive(weak, 409, "table_changed",
                     fmt::format("table '{}' was changed since by upload {}; deleting upload {} would remove "
                                 "rows it did not load (DELETE /v1/tables/{} drops the table)",
                                 record.table, entry->upload_id, record.id, record.table));
      return;
    }
    if (!entry && entry.error().domain() != core::ErrorDomain::kNotFound) {
      RespondIfAlive(weak, 503, "catalog_unavailable", entry.error().message());
      return;
    }
    if (record.s3_key.empty() || api_ptr->s3 == nullptr) {
      DropTable(*api_ptr, weak, record);
      return;
    }
    api_ptr->s3->DeleteObject(record.s3_key, [api_ptr, weak, record](core::Status deleted) {
      if (!deleted.ok()) {
        RespondIfAlive(weak, 503, "s3_unavailable",
                       fmt::format("removing s3 object '{}' failed (nothing was changed): {}", record.s3_key,
                                   deleted.message()));
        return;
      }
      DropTable(*api_ptr, weak, record);
    });
  });
}

}  // namespace sluice::api
