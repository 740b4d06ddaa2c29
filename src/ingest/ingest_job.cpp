// UploadJob, the input and loading half: bytes in (tee to S3 and the
// pipeline, with the memory budget's backpressure), the load stage and the
// Loader, and the one cleanup path every failure takes. The publishing half
// (digest and duplicate check, type conversion, publish) is job_publish.cpp.
// The job is a set of facts ("the pipeline is done", "the loader is done",
// "S3 is complete") and Advance(), which starts whatever those facts allow;
// every callback records its fact and calls Advance(), so the order in which
// S3, the database and the workers answer never matters.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "db/catalog.hpp"
#include "db/sql_quote.hpp"
#include "ingest/defer.hpp"
#include "ingest/leftovers.hpp"
#include "ingest/upload_job.hpp"
#include "s3/s3_client.hpp"

namespace sluice::ingest {
namespace {

constexpr uint64_t kProgressMs = 250;
constexpr std::size_t kBlockBytes = std::size_t{4} << 20;
/// The largest body a small append loads direct (upload_job.hpp): a block's
/// worth at most, so its rows are one LOAD DATA held in memory.
constexpr uint64_t kDirectAppendBytes = uint64_t{1} << 20;
/// What one job may hold beyond its floor when the budget has room.
constexpr uint64_t kJobExtraBytes = uint64_t{64} << 20;
/// The producer reads on while this much more fits in the grant: room for
/// one parse (twice a block: its field table and encoding) and socket reads.
constexpr uint64_t kProducerReserve = 2 * kBlockBytes + (uint64_t{2} << 20);

/// Parse tasks at once: the worker pool's size (UV_THREADPOOL_SIZE, set from
/// [server] workers at start).
std::size_t WorkerThreads() {
  if (const char* env = std::getenv("UV_THREADPOOL_SIZE"); env != nullptr && std::atoi(env) > 0) {
    return static_cast<std::size_t>(std::atoi(env));
  }
  return 4;  // libuv's default
}

}  // namespace

uint64_t UploadFloorBytes(const IngestContext& context) {
  // One S3 part, the splitter's block, and the producer's reserve with a
  // block to spare: within that the job always progresses (see ShouldPause).
  uint64_t part = 0;
  if (context.s3 != nullptr) {
    part = context.config != nullptr ? context.config->s3.part_size : s3::MultipartOptions{}.part_size;
  }
  return part + 4 * kBlockBytes;
}

std::optional<csv::ColumnType> RequiredType(const db::SqlType& type) {
  csv::ColumnType t;
  switch (type.kind) {
    case db::SqlTypeKind::kBigint: t.kind = csv::TypeKind::kBigint; break;
    case db::SqlTypeKind::kDecimal:
      t.kind = csv::TypeKind::kDecimal;
      t.int_digits = static_cast<std::uint16_t>(type.precision - type.scale);
      t.scale = static_cast<std::uint16_t>(type.scale);
      break;
    case db::SqlTypeKind::kDouble: t.kind = csv::TypeKind::kDouble; break;
    case db::SqlTypeKind::kDate: t.kind = csv::TypeKind::kDate; break;
    case db::SqlTypeKind::kDatetime:
      t.kind = csv::TypeKind::kDatetime;
      t.scale = static_cast<std::uint16_t>(type.scale);
      break;
    default: return std::nullopt;
  }
  return t;
}

namespace {

/// The API error code for a failed Prepare.
std::string PrepareErrorCode(const core::Status& status, PublishMode mode) {
  switch (status.domain()) {
    case core::ErrorDomain::kConflict: return "table_exists";
    case core::ErrorDomain::kInvalid: return mode == PublishMode::kAppend ? "columns_mismatch" : "invalid_columns";
    case core::ErrorDomain::kLimit: return "too_many_columns";
    default: return "db_error";
  }
}

}  // namespace

std::shared_ptr<UploadJob> UploadJob::Create(IngestContext context, IngestOptions options, db::UploadRecord record,
                                             Callbacks callbacks, std::function<void(const std::string&)> on_end) {
  return std::shared_ptr<UploadJob>(
      new UploadJob(std::move(context), std::move(options), std::move(record), std::move(callbacks), std::move(on_end)));
}

UploadJob::UploadJob(IngestContext context, IngestOptions options, db::UploadRecord record, Callbacks callbacks,
                     std::function<void(const std::string&)> on_end)
    : ctx_(std::move(context)), options_(std::move(options)), record_(std::move(record)), own_(std::move(callbacks)),
      on_end_(std::move(on_end)), log_(log::Get("ingest")) {}

UploadJob::~UploadJob() {
  if (pipeline_) pipeline_->Stop();
  for (auto& block : pending_) account_->Give(block.encoded.held_bytes());
  if (account_) account_->Give(direct_bytes_);
}

bool UploadJob::SmallAndComplete() const {
  return input_ended_ && !failing_ && !options_.gzip && record_.bytes_received <= kDirectAppendBytes;
}

core::Status UploadJob::Begin() {
  // The registry reserved the floor for this job already: the account owns it now.
  uint64_t floor = UploadFloorBytes(ctx_);
  account_ = std::make_shared<MemoryAccount>(ctx_.budget, floor, floor + kJobExtraBytes);
  auto mode = ParsePublishMode(options_.mode);
  if (!mode) return mode.error();
  mode_ = *mode;

  auto encoding = csv::ParseEncoding(options_.encoding);
  if (!encoding) return encoding.error();
  PipelineOptions po;
  po.dialect.format = options_.format == "tsv" ? csv::Format::kTsv : csv::Format::kCsv;
  po.dialect.delimiter = options_.delimiter;
  po.dialect.quote = options_.quote;
  po.dialect.header = options_.header;
  po.encoding = *encoding;
  po.types.all_text = options_.types == "text";
  po.types.overrides = options_.type_overrides;
  po.gzip = options_.gzip;
  po.abort_on_bad_row = options_.on_error == "abort";
  if (ctx_.config != nullptr) po.max_field_bytes = static_cast<std::size_t>(ctx_.config->server.max_field_bytes);
  po.block_bytes = kBlockBytes;
  po.parse_slots = WorkerThreads();
  po.jsonl = options_.format == "jsonl";

  if (ctx_.s3 != nullptr) {
    std::string key = "uploads/" + record_.id + "/" + SafeObjectName(options_.filename);
    s3::MultipartOptions mo = ctx_.config != nullptr ? s3::MultipartOptions::FromConfig(ctx_.config->s3)
                                                     : s3::MultipartOptions{};
    mo.content_type = options_.content_type;
    s3::MultipartEvents events;
    events.on_writable = [w = weak()] {
      if (auto job = w.lock()) job->MaybeResume();
    };
    events.on_released = [w = weak()](uint64_t) {
      if (auto job = w.lock()) job->SyncS3();
    };
    events.on_failed = [w = weak()](const core::Status& error) {
      if (auto job = w.lock()) job->Fail("s3_error", "storing the original in S3 failed: " + error.message());
    };
    auto upload = s3::MultipartUpload::Create(*ctx_.s3, key, mo, std::move(events));
    if (!upload) return upload.error();
    upload_ = std::move(upload.value());
    record_.s3_bucket = ctx_.s3_bucket;
    record_.s3_key = ctx_.s3->FullKey(key);
  } else {
    s3_done_ = true;
    s3_clean_ = true;
  }

  PipelineEvents pe;
  pe.on_header = [w = weak()] {
    if (auto job = w.lock()) job->OnHeader();
  };
  pe.on_columns_added = [w = weak()](std::size_t first) {
    if (auto job = w.lock()) job->OnColumnsAdded(first);
  };
  pe.on_block = [w = weak()](PipelineBlock block) {
    if (auto job = w.lock()) job->OnBlock(std::move(block));
  };
  pe.on_failed = [w = weak()](PipelineFailure failure) {
    if (auto job = w.lock()) job->Fail(std::move(failure.code), std::move(failure.message));
  };
  pe.on_done = [w = weak()] {
    if (auto job = w.lock()) {
      job->log_->debug("upload {}: input parsed after {} ms", job->record_.id, db::NowMs() - job->record_.created_at_ms);
      job->pipeline_done_ = true;
      job->Advance();
    }
  };
  pipeline_ = Pipeline::Create(ctx_.loop, std::move(po), account_, std::move(pe));
  account_->OnGive([w = weak()] {
    if (auto job = w.lock()) {
      job->MaybeResume();
      if (job->pipeline_) job->pipeline_->MemoryFreed();
    }
  });

  progress_timer_.Init(uv_timer_init, ctx_.loop);
  progress_timer_->data = this;
  uv_timer_start(progress_timer_.get(), [](uv_timer_t* timer) {
    if (auto* job = static_cast<UploadJob*>(timer->data)) job->OnProgressTimer();
  }, kProgressMs, kProgressMs);
  return core::Status::Ok();
}

// ---- the producer's side -------------------------------------------------------

bool UploadJob::Write(std::string_view bytes) {
  if (input_ended_ || failing_ || finished_) return false;
  record_.bytes_received += bytes.size();
  if (ctx_.counters != nullptr) ctx_.counters->bytes_received += bytes.size();
  progress_dirty_ = true;
  if (upload_) {
    upload_->Write(bytes);
    SyncS3();
  }
  pipeline_->Write(bytes);
  if (!ShouldPause()) return true;
  paused_ = true;
  return false;
}

void UploadJob::Finish() {
  if (input_ended_ || failing_ || finished_) return;
  input_ended_ = true;
  paused_ = false;
  record_.state = db::UploadState::kLoading;
  progress_dirty_ = true;
  pipeline_->Finish();
  if (upload_) {
    upload_->Finish([w = weak()](core::Result<s3::UploadResult> result) {
      if (auto job = w.lock()) job->OnS3Finished(std::move(result));
    });
  }
  Advance();
}

void UploadJob::Cancel(std::string code, std::string message) {
  db::UploadState state = code == "cancelled" ? db::UploadState::kCancelled : db::UploadState::kFailed;
  Fail(std::move(code), std::move(message), state);
}

uint64_t UploadJob::Subscribe(Callbacks callbacks) {
  uint64_t token = next_token_++;
  if (finished_) {  // too late for events: the final record, on the next turn
    Defer(ctx_.loop, [record = record_, done = std::move(callbacks.on_finished)] {
      if (done) done(record);
    });
    return token;
  }
  subscribers_.emplace(token, std::move(callbacks));
  return token;
}

void UploadJob::Unsubscribe(uint64_t token) { subscribers_.erase(token); }

bool UploadJob::ShouldPause() {
  if (upload_ && !upload_->WantsMore()) return true;  // its parts drain on their own
  if (account_->Fits(kProducerReserve)) return false;
  // Past the grant: pause while something in flight will give bytes back
  // (input to split, blocks to parse, blocks to load, S3 parts to send); each
  // Give re-checks. What stays put without more input — the splitter's
  // partial block, the S3 part being filled — must never keep the producer
  // paused, or the upload would wait for itself.
  uint64_t standing = pipeline_->standing_bytes() + (upload_ ? upload_->open_part_bytes() : 0);
  return account_->held() > standing;
}

void UploadJob::MaybeResume() {
  if (!paused_ || failing_ || input_ended_ || finished_) return;
  if (ShouldPause()) return;  // the next Give tries again
  paused_ = false;
  if (wake_scheduled_) return;
  wake_scheduled_ = true;
  // Never inside the call that freed the memory (it may be the producer's own).
  Defer(ctx_.loop, [w = weak()] {
    auto job = w.lock();
    if (!job) return;
    job->wake_scheduled_ = false;
    if (job->paused_ || job->failing_ || job->input_ended_ || job->finished_) return;
    if (job->own_.on_writable) job->own_.on_writable();
  });
}

void UploadJob::SyncS3() {
  if (!upload_) return;
  uint64_t now = upload_->buffered_bytes();
  if (now > s3_counted_) {
    account_->Take(now - s3_counted_);
  } else if (now < s3_counted_) {
    account_->Give(s3_counted_ - now);
  }
  s3_counted_ = now;
}

// ---- pipeline → staging table ----------------------------------------------------

void UploadJob::OnHeader() {
  if (failing_) return;
  const auto& columns = pipeline_->columns();
  record_.columns.clear();
  std::vector<db::ColumnDef> defs;
  // The staging types: exact ones where the first block allows (see
  // column_shape.hpp), TEXT elsewhere; JSON Lines stages TEXT.
  const auto& shapes = pipeline_->shapes();
  for (std::size_t i = 0; i < columns.size(); ++i) {
    std::string type = "TEXT";
    if (i < shapes.size()) type = StagingType(shapes[i], pipeline_->Inferred(i), pipeline_->Forced(i).has_value());
    record_.columns.push_back({columns[i].name, columns[i].header, type});
    defs.push_back({columns[i].name, type});
  }
  progress_dirty_ = true;
  StagedTableSpec spec{record_.table, mode_, std::move(defs), record_.id + "_load", nullptr};
  if (mode_ == PublishMode::kAppend) {
    // Asked once the target is found (a round trip later: a small body is in by then).
    spec.load_direct = [w = weak()] {
      auto job = w.lock();
      return job && job->SmallAndComplete();
    };
  }
  load_stage_ = StagedTable::Create(*ctx_.pool, std::move(spec));
  stage_preparing_ = true;
  load_stage_->Prepare([w = weak()](core::Status status) {
    if (auto job = w.lock()) {
      job->stage_preparing_ = false;
      job->OnStageReady(std::move(status));
    }
  });
}

void UploadJob::OnStageReady(core::Status status) {
  if (failing_) return Advance();
  if (!status.ok()) return Fail(PrepareErrorCode(status, mode_), status.message());
  stage_ready_ = true;
  stage_columns_ = load_stage_->columns();
  typed_stage_ = mode_ == PublishMode::kAppend && load_stage_->target_exists();
  direct_ = load_stage_->direct();
  if (direct_) log_->debug("upload {}: small append, loading direct into '{}'", record_.id, record_.table);
  ever_typed_.assign(stage_columns_.size(), false);
  if (!SetPlan()) return;
  PumpLoad();
}

bool UploadJob::SetPlan() {
  // How rows are encoded for the staging table as it is now: an empty field
  // is NULL in a typed column; values must fit a type that cannot change (an
  // append target's, a forced one); an append target's TEXT sizes are limits.
  const std::size_t n = stage_columns_.size();
  RowPlan plan;
  plan.empty_is_null.assign(n, 0);
  plan.required.assign(n, std::nullopt);
  plan.max_bytes.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    bool text = TextCapacity(stage_columns_[i].sql_type) != 0;
    plan.empty_is_null[i] = text ? 0 : 1;
    if (!text && !typed_stage_) ever_typed_[i] = true;
    if (typed_stage_) {
      auto type = db::ParseSqlType(stage_columns_[i].sql_type);
      if (!type) {
        Fail("columns_mismatch", type.error().message());
        return false;
      }
      plan.required[i] = RequiredType(*type);
      plan.max_bytes[i] = TextCapacity(stage_columns_[i].sql_type);
    } else if (auto forced = pipeline_->Forced(i);
               forced && forced->kind != csv::TypeKind::kText && forced->kind != csv::TypeKind::kNull) {
      plan.required[i] = forced;  // type.{column}: values must fit; no widening
    }
  }
  pipeline_->SetPlan(std::move(plan));
  return true;
}

