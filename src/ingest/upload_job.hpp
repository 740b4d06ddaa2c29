// UploadJob: the IngestJob that IngestRegistry starts (ingest_job.hpp has the
// contract). Internal to src/ingest: others hold it as an IngestJob.
//
// How it is put together:
//   Write ─┬─▶ MultipartUpload (the original bytes to S3)
//          └─▶ Pipeline (hash, inflate, split, parse, encode on workers)
//                 on_header ─▶ StagedTable "load stage" Prepare ─▶ Loader
//                 on_block  ─▶ Loader (TEXT columns widened first if needed)
//   Finish ─▶ S3 complete ∥ last blocks load ∥ digest + duplicate check
//          ─▶ publish (job_publish.cpp): convert the TEXT staging table to the
//             inferred types when they differ (one INSERT … SELECT into a typed
//             staging table), then StagedTable::Publish with the catalog entry
//          ─▶ the record `done` ─▶ on_finished
// Any failure ─▶ Fail(): the one cleanup path (stop the pipeline, abort the
// loader, abort or delete the S3 object, drop every staging table once no
// statement is running on it, record failed/cancelled) ─▶ on_finished.
//
// The staging table's types (create/replace): a column loads straight into
// its inferred type while every value so far has a spelling that the typed
// column gives back exactly (column_shape.hpp: `42`, `2024-01-31`, DECIMALs
// that all have the same number of decimals, …), decided on the first block
// before anything loads. Otherwise it is staged as TEXT, which holds every
// value exactly. When a later block does not fit — a value a typed column
// would change, a wider DECIMAL, a longer text — the loaders go idle and one
// ALTER TABLE changes the staging column (typed → TEXT is exact by that
// rule; empty fields, NULL while typed, become '' again at publish). At
// publish, columns staged as TEXT whose inferred type is not TEXT are
// converted in one INSERT … SELECT into a staging table of the final types;
// when every staging type already is the final one — the common case — the
// load stage itself is published, with no copy. So no value is ever lost or
// altered, and most files are written once. JSON Lines stages TEXT. Append
// to an existing table loads straight into its types; a value that does not
// fit them is a bad row.
//
// Small appends load direct: when the whole body is in (and is at most
// kDirectAppendBytes, not gzip) by the time the target's columns are known,
// no staging table is made — the encoded blocks wait in memory and
// StagedTable::PublishDirect LOADs them into the target inside the append
// transaction. A tiny upload then costs no DDL (a staging table's CREATE and
// DROP were three quarters of its time) and stays all or nothing.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ingest/ingest_job.hpp"
#include "ingest/loader.hpp"
#include "ingest/pipeline.hpp"
#include "ingest/staged_table.hpp"
#include "log/logger.hpp"
#include "s3/multipart_upload.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::ingest {

/// The csv type a value must fit to go into a column of `type` unchanged
/// (nullopt for the TEXT types).
std::optional<csv::ColumnType> RequiredType(const db::SqlType& type);

/// Whether `table` exists in the pool's database (compared exactly: names are
/// case-sensitive on Linux even where information_schema compares without case).
void CheckTableExists(db::DbPool& pool, std::string table, std::function<void(core::Result<bool>)> done);

/// The bytes an upload needs to progress (one S3 part and a few blocks): what
/// IngestRegistry reserves from the budget before it starts the job.
uint64_t UploadFloorBytes(const IngestContext& context);

/// See the top of this file.
class UploadJob final : public IngestJob {
 public:
  /// A job for `record` (id, table, mode, filename, created_at set; state
  /// receiving). `on_end` runs once after on_finished (the registry forgets it).
  static std::shared_ptr<UploadJob> Create(IngestContext context, IngestOptions options, db::UploadRecord record,
                                           Callbacks callbacks, std::function<void(const std::string&)> on_end);
  ~UploadJob() override;

  /// Sets up the S3 upload and the pipeline; an error means nothing started.
  /// UploadFloorBytes() must have been reserved from the budget: the job's
  /// account owns (and gives back) that grant from here on, also on error.
  core::Status Begin();

  bool Write(std::string_view bytes) override;
  void Finish() override;
  void Cancel(std::string code, std::string message) override;
  const db::UploadRecord& record() const override { return record_; }
  const std::string& duplicate_of() const override { return duplicate_of_; }
  uint64_t Subscribe(Callbacks callbacks) override;
  void Unsubscribe(uint64_t token) override;

 private:
  UploadJob(IngestContext context, IngestOptions options, db::UploadRecord record, Callbacks callbacks,
            std::function<void(const std::string&)> on_end);

