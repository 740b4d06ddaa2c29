// StagedTable's statements and their order (see staged_table.hpp). Each step
// is one statement on the pool; the append transaction runs its statements on
// one Lease held by a small shared state (AppendTx) that every callback of the
// chain captures. Append and direct append share that transaction
// (AppendInTransaction) and differ only in how the rows go in: INSERT … SELECT
// from the staging table, or LOAD DATA of the held blocks into the target. Errors from the server keep their kDb code; the mode checks
// produce kConflict (create over an existing table) and kInvalid (append with
// other columns) so the API can answer 409 and 400/422.
#include "ingest/staged_table.hpp"

#include <errmsg.h>
#include <fmt/format.h>
#include <mysqld_error.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "db/sql_quote.hpp"
#include "ingest/defer.hpp"
#include "log/logger.hpp"

namespace sluice::ingest {
namespace {

core::Status TableExists(std::string_view table) {
  return {core::ErrorDomain::kConflict, ER_TABLE_EXISTS_ERROR,
          fmt::format("table '{}' already exists (mode=create; use mode=replace or mode=append)", table)};
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

/// The one-transaction append: state shared by every step's callback.
struct AppendTx {
  db::Lease lease;
  std::uint64_t rows_loaded = 0;
  std::uint64_t offset = 0;
};

/// Runs `statements` in order on the transaction's connection.
void RunInTx(std::shared_ptr<AppendTx> tx, std::vector<std::string> statements,
             std::function<void(core::Status)> done) {
  if (statements.empty()) {
    done(core::Status::Ok());
    return;
  }
  std::string sql = std::move(statements.front());
  statements.erase(statements.begin());
  (*tx->lease).Query(std::move(sql), [tx, statements = std::move(statements), done = std::move(done)](
                                         core::Result<glue::QueryResult> result) mutable {
    if (!result) {
      done(result.error());
      return;
    }
    RunInTx(std::move(tx), std::move(statements), std::move(done));
  });
}

}  // namespace

std::string_view PublishModeName(PublishMode mode) {
  switch (mode) {
    case PublishMode::kCreate: return "create";
    case PublishMode::kReplace: return "replace";
    case PublishMode::kAppend: return "append";
  }
  return "create";
}

core::Result<PublishMode> ParsePublishMode(std::string_view text) {
  if (text == "create") return PublishMode::kCreate;
  if (text == "replace") return PublishMode::kReplace;
  if (text == "append") return PublishMode::kAppend;
  return core::Status::Invalid(fmt::format("mode '{}': expected create, replace or append", text));
}

std::shared_ptr<StagedTable> StagedTable::Create(db::DbPool& pool, StagedTableSpec spec) {
  return std::shared_ptr<StagedTable>(new StagedTable(pool, std::move(spec)));
}

StagedTable::StagedTable(db::DbPool& pool, StagedTableSpec spec)
    : pool_(pool), spec_(std::move(spec)), staging_(db::StagingTableName(spec_.upload_id)) {}

// ---- Prepare -----------------------------------------------------------------

void StagedTable::Prepare(StatusCallback done) {
  core::Status status = db::ValidateTableName(spec_.table);
  if (status.ok()) status = db::CheckColumns(spec_.columns);
  if (status.ok() && spec_.upload_id.empty()) status = core::Status::Invalid("an upload id is required");
  if (!status.ok()) {
    Defer(pool_.loop(), [status = std::move(status), done = std::move(done)] { done(status); });
    return;
  }
  std::string sql =
      "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
      "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ";
  db::AppendString(sql, spec_.table);
  sql += " ORDER BY ORDINAL_POSITION";
  pool_.Query(std::move(sql), [self = shared_from_this(), done = std::move(done)](
                                  core::Result<glue::QueryResult> result) mutable {
    self->OnTargetColumns(std::move(result), std::move(done));
  });
}

void StagedTable::OnTargetColumns(core::Result<glue::QueryResult> result, StatusCallback done) {
  if (!result) {
    done(result.error());
    return;
  }
  // information_schema may match names without case; the table is the exact one.
  std::vector<std::pair<std::string, std::string>> target;  // {name, type}
  for (const auto& row : result->rows) {
    if (row.size() < 3 || !row[0] || !row[1] || !row[2] || *row[0] != spec_.table) continue;
    target.emplace_back(*row[1], *row[2]);
  }
  target_exists_ = !target.empty();
  columns_ = spec_.columns;
  for (auto& column : columns_) column.sql_type = db::SqlTypeText(*db::ParseSqlType(column.sql_type));

  if (target_exists_ && spec_.mode == PublishMode::kCreate) {
    done(TableExists(spec_.table));
    return;
  }
  if (target_exists_ && spec_.mode == PublishMode::kAppend) {
    if (target.front().first != db::kRowColumn) {
      done(core::Status::Invalid(
          fmt::format("table '{}' has no `_row` key first: sluice appends only to tables it made", spec_.table)));
      return;
    }
    target.erase(target.begin());
    std::vector<std::string> not_in_table;
    std::vector<bool> matched(target.size(), false);
    for (auto& column : columns_) {
      auto it = std::find_if(target.begin(), target.end(),
                             [&](const auto& t) { return db::SameColumnName(t.first, column.name); });
      if (it == target.end()) {
        not_in_table.push_back(column.name);
        continue;
      }
      matched[static_cast<std::size_t>(it - target.begin())] = true;
      auto type = db::ParseSqlType(it->second);
      if (!type) {
        done(core::Status::Invalid(fmt::format("table '{}', column '{}': type {} is not one sluice loads",
                                               spec_.table, it->first, it->second)));
        return;
      }
      column = db::ColumnDef{it->first, db::SqlTypeText(*type)};
    }
    std::vector<std::string> missing;
    for (std::size_t i = 0; i < target.size(); ++i) {
      if (!matched[i]) missing.push_back(target[i].first);
    }
    if (!not_in_table.empty() || !missing.empty()) {
      std::string detail;
      if (!not_in_table.empty()) detail += fmt::format("not in the table: {}", Join(not_in_table));
      if (!missing.empty()) {
        if (!detail.empty()) detail += "; ";
        detail += fmt::format("missing from the file: {}", Join(missing));
      }
      done(core::Status::Invalid(
          fmt::format("mode=append: the file's columns do not match table '{}' ({})", spec_.table, detail)));
      return;
    }
  }
  if (target_exists_ && spec_.mode == PublishMode::kAppend && spec_.load_direct && spec_.load_direct()) {
    direct_ = true;  // no staging table: PublishDirect loads into the target
    prepared_ = true;
    done(core::Status::Ok());
    return;
  }
  CreateStaging(std::move(done));
}

void StagedTable::CreateStaging(StatusCallback done) {
  auto sql = db::CreateTableSql(staging_, columns_);
  if (!sql) {
    done(sql.error());
    return;
  }
  pool_.Query(std::move(*sql), [self = shared_from_this(), done = std::move(done)](
                                   core::Result<glue::QueryResult> result) {
    if (!result) {
      done(result.error());
      return;
    }
    self->prepared_ = true;
    done(core::Status::Ok());
  });
}

// ---- AlterColumns --------------------------------------------------------------

void StagedTable::AlterColumns(std::vector<db::ColumnDef> columns, StatusCallback done) {
  auto reply = [&](core::Status status) {
    Defer(pool_.loop(), [status = std::move(status), done = std::move(done)] { done(status); });
  };
  if (!prepared_) return reply(core::Status::Internal("AlterColumns() before a successful Prepare()"));
  if (spec_.mode == PublishMode::kAppend && target_exists_) {
    return reply(core::Status::Invalid(
        fmt::format("mode=append: the columns of table '{}' keep their types", spec_.table)));
  }
  if (columns.size() != columns_.size()) return reply(core::Status::Invalid("AlterColumns: other columns"));
  core::Status status = db::CheckColumns(columns);
  if (!status.ok()) return reply(status);
  std::string sql = "ALTER TABLE ";
  db::AppendIdentifier(sql, staging_);
  bool any = false;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name != columns_[i].name) return reply(core::Status::Invalid("AlterColumns: other column names"));
    columns[i].sql_type = db::SqlTypeText(*db::ParseSqlType(columns[i].sql_type));
    if (columns[i].sql_type == columns_[i].sql_type) continue;
    sql += any ? ", MODIFY COLUMN " : " MODIFY COLUMN ";
    db::AppendIdentifier(sql, columns[i].name);
    sql += " " + columns[i].sql_type + " NULL";
    any = true;
  }
  if (!any) return reply(core::Status::Ok());
  pool_.Query(std::move(sql), [self = shared_from_this(), columns = std::move(columns), done = std::move(done)](
                                  core::Result<glue::QueryResult> result) mutable {
    if (!result) {
      done(result.error());
      return;
    }
    if (result->warnings > 0) {  // a value the new type altered: never expected when widening
      done({core::ErrorDomain::kDb, 0,
            fmt::format("widening the staging table altered {} value(s)", result->warnings)});
      return;
    }
    self->columns_ = std::move(columns);
    done(core::Status::Ok());
  });
}