void UploadJob::OnColumnsAdded(std::size_t first) {
  if (failing_) return;
  const auto& columns = pipeline_->columns();
  for (std::size_t i = first; i < columns.size(); ++i) {
    record_.columns.push_back({columns[i].name, columns[i].header, "TEXT"});
  }
  progress_dirty_ = true;  // the staging table grows before the first block that needs the columns
}

void UploadJob::OnBlock(PipelineBlock block) {
  if (failing_) {
    account_->Give(block.encoded.held_bytes());
    return;
  }
  pending_.push_back(std::move(block));
  PumpLoad();
}

void UploadJob::OnS3Finished(core::Result<s3::UploadResult> result) {
  if (result) {
    s3_result_ = *result;
    s3_completed_ = true;
  }
  if (failing_) return Advance();  // the cleanup's Abort (or delete) takes it from here
  if (!result) return Fail("s3_error", "storing the original in S3 failed: " + result.error().message());
  s3_done_ = true;
  record_.s3_etag = result->etag;
  Advance();
}

void UploadJob::Advance() {
  if (finished_) return;
  if (failing_) return AdvanceCleanup();
  if (pipeline_done_ && stage_ready_ && pending_.empty() && !widening_ && !loaders_finish_called_) {
    FinishLoaders();
  }
  if (pipeline_done_ && !dup_started_) StartDuplicateCheck();
  if (failing_ || finished_) return;
  if (loader_done_ && s3_done_ && dup_done_ && !publishing_) {
    publishing_ = true;
    StartPublish();
  }
}