  // Input and flow control (ingest_job.cpp).
  bool ShouldPause();
  void MaybeResume();
  void SyncS3();
  // Pipeline → staging table (ingest_job.cpp).
  void OnHeader();
  void OnStageReady(core::Status status);
  bool SetPlan();
  void OnColumnsAdded(std::size_t first);
  void OnBlock(PipelineBlock block);
  void OnS3Finished(core::Result<s3::UploadResult> result);
  // Loading (job_load.cpp).
  void PumpLoad();
  Loader& LoaderFor(std::size_t width);
  bool LoadersIdle() const;
  uint64_t RowsStaged() const;
  bool StageHolds(const PipelineBlock& block) const;
  bool SmallAndComplete() const;  ///< the whole body is in and small enough to load direct
  void MaybeWiden();
  void OnBlockLoaded(std::size_t width, const BlockDone& done);
  void FinishLoaders();
  void OnLoadFinished(core::Result<LoadStats> result);
  void Advance();
  // Cleanup, records and callbacks (ingest_job.cpp).
  void Fail(std::string code, std::string message, db::UploadState state = db::UploadState::kFailed);
  void AdvanceCleanup();
  void RefreshCounters();
  void OnProgressTimer();
  void WriteFinalRecord();
  void CountEnd();  ///< adds the finished upload to ctx_.counters
  // Publishing (job_publish.cpp).
  void StartDuplicateCheck();
  void StartPublish();
  void Convert(std::vector<db::ColumnDef> final_columns);
  void RunConvert(std::vector<db::ColumnDef> final_columns);
  void PublishStage(std::shared_ptr<StagedTable> stage);
  bool BlankFixNeeded(std::size_t i) const;

  std::weak_ptr<UploadJob> weak() { return std::static_pointer_cast<UploadJob>(shared_from_this()); }

  IngestContext ctx_;
  IngestOptions options_;
  db::UploadRecord record_;
  Callbacks own_;
  std::map<uint64_t, Callbacks> subscribers_;
  uint64_t next_token_ = 1;
  std::function<void(const std::string&)> on_end_;
  std::shared_ptr<spdlog::logger> log_;

  PublishMode mode_ = PublishMode::kCreate;
  std::shared_ptr<MemoryAccount> account_;
  std::shared_ptr<Pipeline> pipeline_;
  std::unique_ptr<s3::MultipartUpload> upload_;
  uint64_t s3_counted_ = 0;

  std::shared_ptr<StagedTable> load_stage_;   ///< what the Loader fills
  std::shared_ptr<StagedTable> final_stage_;  ///< typed copy, when types differ
  std::vector<db::ColumnDef> stage_columns_;  ///< the load stage's columns as they are now
  bool typed_stage_ = false;                  ///< append to an existing table: the target's types
  /// Per column: staged typed at some point (its empty fields may be NULL
  /// where the column ends as TEXT: made '' at publish).
  std::vector<bool> ever_typed_;
  /// Loaders by row width: JSON Lines blocks made before a key appeared load
  /// without its column (NULL there); CSV has one width.
  std::map<std::size_t, std::shared_ptr<Loader>> loaders_;
  int loader_finishes_ = 0;  ///< Finish callbacks still to come
  core::Status load_error_;
  std::deque<PipelineBlock> pending_;         ///< encoded, not yet given to the loader
  bool direct_ = false;                       ///< the load stage is direct(): no loaders
  std::vector<DirectBlock> direct_blocks_;    ///< direct: every block, for PublishDirect
  uint64_t direct_bytes_ = 0;                 ///< their bytes, counted in account_ until published
  LoadStats load_stats_;
  s3::UploadResult s3_result_;
  std::string duplicate_of_;  ///< the earlier upload, after a duplicate_upload failure
  glue::UvHandle<uv_timer_t> progress_timer_;

  // Where the job is.
  bool input_ended_ = false;
  bool pipeline_done_ = false;
  bool stage_preparing_ = false;
  bool stage_ready_ = false;
  bool widening_ = false;       ///< blocks wait: a TEXT column must grow first
  bool alter_running_ = false;
  bool loaders_finish_called_ = false;
  bool loader_done_ = false;  ///< every loader finished (or none was ever needed)
  bool s3_done_ = false;        ///< the object is complete (or there is no S3)
  bool s3_completed_ = false;   ///< an object exists at the key
  bool s3_clean_ = false;       ///< cleanup: nothing of the upload left on S3
  bool dup_started_ = false;
  bool dup_done_ = false;
  bool publishing_ = false;     ///< conversion or publish started
  bool db_busy_ = false;        ///< a conversion or publish statement is running
  bool published_ = false;
  bool failing_ = false;
  bool discards_started_ = false;
  int discards_ = 0;
  bool finishing_record_ = false;  ///< the final record is due (waits for a progress write in flight)
  bool final_sent_ = false;
  bool finished_ = false;
  bool paused_ = false;
  bool wake_scheduled_ = false;
  bool progress_dirty_ = false;
  bool progress_writing_ = false;
  bool final_stage_publishing_ = false;  ///< StagedTable::Publish is running: it decides the outcome
  struct LateFailure {
    std::string code;
    std::string message;
    db::UploadState state = db::UploadState::kFailed;
  };
  std::optional<LateFailure> late_failure_;  ///< a Cancel (or error) that came during the publish
};

}  // namespace sluice::ingest