// ---- Publish -----------------------------------------------------------------

void StagedTable::Publish(std::uint64_t rows_loaded, PublishCallback done, std::vector<std::string> also) {
  also_ = std::move(also);
  if (!prepared_) {
    Defer(pool_.loop(), [done = std::move(done)] {
      done(core::Status::Internal("Publish() before a successful Prepare()"));
    });
    return;
  }
  if (!target_exists_ || spec_.mode == PublishMode::kCreate) {
    PublishByRename(rows_loaded, std::move(done));
  } else if (spec_.mode == PublishMode::kReplace) {
    PublishReplace(rows_loaded, std::move(done));
  } else {
    PublishAppend(rows_loaded, std::move(done));
  }
}

void StagedTable::PublishByRename(std::uint64_t rows_loaded, PublishCallback done) {
  std::string sql = "RENAME TABLE ";
  db::AppendIdentifier(sql, staging_);
  sql += " TO ";
  db::AppendIdentifier(sql, spec_.table);
  pool_.Query(std::move(sql), [self = shared_from_this(), rows_loaded, done = std::move(done)](
                                  core::Result<glue::QueryResult> result) mutable {
    if (!result) {
      bool exists = result.error().code() == ER_TABLE_EXISTS_ERROR;
      if (exists && self->spec_.mode == PublishMode::kReplace) {  // created meanwhile: swap it out instead
        self->target_exists_ = true;
        self->PublishReplace(rows_loaded, std::move(done));
        return;
      }
      if (exists && self->spec_.mode == PublishMode::kAppend) {  // created meanwhile: append to it
        self->FailPublish(core::Status(core::ErrorDomain::kConflict, ER_TABLE_EXISTS_ERROR,
                                       fmt::format("table '{}' was created by someone else during the append; "
                                                   "nothing was changed, try again",
                                                   self->spec_.table)),
                          std::move(done));
        return;
      }
      self->FailPublish(exists ? TableExists(self->spec_.table) : result.error(), std::move(done));
      return;
    }
    PublishResult published;
    published.rows_added = rows_loaded;
    published.created = true;
    self->RunAlso(std::move(published), std::move(done));
  });
}