// ---- the one cleanup path ----------------------------------------------------------

void UploadJob::Fail(std::string code, std::string message, db::UploadState state) {
  if (finished_ || failing_ || published_) return;
  if (db_busy_ && final_stage_publishing_) {  // the publish decides: see PublishStage
    if (!late_failure_) late_failure_ = LateFailure{std::move(code), std::move(message), state};
    return;
  }
  failing_ = true;
  paused_ = false;
  record_.state = state;
  record_.error_code = std::move(code);
  record_.error_message = std::move(message);
  log_->info("upload {} ({}): {}: {}", record_.id, record_.table, record_.error_code, record_.error_message);

  if (pipeline_) pipeline_->Stop();
  for (auto& block : pending_) account_->Give(block.encoded.held_bytes());
  pending_.clear();
  account_->Give(direct_bytes_);
  direct_bytes_ = 0;
  direct_blocks_.clear();
  widening_ = false;
  for (auto& [width, loader] : loaders_) loader->Abort(core::Status(core::ErrorDomain::kInternal, 0, record_.error_message));
  if (!loaders_finish_called_) FinishLoaders();
  if (upload_) {
    auto cleaned = [w = weak()] {
      if (auto job = w.lock()) {
        job->s3_clean_ = true;
        job->Advance();
      }
    };
    auto remove = [w = weak(), cleaned](std::string key) {
      auto job = w.lock();
      if (!job) return;
      job->ctx_.s3->DeleteObject(key, [w, cleaned, key](core::Status status) {
        if (auto alive = w.lock(); alive && !status.ok()) {
          alive->log_->warn("upload {}: deleting s3 object {} failed: {}", alive->record_.id, key, status.message());
          if (alive->ctx_.leftovers != nullptr) alive->ctx_.leftovers->DeleteObject(key);
        }
        cleaned();
      });
    };
    if (s3_completed_) {
      remove(s3_result_.key);
    } else {
      upload_->Abort([w = weak(), cleaned, remove](core::Status status) {
        auto job = w.lock();
        if (!job) return;
        if (status.domain() == core::ErrorDomain::kConflict) return remove(job->upload_->key());  // completed meanwhile
        if (!status.ok()) {
          job->log_->warn("upload {}: aborting the multipart upload failed: {}", job->record_.id, status.message());
          // S3 away: abort it once it is back (the client is answered now).
          if (job->ctx_.leftovers != nullptr && !job->upload_->upload_id().empty()) {
            job->ctx_.leftovers->AbortMultipartUpload(job->upload_->key(), job->upload_->upload_id());
          }
        }
        cleaned();
      });
    }
  }
  Advance();
}

