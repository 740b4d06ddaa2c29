// MultipartSweep: at start, aborts the multipart uploads a crash left open.
// An upload killed with the process (kill -9, power loss) never ran its
// cleanup, and one whose abort failed while S3 was away may have outlived its
// retries; either way its record is in the catalog and no longer running once
// the catalog's recovery has marked it `interrupted`. The sweep lists the
// open multipart uploads under `uploads/`, reads the upload id from each key
// (`uploads/<id>/<name>`) and aborts those whose record exists and is not
// receiving/loading. Uploads of ids the catalog does not know are left alone:
// they may belong to another deployment sharing the bucket.
//
// Loop thread only. Destroying the sweep (shutdown) stops it between steps.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

#include "core/result.hpp"

namespace sluice::db {
class DbPool;
}

namespace sluice::s3 {
class S3Client;
}

namespace sluice::ingest {

class MultipartSweep {
 public:
  MultipartSweep(s3::S3Client* s3, db::DbPool* pool);
  ~MultipartSweep();
  MultipartSweep(const MultipartSweep&) = delete;
  MultipartSweep& operator=(const MultipartSweep&) = delete;

  /// Runs once; `done` gets the number of uploads aborted (or the first error).
  void Run(std::function<void(core::Result<std::size_t>)> done);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace sluice::ingest