void StagedTable::RunAlso(PublishResult published, PublishCallback done) {
  if (also_.empty()) {
    done(std::move(published));
    return;
  }
  std::string sql = std::move(also_.front());
  also_.erase(also_.begin());
  pool_.Query(std::move(sql), [self = shared_from_this(), published = std::move(published),
                               done = std::move(done)](core::Result<glue::QueryResult> result) mutable {
    if (!result) {
      log::Get("ingest")->warn("publish of '{}': the rows are live, but a follow-up statement failed: {}",
                               self->spec_.table, result.error().message());
      published.also_status = result.error();
      self->also_.clear();
      done(std::move(published));
      return;
    }
    self->RunAlso(std::move(published), std::move(done));
  });
}

void StagedTable::PublishReplace(std::uint64_t rows_loaded, PublishCallback done) {
  std::string old = db::ReplacedTableName(spec_.upload_id);
  std::string sql = "RENAME TABLE ";
  db::AppendIdentifier(sql, spec_.table);
  sql += " TO ";
  db::AppendIdentifier(sql, old);
  sql += ", ";
  db::AppendIdentifier(sql, staging_);
  sql += " TO ";
  db::AppendIdentifier(sql, spec_.table);
  pool_.Query(std::move(sql), [self = shared_from_this(), rows_loaded, old, done = std::move(done)](
                                  core::Result<glue::QueryResult> result) mutable {
    if (!result) {
      if (result.error().code() == ER_NO_SUCH_TABLE) {  // the target vanished meanwhile: plain rename
        self->target_exists_ = false;
        self->PublishByRename(rows_loaded, std::move(done));
        return;
      }
      self->FailPublish(result.error(), std::move(done));
      return;
    }
    // The new rows are live. Dropping the old table is housekeeping: a failure
    // is logged and the catalog's start-up sweep removes what is left.
    PublishResult published;
    published.rows_added = rows_loaded;
    published.replaced = true;
    self->RunAlso(std::move(published), [self, old, done = std::move(done)](
                                            core::Result<PublishResult> with_also) mutable {
      self->pool_.Query(db::DropTableSql(old), [old, with_also = std::move(with_also), done = std::move(done)](
                                                   core::Result<glue::QueryResult> dropped) mutable {
        if (!dropped) log::Get("ingest")->warn("replace: dropping {} failed: {}", old, dropped.error().message());
        done(std::move(with_also));
      });
    });
  });
}

