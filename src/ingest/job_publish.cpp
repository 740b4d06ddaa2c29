// UploadJob, the publishing half: once every row is staged, the S3 object is
// complete and the hash is known — check the sent digest and look for a
// duplicate, turn the TEXT staging table into the inferred types if they
// differ (see upload_job.hpp for why), and publish atomically with the
// catalog's table entry. Every failure here goes through Fail(), the same
// cleanup as everywhere else; a Cancel that arrives while the publishing
// statement runs waits for its outcome (the rows are either live or not).
#include <fmt/format.h>

#include <utility>

#include "db/catalog.hpp"
#include "db/sql_quote.hpp"
#include "ingest/upload_job.hpp"

namespace sluice::ingest {
namespace {

std::string Lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

/// The canonical spelling of a type ("bigint(20)" → "BIGINT").
std::string Canonical(const std::string& sql_type) {
  auto type = db::ParseSqlType(sql_type);
  return type ? db::SqlTypeText(*type) : sql_type;
}

bool IsText(const std::string& sql_type) { return TextCapacity(sql_type) != 0; }

/// `SET SESSION …` statements around the conversion: an INSERT … SELECT into
/// an empty InnoDB table with these off is bulk-loaded (no per-row undo log).
constexpr const char* kBulkOn = "SET SESSION unique_checks = 0, foreign_key_checks = 0";
constexpr const char* kBulkOff = "SET SESSION unique_checks = 1, foreign_key_checks = 1";

}  // namespace

void CheckTableExists(db::DbPool& pool, std::string table, std::function<void(core::Result<bool>)> done) {
  std::string sql =
      "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ";
  db::AppendString(sql, table);
  pool.Query(std::move(sql), [table, done = std::move(done)](core::Result<glue::QueryResult> result) {
    if (!result) return done(result.error());
    for (const auto& row : result->rows) {
      if (!row.empty() && row[0] && *row[0] == table) return done(true);
    }
    done(false);
  });
}

void UploadJob::StartDuplicateCheck() {
  dup_started_ = true;
  const std::string& sha = pipeline_->sha256();
  record_.sha256 = sha;
  progress_dirty_ = true;
  if (options_.expected_sha256 && Lower(*options_.expected_sha256) != sha) {
    return Fail("digest_mismatch", fmt::format("the body's SHA-256 is {}, but Content-Digest said {}", sha,
                                               Lower(*options_.expected_sha256)));
  }
  if (ctx_.catalog == nullptr) {
    dup_done_ = true;
    return;
  }
  ctx_.catalog->FindUpload(record_.table, sha, [w = weak()](core::Result<std::optional<db::UploadRecord>> found) {
    auto job = w.lock();
    if (!job) return;
    if (job->failing_) return job->Advance();
    if (!found) return job->Fail("db_error", "looking for a duplicate upload: " + found.error().message());
    if (!*found || (*found)->id == job->record_.id) {
      job->dup_done_ = true;
      return job->Advance();
    }
    // The same bytes went into this table before; it counts only while the
    // table is still there (a dropped table may be loaded again).
    std::string earlier = (*found)->id;
    CheckTableExists(*job->ctx_.pool, job->record_.table, [w, earlier](core::Result<bool> exists) {
      auto self = w.lock();
      if (!self) return;
      if (self->failing_) return self->Advance();
      if (!exists) return self->Fail("db_error", "looking for a duplicate upload: " + exists.error().message());
      if (*exists) {
        self->duplicate_of_ = earlier;
        return self->Fail("duplicate_upload",
                          fmt::format("the same bytes (sha256 {}) were already loaded into table '{}' by upload {}",
                                      self->record_.sha256, self->record_.table, earlier));
      }
      self->dup_done_ = true;
      self->Advance();
    });
  });
}

void UploadJob::StartPublish() {
  log_->debug("upload {}: publishing after {} ms", record_.id, db::NowMs() - record_.created_at_ms);
  RefreshCounters();
  const auto& columns = pipeline_->columns();
  std::vector<db::ColumnDef> final_columns = stage_columns_;
  if (final_columns.size() != columns.size()) {
    return Fail("internal", fmt::format("the staging table has {} columns, the file {}", final_columns.size(),
                                        columns.size()));
  }
  if (!typed_stage_) {
    std::vector<std::string> types = pipeline_->SqlTypes();
    for (std::size_t i = 0; i < final_columns.size(); ++i) final_columns[i].sql_type = types[i];
  }
  record_.columns.clear();
  bool convert = false;
  for (std::size_t i = 0; i < final_columns.size(); ++i) {
    final_columns[i].sql_type = Canonical(final_columns[i].sql_type);
    record_.columns.push_back({final_columns[i].name, columns[i].header, final_columns[i].sql_type});
    if (final_columns[i].sql_type != Canonical(stage_columns_[i].sql_type)) convert = true;
  }
  if (convert && direct_) return Fail("internal", "a direct append has no staging table to convert");
  if (convert) return Convert(std::move(final_columns));
  // Same types: publish the load stage itself — once the TEXT columns that
  // were typed for a while have their empty fields back as '' (NULL there).
  std::string sets, where;
  for (std::size_t i = 0; i < stage_columns_.size(); ++i) {
    if (!BlankFixNeeded(i)) continue;
    if (!sets.empty()) {
      sets += ", ";
      where += " OR ";
    }
    db::AppendIdentifier(sets, stage_columns_[i].name);
    sets += " = COALESCE(";
    db::AppendIdentifier(sets, stage_columns_[i].name);
    sets += ", '')";
    db::AppendIdentifier(where, stage_columns_[i].name);
    where += " IS NULL";
  }
  if (sets.empty()) return PublishStage(load_stage_);
  std::string sql = "UPDATE ";
  db::AppendIdentifier(sql, load_stage_->staging_table());
  sql += " SET " + sets + " WHERE " + where;
  db_busy_ = true;
  ctx_.pool->Query(std::move(sql), [w = weak()](core::Result<glue::QueryResult> result) {
    auto job = w.lock();
    if (!job) return;
    job->db_busy_ = false;
    if (job->failing_) return job->Advance();
    if (!result) return job->Fail("db_error", "restoring empty fields: " + result.error().message());
    job->PublishStage(job->load_stage_);
  });
}

bool UploadJob::BlankFixNeeded(std::size_t i) const {
  return i < ever_typed_.size() && ever_typed_[i] && IsText(stage_columns_[i].sql_type) &&
         (i >= record_.columns.size() || IsText(record_.columns[i].type));
}

void UploadJob::Convert(std::vector<db::ColumnDef> final_columns) {
  db_busy_ = true;
  final_stage_ = StagedTable::Create(*ctx_.pool, StagedTableSpec{record_.table, mode_, final_columns, record_.id});
  final_stage_->Prepare([w = weak(), final_columns](core::Status status) mutable {
    auto job = w.lock();
    if (!job) return;
    if (job->failing_ || !status.ok()) {
      job->db_busy_ = false;
      if (job->failing_) return job->Advance();
      return job->Fail(status.domain() == core::ErrorDomain::kConflict ? "table_exists" : "db_error",
                       status.message());
    }
    job->RunConvert(std::move(final_columns));
  });
}

void UploadJob::RunConvert(std::vector<db::ColumnDef> final_columns) {
  // INSERT INTO final (_row, a, b) SELECT _row, NULLIF(a, ''), b FROM load:
  // the text of a column staged as TEXT is converted to its type by the
  // server (strict mode: a value that does not convert is an error, and any
  // warning fails it too); an empty field becomes NULL there, and stays '' in
  // a TEXT column. Columns staged in their final type are copied as they are.
  std::string sql = "INSERT INTO ";
  db::AppendIdentifier(sql, final_stage_->staging_table());
  sql += " (";
  db::AppendIdentifier(sql, db::kRowColumn);
  std::string select = " SELECT ";
  db::AppendIdentifier(select, db::kRowColumn);
  for (std::size_t i = 0; i < final_columns.size(); ++i) {
    const auto& column = final_columns[i];
    sql += ", ";
    db::AppendIdentifier(sql, column.name);
    select += ", ";
    bool staged_text = IsText(stage_columns_[i].sql_type);
    if (staged_text && !IsText(column.sql_type)) {  // text to a type: '' is NULL
      select += "NULLIF(";
      db::AppendIdentifier(select, column.name);
      select += ", '')";
    } else if (BlankFixNeeded(i)) {  // typed for a while, TEXT now: NULL was an empty field
      select += "COALESCE(";
      db::AppendIdentifier(select, column.name);
      select += ", '')";
    } else {
      db::AppendIdentifier(select, column.name);
    }
  }
  sql += ")" + select + " FROM ";
  db::AppendIdentifier(sql, load_stage_->staging_table());
  sql += " ORDER BY ";
  db::AppendIdentifier(sql, db::kRowColumn);

  auto finish = [w = weak()](core::Status status) {
    auto job = w.lock();
    if (!job) return;
    if (job->failing_ || !status.ok()) {
      job->db_busy_ = false;
      if (job->failing_) return job->Advance();
      return job->Fail("db_error", "converting the staged rows to their types: " + status.message());
    }
    // The text staging table is done with; drop it before publishing.
    job->load_stage_->Discard([w](core::Status dropped) {
      auto self = w.lock();
      if (!self) return;
      if (!dropped.ok()) self->log_->warn("upload {}: dropping the text staging table: {}", self->record_.id,
                                          dropped.message());
      self->db_busy_ = false;
      if (self->failing_) return self->Advance();
      self->PublishStage(self->final_stage_);
    });
  };
  uint64_t expected = load_stats_.rows;
  ctx_.pool->Acquire([sql = std::move(sql), expected, finish](core::Result<db::Lease> acquired) mutable {
    if (!acquired) return finish(acquired.error());
    auto lease = std::make_shared<db::Lease>(std::move(acquired).value());
    (*lease)->Query(kBulkOn, [lease, sql = std::move(sql), expected, finish](core::Result<glue::QueryResult> on) mutable {
      if (!on) return finish(on.error());
      (*lease)->Query(std::move(sql), [lease, expected, finish](core::Result<glue::QueryResult> inserted) {
        core::Status status;
        if (!inserted) {
          status = inserted.error();
        } else if (inserted->affected_rows != expected) {
          status = core::Status(core::ErrorDomain::kDb, 0,
                                fmt::format("copied {} rows, the staging table holds {}", inserted->affected_rows,
                                            expected));
        } else if (inserted->warnings > 0) {
          status = core::Status(core::ErrorDomain::kDb, 0,
                                fmt::format("{} value(s) would have been altered", inserted->warnings));
        }
        (*lease)->Query(kBulkOff, [lease, status, finish](core::Result<glue::QueryResult>) {
          lease->Release();
          finish(status);
        });
      });
    });
  });
}

void UploadJob::PublishStage(std::shared_ptr<StagedTable> stage) {
  db_busy_ = true;
  final_stage_publishing_ = true;
  std::vector<std::string> also;
  int64_t now = db::NowMs();
  if (mode_ == PublishMode::kAppend && stage->target_exists()) {
    also.push_back(db::AddTableRowsSql(record_.table, load_stats_.rows, record_.id, now));
  } else {
    db::TableEntry entry;
    entry.name = record_.table;
    for (const auto& column : pipeline_->columns()) entry.header.push_back(column.header);
    entry.columns = record_.columns;
    entry.row_count = load_stats_.rows;
    entry.upload_id = record_.id;
    entry.created_at_ms = now;
    entry.updated_at_ms = now;
    also.push_back(db::PutTableSql(entry));
  }
  auto published =
      [w = weak(), catalog = ctx_.catalog](core::Result<PublishResult> result) {
        // The table and its entry changed (or may have): the entries the
        // queries keep in memory go (db/table_cache.hpp).
        if (catalog != nullptr) catalog->TableChanged();
        auto job = w.lock();
        if (!job) return;
        job->db_busy_ = false;
        job->final_stage_publishing_ = false;
        auto late = std::move(job->late_failure_);
        job->late_failure_.reset();
        if (!result) {
          if (late) return job->Fail(std::move(late->code), std::move(late->message), late->state);
          return job->Fail(result.error().domain() == core::ErrorDomain::kConflict ? "table_exists" : "db_error",
                           "publishing the table: " + result.error().message());
        }
        if (late) {
          job->log_->info("upload {}: '{}' came while publishing; the rows are live, so the upload is done",
                          job->record_.id, late->code);
        }
        if (!result->also_status.ok()) {
          job->log_->warn("upload {}: table '{}' is live but its catalog entry was not written: {}", job->record_.id,
                          job->record_.table, result->also_status.message());
        }
        job->published_ = true;
        job->record_.rows_loaded = result->rows_added;
        job->record_.state = db::UploadState::kDone;
        job->WriteFinalRecord();
      };
  if (stage->direct()) {
    // The blocks go to the publish; their memory is given back when it is over.
    auto blocks = std::move(direct_blocks_);
    direct_blocks_.clear();
    stage->PublishDirect(
        std::move(blocks),
        [w = weak(), published = std::move(published)](core::Result<PublishResult> result) mutable {
          if (auto job = w.lock()) {
            job->account_->Give(job->direct_bytes_);
            job->direct_bytes_ = 0;
          }
          published(std::move(result));
        },
        std::move(also));
    return;
  }
  stage->Publish(load_stats_.rows, std::move(published), std::move(also));
}

}  // namespace sluice::ingest
