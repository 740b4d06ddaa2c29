// IngestJob: one upload, from the first byte to a published table — the one
// object both `POST /v1/uploads` and `sluice ingest` drive (DESIGN.md "The
// upload pipeline"). The producer (an HTTP body, a file, stdin) hands it the
// ORIGINAL bytes as they arrive; the job tees them to
//   - the S3 multipart upload of the original (`<prefix>uploads/<id>/<name>`),
//   - a streaming SHA-256 (on the worker pool),
//   - gzip inflation when the content is gzip (worker pool), then the CSV/TSV
//     (or JSON Lines) block splitter → parse on workers → encode → the
//     Loader into a staging table,
// keeps the upload record in the catalog (receiving → loading → done|failed|
// cancelled, progress at most every 250 ms), and at the end publishes the
// table atomically per mode and writes its catalog entry — only once the S3
// object is complete. Every failure (bad input under on_error=abort, no
// header row, S3 or DB error, Cancel) runs ONE cleanup path: abort the
// multipart upload, drop the staging table, mark the record failed (or
// cancelled) with error {code, message}; readers never see a partial table.
//
// Rules:
//  - Loop thread only; nothing blocks the loop (per-byte work on workers).
//  - Callbacks come from later loop turns, never from inside Write/Finish/
//    Cancel. on_finished runs exactly once.
//  - Memory: a job starts only once the MemoryBudget admits its working set
//    (IngestRegistry waits for that before reading the body); it counts every
//    buffer it holds (S3 parts, blocks waiting, blocks parsed and encoded)
//    against its grant; Write() returns false once the producer should pause,
//    and on_writable says when to go on.
//  - The IngestRegistry owns running jobs; others hold the id or a weak_ptr.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "core/result.hpp"
#include "db/catalog.hpp"
#include "db/db_pool.hpp"
#include "ingest/memory_budget.hpp"

namespace sluice::s3 {
class S3Client;
}

namespace sluice::ingest {

class Leftovers;

/// Totals over every job since the server started, for /metrics (loop thread).
struct IngestCounters {
  uint64_t bytes_received = 0;  ///< body bytes as they arrive (compressed when gzip), whatever the outcome
  uint64_t rows_loaded = 0;     ///< rows published into tables (uploads that ended `done`)
  uint64_t rows_rejected = 0;   ///< bad rows skipped by finished uploads
  uint64_t done = 0;            ///< uploads that ended in each state
  uint64_t failed = 0;
  uint64_t cancelled = 0;
};

/// What a job needs from the server; everything outlives every job.
struct IngestContext {
  uv_loop_t* loop = nullptr;
  db::DbPool* pool = nullptr;
  db::Catalog* catalog = nullptr;
  s3::S3Client* s3 = nullptr;      ///< null: no S3 copy (sluice ingest --no-s3)
  std::string s3_bucket;           ///< for the record
  MemoryBudget* budget = nullptr;
  const config::Config* config = nullptr;
  Leftovers* leftovers = nullptr;  ///< cleanup steps that failed are retried here (null: only logged)
  IngestCounters* counters = nullptr;  ///< null: not counted (sluice ingest)
  /// Runs (on the loop) each time an upload ends and no other runs or waits:
  /// the server returns the freed heap to the OS then. Null: nothing.
  std::function<void()> on_idle;
};

/// The upload options of API.md ("Uploads": query string or form fields).
struct IngestOptions {
  std::string table;                ///< empty: derived from the file name
  std::string mode = "create";      ///< create | replace | append
  std::string filename = "upload.csv";
  std::string format;               ///< csv | tsv | jsonl; empty: from content type / name, else csv
  std::string content_type;         ///< the body's media type, for format detection
  std::string delimiter = "auto";
  std::string quote = "\"";
  bool header = true;
  std::string encoding = "auto";    ///< utf-8 | latin-1 | auto
  std::string types = "infer";      ///< infer | text
  std::vector<std::pair<std::string, std::string>> type_overrides;  ///< type.{column}=...
  std::string on_error = "skip";    ///< skip | abort
  bool gzip = false;                ///< Content-Encoding: gzip or a .gz name
  std::optional<std::string> expected_sha256;  ///< hex, from Content-Digest
};

/// Applies one API option (e.g. "mode", "type.zip"). Unknown names and bad
/// values → Status kInvalid whose message names the parameter; `param` gets it.
core::Status ApplyOption(IngestOptions& options, std::string_view name, std::string_view value, std::string* param);
/// True for names ApplyOption knows (so a caller can tell options from other fields).
bool IsOptionName(std::string_view name);
/// API.md: lower-case, [a-z0-9_], at most 64 chars, never empty ("titanic.csv.gz" → "titanic").
std::string DeriveTableName(std::string_view filename);
/// The S3 key part: the file name made safe for a key (no '/', no control chars).
std::string SafeObjectName(std::string_view filename);

/// Why a job could not start or failed; `code` is the API error code and
/// `status` the HTTP status it maps to (409 table_exists / duplicate_upload,
/// 422 no_header …, 400 invalid_parameter, 503 busy …).
struct IngestError {
  int status = 500;
  std::string code;
  std::string message;
  std::string param;
  std::string upload_id;  ///< duplicate_upload: the earlier upload
};

class IngestJob : public std::enable_shared_from_this<IngestJob> {
 public:
  struct Callbacks {
    std::function<void()> on_writable;                                ///< Write() may be called again
    std::function<void(const db::UploadRecord&)> on_progress;         ///< ≤ every 250 ms while running
    std::function<void(const db::UploadRecord&)> on_finished;         ///< the final record, once
  };
  virtual ~IngestJob() = default;