void StagedTable::PublishAppend(std::uint64_t rows_loaded, PublishCallback done) {
  // INSERT INTO target (_row, c…) SELECT _row + offset, c… FROM staging ORDER BY _row
  std::string insert_sql = "INSERT INTO ";
  db::AppendIdentifier(insert_sql, spec_.table);
  insert_sql += " (";
  db::AppendIdentifier(insert_sql, db::kRowColumn);
  std::string select_list;
  for (const auto& column : columns_) {
    insert_sql += ", ";
    db::AppendIdentifier(insert_sql, column.name);
    select_list += ", ";
    db::AppendIdentifier(select_list, column.name);
  }
  insert_sql += ") SELECT ";
  db::AppendIdentifier(insert_sql, db::kRowColumn);
  std::string tail = select_list + " FROM ";
  db::AppendIdentifier(tail, staging_);
  tail += " ORDER BY ";
  db::AppendIdentifier(tail, db::kRowColumn);
  auto fill = [insert_sql = std::move(insert_sql), tail = std::move(tail), rows_loaded](
                  db::Lease& lease, std::uint64_t offset, StatusCallback filled) {
    // fmt would read the identifiers' braces; put the number in by hand.
    std::string sql = insert_sql + " + " + std::to_string(offset) + tail;
    lease->Query(std::move(sql), [rows_loaded, filled = std::move(filled)](core::Result<glue::QueryResult> inserted) {
      if (!inserted) return filled(inserted.error());
      if (inserted->affected_rows != rows_loaded) {
        return filled({core::ErrorDomain::kDb, 0,
                       fmt::format("append: copied {} rows, the staging table should hold {}", inserted->affected_rows,
                                   rows_loaded)});
      }
      filled(core::Status::Ok());
    });
  };
  AppendInTransaction(rows_loaded, std::move(fill), std::move(done));
}

