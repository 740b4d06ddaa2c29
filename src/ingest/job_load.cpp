// UploadJob, the loading part: encoded blocks into the load stage through
// Loaders (one per row width — JSON Lines blocks encoded before a key first
// appeared carry fewer columns and load without it), and the staging table
// growing in place when a block needs it: a TEXT column becomes MEDIUMTEXT or
// LONGTEXT for a long value, and JSON Lines adds a column per new key. Growth
// is one ALTER TABLE run while no block loads (every Loader idle); blocks wait
// in `pending_` meanwhile, so no block ever loads into a table too small for
// it. Loader failures and the totals come back here.
#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "db/sql_quote.hpp"
#include "ingest/upload_job.hpp"

namespace sluice::ingest {
namespace {

/// The TEXT type that holds `bytes`.
std::string TextTypeFor(uint64_t bytes) {
  csv::ColumnType text;
  text.kind = csv::TypeKind::kText;
  text.max_bytes = bytes;
  return csv::SqlTypeText(text);
}

}  // namespace

void UploadJob::PumpLoad() {
  if (!stage_ready_ || failing_) return;
  while (!pending_.empty() && !widening_) {
    PipelineBlock& block = pending_.front();
    if (block.columns > stage_columns_.size() && typed_stage_) {
      const auto& columns = pipeline_->columns();
      return Fail("columns_mismatch", fmt::format("mode=append: '{}' is not a column of table '{}'",
                                                  columns[stage_columns_.size()].header, record_.table));
    }
    if (direct_) {  // kept for PublishDirect (a direct stage is typed: nothing to widen)
      load_stats_.rows += block.encoded.row_count;
      load_stats_.blocks += 1;
      load_stats_.bytes += block.encoded.bytes();
      direct_bytes_ += block.encoded.held_bytes();
      direct_blocks_.push_back(DirectBlock{std::move(block.encoded), block.columns});
      pending_.pop_front();
      continue;
    }
    if (!typed_stage_ && !StageHolds(block)) {
      widening_ = true;
      break;
    }
    uint64_t bytes = block.encoded.held_bytes();
    bool taken = LoaderFor(block.columns).Submit(std::move(block.encoded));
    pending_.pop_front();
    if (!taken) account_->Give(bytes);  // the loader failed; its error arrives with BlockDone
  }
  if (widening_) MaybeWiden();
  Advance();
}

Loader& UploadJob::LoaderFor(std::size_t width) {
  auto& loader = loaders_[width];
  if (!loader) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < width && i < stage_columns_.size(); ++i) names.push_back(stage_columns_[i].name);
    loader = Loader::Create(*ctx_.pool, LoaderOptions{load_stage_->staging_table(), std::move(names)});
    loader->OnBlockDone([w = weak(), width](const BlockDone& done) {
      if (auto job = w.lock()) job->OnBlockLoaded(width, done);
    });
  }
  return *loader;
}

bool UploadJob::LoadersIdle() const {
  return std::all_of(loaders_.begin(), loaders_.end(),
                     [](const auto& entry) { return entry.second->in_flight() == 0 && entry.second->queued() == 0; });
}

uint64_t UploadJob::RowsStaged() const {
  uint64_t rows = 0;
  for (const auto& [width, loader] : loaders_) rows += loader->rows_loaded();
  return rows;
}

bool UploadJob::StageHolds(const PipelineBlock& block) const {
  if (block.columns > stage_columns_.size()) return false;
  for (std::size_t i = 0; i < block.columns; ++i) {
    const std::string& staged = stage_columns_[i].sql_type;
    if (uint64_t capacity = TextCapacity(staged); capacity != 0) {
      if (i < block.max_bytes.size() && block.max_bytes[i] > capacity) return false;
      continue;
    }
    if (pipeline_->Forced(i)) continue;  // its values were checked against it
    auto type = db::ParseSqlType(staged);
    auto exact = type ? RequiredType(*type) : std::nullopt;
    if (!exact || i >= block.shapes.size() || !block.shapes[i].FitsExact(*exact)) return false;
  }
  return true;
}

