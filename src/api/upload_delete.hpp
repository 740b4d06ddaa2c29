// DELETE /v1/uploads/{id} of a finished upload (issue 5): an admin undoes a
// load — the table the upload made and its original file in S3 go, and the
// record stays (state "cancelled", error "deleted") so the history explains
// itself. Kept apart from upload_routes.cpp, which cancels running uploads.
#pragma once

#include "api/upload_routes.hpp"
#include "db/catalog_records.hpp"
#include "http/exchange.hpp"

namespace sluice::api {

/// Deletes what the finished upload `record` left: first its S3 object (an S3
/// failure changes nothing: 503, try again), then its table — only when the
/// table is still the one this upload made (another upload appended to or
/// replaced it since: 409, DELETE /v1/tables/{table} is the tool) — then
/// rewrites the record. Answers 200 with the record. The caller has checked
/// the state (done) and the role (admin).
void DeleteFinishedUpload(const UploadApi& api, http::Exchange& exchange, const db::UploadRecord& record);

}  // namespace sluice::api