namespace {

/// Loads blocks[next…] into `table` one after another on `lease` (inside the
/// append transaction), each checked as the Loader checks a block.
void LoadDirectBlocks(db::Lease& lease, std::shared_ptr<std::vector<DirectBlock>> blocks, std::size_t next,
                      std::string table, std::vector<std::string> names, std::uint64_t offset,
                      std::function<void(core::Status)> filled) {
  while (next < blocks->size() && (*blocks)[next].block.row_count == 0) ++next;  // bad rows only: nothing to send
  if (next >= blocks->size()) return filled(core::Status::Ok());
  const DirectBlock& direct = (*blocks)[next];
  if (direct.block.method != LoadMethod::kLoadData || direct.columns > names.size()) {
    return filled(core::Status::Internal("a direct append takes LOAD DATA blocks of the table's columns"));
  }
  std::vector<std::string> block_names(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(direct.columns));
  std::string sql = db::LoadDataAtOffsetSql(table, block_names, offset);
  glue::MysqlConnection& connection = *lease;
  connection.LoadDataLocal(
      std::move(sql), direct.block.data,
      [&lease, blocks, next, table = std::move(table), names = std::move(names), offset,
       filled = std::move(filled)](core::Result<glue::QueryResult> loaded) mutable {
        const EncodedBlock& block = (*blocks)[next].block;
        std::string rows = fmt::format("rows {}..{}", block.first_row, block.last_row);
        if (!loaded) {
          return filled({loaded.error().domain(), loaded.error().code(),
                         fmt::format("{}: {}", rows, loaded.error().message())});
        }
        if (loaded->warnings > 0) {  // a value the target's type would alter: as the Loader, an error
          unsigned warnings = loaded->warnings;
          return lease->Query("SHOW WARNINGS LIMIT 3", [rows, warnings, filled = std::move(filled)](
                                                           core::Result<glue::QueryResult> shown) {
            std::string detail;
            if (shown) {
              for (const auto& row : shown->rows) {
                if (row.size() < 3) continue;
                if (!detail.empty()) detail += "; ";
                detail += row[2].value_or("");
              }
            }
            if (detail.empty()) detail = "SHOW WARNINGS gave no detail";
            filled({core::ErrorDomain::kDb, 0,
                    fmt::format("{}: the server altered or skipped values ({} warning{}): {}", rows, warnings,
                                warnings == 1 ? "" : "s", detail)});
          });
        }
        if (loaded->affected_rows != block.row_count) {
          return filled({core::ErrorDomain::kDb, 0,
                         fmt::format("{}: the server stored {} of {} rows ({})", rows, loaded->affected_rows,
                                     block.row_count, loaded->info)});
        }
        LoadDirectBlocks(lease, std::move(blocks), next + 1, std::move(table), std::move(names), offset,
                         std::move(filled));
      });
}

}  // namespace

void StagedTable::PublishDirect(std::vector<DirectBlock> blocks, PublishCallback done, std::vector<std::string> also) {
  also_ = std::move(also);
  if (!direct_) {
    Defer(pool_.loop(), [done = std::move(done)] {
      done(core::Status::Internal("PublishDirect() without a Prepare() that chose it"));
    });
    return;
  }
  std::uint64_t rows = 0;
  for (const auto& block : blocks) rows += block.block.row_count;
  auto shared = std::make_shared<std::vector<DirectBlock>>(std::move(blocks));
  auto fill = [shared, table = spec_.table, names = column_names()](db::Lease& lease, std::uint64_t offset,
                                                                    StatusCallback filled) {
    LoadDirectBlocks(lease, shared, 0, table, names, offset, std::move(filled));
  };
  AppendInTransaction(rows, std::move(fill), std::move(done));
}