  /// The producer's side.
  /// Takes a copy of `bytes` (original bytes, e.g. still gzip). False: pause
  /// until on_writable.
  virtual bool Write(std::string_view bytes) = 0;
  /// The input is complete: finish S3, staging, publish; then on_finished.
  virtual void Finish() = 0;
  /// Stops the job through the cleanup path; the record ends `cancelled`
  /// (code "cancelled") or `failed` with `code` (e.g. "client_gone",
  /// "interrupted" on shutdown).
  virtual void Cancel(std::string code, std::string message) = 0;

  /// The live record (state, counters, columns, rejected …).
  virtual const db::UploadRecord& record() const = 0;
  /// After a `duplicate_upload` failure: the earlier upload that loaded the
  /// same bytes into the table (the 409's `upload_id`); "" otherwise.
  virtual const std::string& duplicate_of() const = 0;
  /// Observers for GET ?wait and the events stream; returns a token for Unsubscribe.
  virtual uint64_t Subscribe(Callbacks callbacks) = 0;
  virtual void Unsubscribe(uint64_t token) = 0;
};

/// Running jobs by id: starts them (with the pre-checks that must answer
/// before any body byte is read), finds them, cancels them on shutdown.
class IngestRegistry {
 public:
  explicit IngestRegistry(IngestContext context);
  ~IngestRegistry();

  /// Starts a job: checks the options, the concurrency limit
  /// ([server] max_concurrent_uploads → 503 busy), `create` on an existing
  /// table (409 table_exists), a duplicate when expected_sha256 is given (409
  /// duplicate_upload), then creates the record and the S3 multipart upload.
  /// `done` gets the job (state receiving) or the error — before any byte.
  /// The job's own callbacks are `callbacks` (the starter's); others Subscribe.
  using StartCallback = std::function<void(std::shared_ptr<IngestJob> job, std::optional<IngestError> error)>;
  void Start(IngestOptions options, IngestJob::Callbacks callbacks, StartCallback done);
  /// A running job, or null.
  std::shared_ptr<IngestJob> Find(std::string_view id) const;
  size_t running() const;
  /// Cancels every running job with code "interrupted"; `done` once all ended.
  void CancelAll(std::function<void()> done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::ingest
