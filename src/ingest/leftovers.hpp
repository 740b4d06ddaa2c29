// Leftovers: the steps of an upload's cleanup that failed because a service
// was away — a staging table not dropped (MariaDB down), a multipart upload
// not aborted or an object not deleted (S3 down), a final record not stored —
// kept and tried again every few seconds until each succeeds. The upload's
// own cleanup path hands them over and answers its client at once instead
// of waiting for the service; once MariaDB or S3 is back, nothing of the
// failed upload is left and its record says why it failed. What is still
// pending when the server stops is the next start's recovery's (the catalog
// marks records and drops `_sluice_*` tables; the multipart sweep aborts
// uploads of known records).
//
// Loop thread only. Callbacks hold a weak pointer to the state, so destroying
// Leftovers (shutdown) while a retry is in flight is safe.
#pragma once

#include <uv.h>

#include <cstddef>
#include <memory>
#include <string>

#include "db/catalog_records.hpp"

namespace sluice::db {
class DbPool;
class Catalog;
}  // namespace sluice::db

namespace sluice::s3 {
class S3Client;
}

namespace sluice::ingest {

class Leftovers {
 public:
  /// `s3` may be null (no S3 configured).
  Leftovers(uv_loop_t* loop, db::DbPool* pool, db::Catalog* catalog, s3::S3Client* s3);
  ~Leftovers();
  Leftovers(const Leftovers&) = delete;
  Leftovers& operator=(const Leftovers&) = delete;

  /// DROP TABLE IF EXISTS `table` later.
  void DropTable(std::string table);
  /// AbortMultipartUpload(key, upload_id) later (`key` relative to the prefix).
  void AbortMultipartUpload(std::string key, std::string upload_id);
  /// DeleteObject(key) later.
  void DeleteObject(std::string key);
  /// Stores the final record later (after the upload's other leftovers).
  void StoreRecord(db::UploadRecord record);

  /// Steps still waiting.
  std::size_t pending() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace sluice::ingest