void StagedTable::AppendInTransaction(std::uint64_t rows_loaded, FillStep fill, PublishCallback done) {
  pool_.Acquire([self = shared_from_this(), rows_loaded, fill = std::move(fill), done = std::move(done)](
                    core::Result<db::Lease> lease) mutable {
    if (!lease) {
      self->FailPublish(lease.error(), std::move(done));
      return;
    }
    auto tx = std::make_shared<AppendTx>();
    tx->lease = std::move(lease).value();
    tx->rows_loaded = rows_loaded;

    // Any failure inside the transaction: ROLLBACK on the same connection
    // (harmless if it broke), then drop the staging table and report.
    auto fail = [self, tx, done](core::Status status) mutable {
      (*tx->lease).Query("ROLLBACK", [self, tx, status = std::move(status),
                                      done = std::move(done)](core::Result<glue::QueryResult>) mutable {
        tx->lease.Release();
        self->FailPublish(std::move(status), std::move(done));
      });
    };

    std::string lock_sql = "SELECT COALESCE(MAX(";
    db::AppendIdentifier(lock_sql, db::kRowColumn);
    lock_sql += "), 0) FROM ";
    db::AppendIdentifier(lock_sql, self->spec_.table);
    lock_sql += " FOR UPDATE";

    (*tx->lease).Query("START TRANSACTION", [self, tx, fail, done, fill = std::move(fill),
                                             lock_sql = std::move(lock_sql)](
                                                core::Result<glue::QueryResult> begun) mutable {
      if (!begun) return fail(begun.error());
      (*tx->lease).Query(std::move(lock_sql), [self, tx, fail, done, fill = std::move(fill)](
                                                  core::Result<glue::QueryResult> locked) mutable {
        if (!locked) return fail(locked.error());
        if (locked->rows.size() != 1 || locked->rows[0].empty() || !locked->rows[0][0]) {
          return fail(core::Status::Internal("append: MAX(_row) returned no value"));
        }
        const std::string& max = *locked->rows[0][0];
        auto [end, ec] = std::from_chars(max.data(), max.data() + max.size(), tx->offset);
        if (ec != std::errc() || end != max.data() + max.size()) {
          return fail(core::Status::Internal(fmt::format("append: MAX(_row) returned '{}'", max)));
        }
        fill(tx->lease, tx->offset, [self, tx, fail, done](core::Status filled) mutable {
          if (!filled.ok()) return fail(std::move(filled));
          std::vector<std::string> also = std::move(self->also_);
          self->also_.clear();
          also.push_back("COMMIT");
          RunInTx(tx, std::move(also), [self, tx, fail, done](core::Status committed) mutable {
            if (!committed.ok()) return fail(std::move(committed));
            tx->lease.Release();
            PublishResult published;
            published.rows_added = tx->rows_loaded;
            published.row_offset = tx->offset;
            self->Discard([published, done](core::Status dropped) {
              if (!dropped.ok()) log::Get("ingest")->warn("append: dropping the staging table failed: {}",
                                                          dropped.message());
              done(published);
            });
          });
        });
      });
    });
  });
}

void StagedTable::FailPublish(core::Status status, PublishCallback done) {
  Discard([status = std::move(status), done = std::move(done)](core::Status dropped) {
    if (!dropped.ok()) log::Get("ingest")->warn("dropping the staging table failed: {}", dropped.message());
    done(status);
  });
}

// ---- Discard -----------------------------------------------------------------

void StagedTable::Discard(StatusCallback done) {
  if (direct_) {  // no staging table was made
    Defer(pool_.loop(), [done = std::move(done)] {
      if (done) done(core::Status::Ok());
    });
    return;
  }
  pool_.Query(db::DropTableSql(staging_), [self = shared_from_this(), done = std::move(done)](
                                              core::Result<glue::QueryResult> result) {
    if (result) self->prepared_ = false;
    if (done) done(result ? core::Status::Ok() : result.error());
  });
}

}  // namespace sluice::ingest
