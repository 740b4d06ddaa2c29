// The uploads API (API.md "Uploads"):
//   POST   /v1/uploads               a file as multipart/form-data or a raw body (write)
//   GET    /v1/uploads               records, newest first, limit/cursor (read)
//   GET    /v1/uploads/{id}          one record; ?wait=N holds it until the upload ends (read)
//   DELETE /v1/uploads/{id}          cancels a running upload (write); for a finished
//                                    one, drops its table and S3 object (admin)
//   GET    /v1/uploads/{id}/events   text/event-stream of progress, then the final record (read)
// The handlers only speak HTTP: body forms, options, answers. The work is an
// ingest::IngestJob (started through the IngestRegistry); records that are
// not running come from the catalog.
#pragma once

#include <uv.h>

#include <functional>

#include "db/catalog.hpp"
#include "http/router.hpp"
#include "ingest/ingest_job.hpp"

namespace sluice::db {
class DbPool;
}
namespace sluice::s3 {
class S3Client;
}

namespace sluice::api {

struct UploadApi {
  uv_loop_t* loop = nullptr;
  ingest::IngestRegistry* registry = nullptr;
  db::Catalog* catalog = nullptr;
  db::DbPool* pool = nullptr;      ///< drops a deleted upload's table
  s3::S3Client* s3 = nullptr;      ///< removes its object; null without S3
  /// False until the catalog is ready (tables created, start-up sweep done):
  /// upload routes answer 503 until then.
  std::function<bool()> ready;
};

/// Adds the routes; `api` must outlive the router.
void AddUploadRoutes(http::Router& router, const UploadApi& api);

}  // namespace sluice::api