void UploadJob::MaybeWiden() {
  // The staging table must change before the next block loads: a TEXT column
  // grows, a typed column takes a wider exact type or becomes TEXT (its
  // values so far come back as written: that is what staging it typed
  // required), JSON Lines adds columns. Wait until nothing loads, ALTER, go on.
  if (!widening_ || alter_running_ || failing_ || !LoadersIdle()) return;
  std::size_t width = stage_columns_.size();
  for (const auto& block : pending_) width = std::max(width, block.columns);
  const auto& shapes = pipeline_->shapes();
  std::vector<db::ColumnDef> widened = stage_columns_;
  std::string sql = "ALTER TABLE ";
  db::AppendIdentifier(sql, load_stage_->staging_table());
  bool any = false;
  auto clause = [&](std::string_view verb, const db::ColumnDef& column) {
    sql += any ? ", " : " ";
    sql += verb;
    sql += " COLUMN ";
    db::AppendIdentifier(sql, column.name);
    sql += " " + column.sql_type + " NULL";
    any = true;
  };
  for (std::size_t i = 0; i < widened.size(); ++i) {
    csv::ColumnType inferred = pipeline_->Inferred(i);
    std::string target;
    if (TextCapacity(widened[i].sql_type) != 0 || i >= shapes.size()) {
      target = TextTypeFor(inferred.max_bytes);  // TEXT stays TEXT (never narrower)
      if (TextCapacity(target) <= TextCapacity(widened[i].sql_type)) continue;
    } else {
      target = StagingType(shapes[i], inferred, pipeline_->Forced(i).has_value());
      if (target == widened[i].sql_type) continue;
    }
    widened[i].sql_type = target;
    clause("MODIFY", widened[i]);
  }
  const auto& columns = pipeline_->columns();
  for (std::size_t i = widened.size(); i < width; ++i) {
    widened.push_back(db::ColumnDef{columns[i].name, TextTypeFor(pipeline_->Inferred(i).max_bytes)});
    clause("ADD", widened.back());
  }
  if (!any) {
    widening_ = false;
    PumpLoad();
    return;
  }
  if (auto status = db::CheckColumns(widened); !status.ok()) {
    return Fail(status.domain() == core::ErrorDomain::kLimit ? "too_many_columns" : "invalid_columns", status.message());
  }
  alter_running_ = true;
  log_->info("upload {}: changing the staging table: {}", record_.id, sql);
  ctx_.pool->Query(std::move(sql), [w = weak(), widened = std::move(widened)](core::Result<glue::QueryResult> result) {
    auto job = w.lock();
    if (!job) return;
    job->alter_running_ = false;
    if (job->failing_) return job->Advance();
    if (!result) return job->Fail("db_error", "changing the staging table: " + result.error().message());
    if (result->warnings > 0) {  // never expected: every change keeps the values as they are
      return job->Fail("db_error", fmt::format("changing the staging table altered {} value(s)", result->warnings));
    }
    job->stage_columns_ = widened;
    job->ever_typed_.resize(widened.size(), false);
    job->widening_ = false;
    if (!job->SetPlan()) return;
    job->PumpLoad();
  });
}

void UploadJob::OnBlockLoaded(std::size_t width, const BlockDone& done) {
  account_->Give(done.bytes);
  if (failing_) return Advance();
  const auto& loader = loaders_[width];
  if (!done.loaded || loader->failed()) {
    return Fail("db_error", "loading rows into the staging table: " + loader->error().message());
  }
  record_.rows_loaded = RowsStaged();
  progress_dirty_ = true;
  MaybeWiden();
  Advance();
}

void UploadJob::FinishLoaders() {
  loaders_finish_called_ = true;
  if (loaders_.empty()) {  // no block had a row to load (a header-only file)
    loader_done_ = true;
    return;
  }
  loader_finishes_ = static_cast<int>(loaders_.size());
  for (auto& [width, loader] : loaders_) {
    loader->Finish([w = weak()](core::Result<LoadStats> result) {
      if (auto job = w.lock()) job->OnLoadFinished(std::move(result));
    });
  }
}

void UploadJob::OnLoadFinished(core::Result<LoadStats> result) {
  if (!result) {
    if (load_error_.ok()) load_error_ = result.error();
  } else {
    load_stats_.rows += result->rows;
    load_stats_.blocks += result->blocks;
    load_stats_.bytes += result->bytes;
  }
  if (--loader_finishes_ > 0) return;
  loader_done_ = true;
  log_->debug("upload {}: {} rows staged after {} ms", record_.id, load_stats_.rows, db::NowMs() - record_.created_at_ms);
  if (!load_error_.ok() && !failing_) {
    return Fail("db_error", "loading rows into the staging table: " + load_error_.message());
  }
  Advance();
}

}  // namespace sluice::ingest
