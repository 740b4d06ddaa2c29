// POST /v1/uploads: reads the upload's body — multipart/form-data (options in
// form fields before the file part, the file name from the part) or a raw
// body (the name in ?filename=), chunked or not, maybe gzip — and streams the
// file's original bytes into an IngestJob, pausing the socket whenever the
// job says its memory budget is full. Answers 201 with the record once every
// row is committed (422 with the record when the ingest failed), or 202 right
// after the body with `Prefer: respond-async`.
#pragma once

#include <memory>

#include "api/upload_routes.hpp"
#include "http/exchange.hpp"

namespace sluice::api {

std::unique_ptr<http::Handler> MakeUploadCreateHandler(const UploadApi& api);

/// Parses `Content-Digest: sha-256=:<base64>:` (RFC 9530) into lower-case
/// hex; nullopt when the header has no sha-256 entry; false on a malformed one.
bool ParseContentDigest(std::string_view header, std::optional<std::string>& sha256_hex);

}  // namespace sluice::api