void UploadJob::AdvanceCleanup() {
  // Tables are dropped only once no statement runs on them any more.
  if (!loader_done_ || stage_preparing_ || alter_running_ || db_busy_) return;
  if (!discards_started_) {
    discards_started_ = true;
    for (const auto& stage : {load_stage_, final_stage_}) {
      if (!stage) continue;
      ++discards_;
      stage->Discard([w = weak(), table = stage->staging_table()](core::Status status) {
        auto job = w.lock();
        if (!job) return;
        if (!status.ok()) {
          job->log_->warn("upload {}: dropping {} failed: {}", job->record_.id, table, status.message());
          if (job->ctx_.leftovers != nullptr) job->ctx_.leftovers->DropTable(table);  // MariaDB away: later
        }
        --job->discards_;
        job->Advance();
      });
    }
  }
  if (discards_ > 0 || !s3_clean_) return;
  WriteFinalRecord();
}

// ---- the record ------------------------------------------------------------------------

void UploadJob::RefreshCounters() {
  if (!pipeline_) return;
  record_.rows_total = pipeline_->rows_good() + pipeline_->rows_bad();
  record_.rows_rejected = pipeline_->rows_bad();
  const auto& bad = pipeline_->bad_rows();
  if (record_.rejected.size() != bad.size()) {
    record_.rejected.clear();
    for (const auto& row : bad) record_.rejected.push_back({row.line, row.reason});
  }
  if (!published_ && !failing_) record_.rows_loaded = RowsStaged();
}

