// StagedTable: the life of one ingest's staging table — check the target and
// create the staging table (Prepare), then either publish it into the target
// in one atomic step (Publish) or drop it (Discard). The Loader fills it in
// between. API.md "Uploads" gives the modes:
//
//  - create:  the target must not exist (kConflict, checked in Prepare so a
//             doomed upload fails before loading, and again by the publishing
//             RENAME itself, which refuses an existing name).
//             Publish: RENAME TABLE staging TO target.
//  - replace: Publish: RENAME TABLE target TO old, staging TO target — one
//             atomic statement, readers see the old rows or the new, never
//             neither — then DROP TABLE old. Without a target, as create.
//  - append:  the file's columns must be the target's, the same names in any
//             order (compared without case, as MariaDB does); else kInvalid
//             naming what differs, before anything is loaded. The staging
//             table takes the target's column types, so every value is
//             converted at load time (a value that does not fit fails the
//             load — the Loader treats the server's warnings as errors).
//             Publish: one transaction — lock the target's end
//             (SELECT MAX(_row) … FOR UPDATE, which also serializes
//             concurrent appends), INSERT … SELECT the staged rows with `_row`
//             offset by that maximum, COMMIT. Without a target, as create.
//             Small files load direct (spec.load_direct): no staging table at
//             all — the rows, held in memory, are LOADed into the target
//             inside that same transaction (PublishDirect), so a tiny append
//             costs no DDL; any error or warning rolls it all back.
// Whatever fails in Publish drops the staging table before reporting, and
// leaves the target as it was. The staging table is `_sluice_stage_<upload id>`.
//
// Rules: loop thread only; Create() returns a shared_ptr and operations in
// flight hold it, so the owner may drop it any time; callbacks never run
// inside the call that asked for them (they come from the pool's replies).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/status.hpp"
#include "db/db_pool.hpp"
#include "db/table_ddl.hpp"
#include "ingest/load_encoder.hpp"

namespace sluice::ingest {

/// API.md's `mode`.
enum class PublishMode { kCreate, kReplace, kAppend };

/// "create" / "replace" / "append".
std::string_view PublishModeName(PublishMode mode);
/// Parses a mode name (exact, lower case); kInvalid otherwise.
core::Result<PublishMode> ParsePublishMode(std::string_view text);

/// What one ingest writes.
struct StagedTableSpec {
  std::string table;                    ///< the target table
  PublishMode mode = PublishMode::kCreate;
  std::vector<db::ColumnDef> columns;   ///< the file's columns and inferred types, in file order
  std::string upload_id;                ///< names the staging table
  /// Append only, asked once Prepare has found the target and checked the
  /// columns: true = make no staging table; the caller keeps the rows and
  /// hands them to PublishDirect. For files whose rows are all in memory
  /// already: a staging table's CREATE and DROP (two DDL statements, each a
  /// few file-system syncs) cost more than loading a few rows.
  std::function<bool()> load_direct;
};

/// One block of rows for PublishDirect: the encoded rows (kLoadData) and how
/// many of columns() they carry (JSON Lines blocks may carry fewer).
struct DirectBlock {
  EncodedBlock block;
  std::size_t columns = 0;
};

/// What Publish did.
struct PublishResult {
  std::uint64_t rows_added = 0;   ///< rows this ingest put into the target
  std::uint64_t row_offset = 0;   ///< append: added to every staged `_row` (0 otherwise)
  bool created = false;           ///< the target did not exist before
  bool replaced = false;          ///< replace swapped out an existing table
  /// How the `also` statements of Publish went after a RENAME (create,
  /// replace): the rows are live either way. Always Ok for append, where a
  /// failing statement fails the whole transaction.
  core::Status also_status;
};

/// See the top of this file.
class StagedTable : public std::enable_shared_from_this<StagedTable> {
 public:
  using StatusCallback = std::function<void(core::Status)>;
  using PublishCallback = std::function<void(core::Result<PublishResult>)>;

  /// A staged table for `spec` on `pool` (which outlives it).
  static std::shared_ptr<StagedTable> Create(db::DbPool& pool, StagedTableSpec spec);

  /// Validates names, types and InnoDB's limits, checks the target for the
  /// mode (create: kConflict when it exists; append: the columns match), and
  /// creates the staging table. On error nothing is left behind.
  void Prepare(StatusCallback done);

  /// The staging table's name.
  const std::string& staging_table() const noexcept { return staging_; }
  /// The staging table's columns in file order (after Prepare; append takes
  /// the target's names and types): what the encoder and Loader write.
  const std::vector<db::ColumnDef>& columns() const noexcept { return columns_; }
  /// The names of columns().
  std::vector<std::string> column_names() const { return db::ColumnNames(columns_); }
  /// True when Prepare found the target (append/replace act on it).
  bool target_exists() const noexcept { return target_exists_; }
  /// True when Prepare made no staging table: publish with PublishDirect.
  bool direct() const noexcept { return direct_; }

  /// Changes the staging table's column types (same names, same order as
  /// columns()), for when inference widens a type after loading began:
  /// `ALTER TABLE staging MODIFY …` for the columns that differ (a table
  /// copy, so it costs what was loaded so far). Pause the Loader and wait for
  /// WhenIdle() first. kInvalid for append to an existing table (its types
  /// are the target's) or a list that does not match.
  void AlterColumns(std::vector<db::ColumnDef> columns, StatusCallback done);

  /// Publishes the staged rows (`rows_loaded` of them, from the Loader) into
  /// the target per the mode; on failure drops the staging table first.
  /// `also` are statements that belong with the publish (the catalog's
  /// db::PutTableSql / db::AddTableRowsSql): inside the append transaction,
  /// so rows and catalog change together; right after the RENAME for create
  /// and replace (DDL commits on its own), reported in also_status.
  void Publish(std::uint64_t rows_loaded, PublishCallback done, std::vector<std::string> also = {});

  /// direct(): one transaction — lock the target's end (as append), LOAD
  /// DATA each block into the target with `_row` offset by that maximum, run
  /// `also`, COMMIT. A failed statement, any warning (a value the target's
  /// type would alter) or a row count other than the blocks' rolls it all
  /// back: the target is as it was.
  void PublishDirect(std::vector<DirectBlock> blocks, PublishCallback done, std::vector<std::string> also = {});

  /// Drops the staging table (idempotent; Ok when it is gone or never was;
  /// no statement when direct()).
  void Discard(StatusCallback done);

 private:
  StagedTable(db::DbPool& pool, StagedTableSpec spec);

  void OnTargetColumns(core::Result<glue::QueryResult> result, StatusCallback done);
  void CreateStaging(StatusCallback done);
  void PublishByRename(std::uint64_t rows_loaded, PublishCallback done);
  void PublishReplace(std::uint64_t rows_loaded, PublishCallback done);
  void PublishAppend(std::uint64_t rows_loaded, PublishCallback done);
  /// The append transaction around `fill`, which adds the rows on the
  /// transaction's connection, `offset` being the target's MAX(_row).
  using FillStep = std::function<void(db::Lease& lease, std::uint64_t offset, StatusCallback filled)>;
  void AppendInTransaction(std::uint64_t rows_loaded, FillStep fill, PublishCallback done);
  void RunAlso(PublishResult published, PublishCallback done);
  void FailPublish(core::Status status, PublishCallback done);

  db::DbPool& pool_;
  StagedTableSpec spec_;
  std::string staging_;
  std::vector<db::ColumnDef> columns_;
  bool target_exists_ = false;
  bool prepared_ = false;
  bool direct_ = false;
  std::vector<std::string> also_;
};

}  // namespace sluice::ingest
