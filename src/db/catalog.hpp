// Catalog: sluice's own tables in MariaDB, which hold everything about
// uploads and tables that must survive a restart (DESIGN.md "State"):
//
//   sluice_schema_version  one row: the catalog's schema version
//   sluice_uploads         API.md's upload records
//   sluice_tables          the data tables: header text, columns and types,
//                          row count, source upload
//
// Init() creates them when missing and checks the version, under a named lock
// (GET_LOCK) so two processes starting at once do not race; a catalog newer
// than this binary is an error rather than something to write into. Each
// later change of the schema is one more step in Init's migration list.
// Recover() is the start-up sweep: uploads left `receiving`/`loading` by a
// stopped process become `failed` with error code `interrupted`, and staging
// and swapped-out tables (`_sluice_*`) left behind are dropped. It assumes
// this process is the only writer (several processes sharing one database
// would need an owner column first).
//
// Table entries are also kept in memory (db/table_cache.hpp) for the query
// routes: CachedTable()/RememberTable() read and fill it; PutTable,
// AddTableRows and DeleteTable forget it when they finish, and every other
// writer of a table or its entry (an upload's publish, DELETE
// /v1/tables/{table}, a new index) calls TableChanged() when it is done.
//
// Rules: loop thread only; the Catalog (and its pool) must outlive the calls
// in flight; callbacks come from the pool's replies, never inside the call.
// The record <-> JSON/SQL conversions live in catalog_records.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/status.hpp"
#include "db/catalog_records.hpp"
#include "db/db_pool.hpp"
#include "db/table_cache.hpp"

namespace sluice::db {

/// The schema version this binary writes.
inline constexpr int kCatalogSchemaVersion = 1;

/// What Recover() did.
struct RecoveryStats {
  std::uint64_t interrupted = 0;     ///< upload records marked failed/interrupted
  std::uint64_t dropped_tables = 0;  ///< leftover `_sluice_*` tables dropped
};

/// One page of ListUploads().
struct UploadPage {
  std::vector<UploadRecord> uploads;  ///< newest first
  std::string next_cursor;            ///< pass back for the next page; empty at the end
};

/// See the top of this file.
class Catalog {
 public:
  using StatusCallback = std::function<void(core::Status)>;
  template <class T>
  using Callback = std::function<void(core::Result<T>)>;

  /// A catalog on `pool`'s database.
  explicit Catalog(DbPool& pool) : pool_(pool) {}

  /// Creates the tables if missing; checks or records the schema version.
  void Init(StatusCallback done);
  /// The start-up sweep (see above).
  void Recover(Callback<RecoveryStats> done);

  /// Stores a new upload record (its id must be new).
  void CreateUpload(const UploadRecord& record, StatusCallback done);
  /// Updates state and counters of a running upload (kNotFound when unknown).
  void UpdateProgress(const UploadProgress& progress, StatusCallback done);
  /// Writes the final record (every field but id and created_at); kNotFound
  /// when unknown.
  void FinishUpload(const UploadRecord& record, StatusCallback done);
  /// One record; kNotFound when unknown.
  void GetUpload(std::string id, Callback<UploadRecord> done);
  /// Records newest first, `limit` per page (1..1000), after `cursor`
  /// (a previous page's next_cursor, or empty for the first page).
  void ListUploads(std::size_t limit, std::string cursor, Callback<UploadPage> done);
  /// The newest `done` upload of these bytes into this table, if any: the
  /// duplicate check of API.md.
  void FindUpload(std::string table, std::string sha256, Callback<std::optional<UploadRecord>> done);

  /// Creates or overwrites a table's entry (create, replace).
  void PutTable(const TableEntry& entry, StatusCallback done);
  /// Adds rows to a table's entry (append); kNotFound when it has none.
  void AddTableRows(std::string table, std::uint64_t rows, std::string upload_id, StatusCallback done);
  /// One entry; kNotFound when unknown.
  void GetTable(std::string name, Callback<TableEntry> done);
  /// Every entry, by name.
  void ListTables(Callback<std::vector<TableEntry>> done);
  /// Removes a table's entry (the table itself is the caller's); Ok if absent.
  void DeleteTable(std::string name, StatusCallback done);

  /// The entry of `name` read less than a second ago (by this process), or
  /// null: then read it (GetTable or the same SELECT on a lease) and
  /// RememberTable() it.
  std::shared_ptr<const TableEntry> CachedTable(std::string_view name) const { return tables_.Find(name); }
  /// Read before a lookup of an entry; pass it to RememberTable().
  std::uint64_t tables_generation() const noexcept { return tables_.generation(); }
  /// Keeps an entry read under `name` unless a table changed since `generation`.
  void RememberTable(const std::string& name, std::shared_ptr<const TableEntry> entry, std::uint64_t generation) {
    tables_.Remember(name, std::move(entry), generation);
  }
  /// A table, or its entry, changed: the entries kept in memory are forgotten.
  void TableChanged() { tables_.Changed(); }

  /// The CREATE TABLE statements of the catalog, in order (for tests and docs).
  static std::vector<std::string> SchemaSql();

 private:
  DbPool& pool_;
  TableEntryCache tables_;
};

}  // namespace sluice::db