void UploadJob::OnProgressTimer() {
  if (finished_ || finishing_record_) return;
  RefreshCounters();
  if (!progress_dirty_) return;
  progress_dirty_ = false;
  auto subscribers = subscribers_;
  if (own_.on_progress) own_.on_progress(record_);
  for (auto& [token, callbacks] : subscribers) {
    if (callbacks.on_progress) callbacks.on_progress(record_);
  }
  if (progress_writing_ || failing_ || ctx_.catalog == nullptr) return;
  progress_writing_ = true;
  db::UploadProgress progress{record_.id, record_.state, record_.bytes_received, record_.rows_total,
                              record_.rows_loaded, record_.rows_rejected};
  ctx_.catalog->UpdateProgress(progress, [w = weak()](core::Status status) {
    auto job = w.lock();
    if (!job) return;
    job->progress_writing_ = false;
    if (!status.ok()) job->log_->warn("upload {}: progress not recorded: {}", job->record_.id, status.message());
    if (job->finishing_record_) job->WriteFinalRecord();
  });
}

void UploadJob::CountEnd() {
  IngestCounters* counters = ctx_.counters;
  if (counters == nullptr) return;
  counters->rows_loaded += record_.rows_loaded;
  counters->rows_rejected += record_.rows_rejected;
  switch (record_.state) {
    case db::UploadState::kDone: ++counters->done; break;
    case db::UploadState::kCancelled: ++counters->cancelled; break;
    default: ++counters->failed; break;
  }
}

void UploadJob::WriteFinalRecord() {
  if (finished_ || final_sent_) return;
  finishing_record_ = true;
  if (progress_writing_) return;  // after it (a late progress update must not overwrite the end)
  final_sent_ = true;
  RefreshCounters();
  if (record_.state != db::UploadState::kDone) {
    record_.rows_loaded = 0;  // all or nothing: no row of a failed upload is in the table
    record_.s3_key.clear();   // and nothing is left in S3
    record_.s3_etag.clear();
  }
  record_.finished_at_ms = db::NowMs();
  log_->info("upload {} ({}): {} — {} rows, {} bytes, at most {:.1f} MiB held", record_.id, record_.table,
             db::UploadStateName(record_.state), record_.rows_loaded, record_.bytes_received,
             static_cast<double>(account_->peak()) / (1 << 20));
  record_.duration_ms = static_cast<uint64_t>(std::max<int64_t>(0, *record_.finished_at_ms - record_.created_at_ms));
  CountEnd();
  auto finish = [w = weak()](core::Status status) {
    auto job = w.lock();
    if (!job || job->finished_) return;
    if (!status.ok()) {
      job->log_->warn("upload {}: final record not stored: {}", job->record_.id, status.message());
      if (job->ctx_.leftovers != nullptr && status.domain() != core::ErrorDomain::kNotFound) {
        job->ctx_.leftovers->StoreRecord(job->record_);  // MariaDB away: store it once it is back
      }
    }
    job->finished_ = true;
    job->progress_timer_.Close();
    auto own = job->own_;
    auto subscribers = job->subscribers_;
    if (own.on_finished) own.on_finished(job->record_);
    for (auto& [token, callbacks] : subscribers) {
      if (callbacks.on_finished) callbacks.on_finished(job->record_);
    }
    if (job->on_end_) job->on_end_(job->record_.id);
  };
  if (ctx_.catalog == nullptr) {
    Defer(ctx_.loop, [finish] { finish(core::Status::Ok()); });
    return;
  }
  ctx_.catalog->FinishUpload(record_, finish);
}

}  // namespace sluice::ingest
