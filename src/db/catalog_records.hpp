// The catalog's records as values: an upload (API.md's upload record) and a
// table entry (name, header text, columns with their types, rows, source
// upload), with everything that turns them into text and back — the API's
// JSON, the JSON kept in the catalog's columns, the SQL that writes them and
// the UTC timestamps. Pure, so all of it is unit-tested without a server;
// db/catalog.hpp runs the statements.
//
// Times are milliseconds since the Unix epoch, UTC. The catalog stores them
// as DATETIME(3) written from these values (never NOW(), whose zone is the
// session's), and the API prints RFC 3339 with a Z.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sluice::db {

/// API.md's `state` of an upload.
enum class UploadState { kReceiving, kLoading, kDone, kFailed, kCancelled };

/// "receiving" / "loading" / "done" / "failed" / "cancelled".
std::string_view UploadStateName(UploadState state);
/// The inverse; kInvalid for anything else.
core::Result<UploadState> ParseUploadState(std::string_view text);

/// A column as the API and the catalog show it.
struct CatalogColumn {
  std::string name;    ///< the column name in MariaDB
  std::string header;  ///< the header cell as it was in the file
  std::string type;    ///< BIGINT, DECIMAL(10,2), TEXT…
  bool operator==(const CatalogColumn&) const = default;
};

/// A rejected row (the first 1000 are kept).
struct RejectedRow {
  std::uint64_t line = 0;
  std::string reason;
  bool operator==(const RejectedRow&) const = default;
};

/// How many rejected rows a record keeps (API.md).
inline constexpr std::size_t kMaxRejectedKept = 1000;

/// API.md's upload record.
struct UploadRecord {
  std::string id;  ///< ULID
  UploadState state = UploadState::kReceiving;
  std::string table;
  std::string mode = "create";  ///< create | replace | append
  std::string filename;
  std::uint64_t bytes_received = 0;
  std::string sha256;  ///< lower-case hex; empty until known
  std::uint64_t rows_total = 0;
  std::uint64_t rows_loaded = 0;
  std::uint64_t rows_rejected = 0;
  std::vector<CatalogColumn> columns;
  std::vector<RejectedRow> rejected;  ///< at most kMaxRejectedKept
  std::string s3_bucket;
  std::string s3_key;  ///< empty: no S3 object (the JSON says "s3": null)
  std::string s3_etag;
  std::string error_code;  ///< empty: no error ("error": null)
  std::string error_message;
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> finished_at_ms;
  std::optional<std::uint64_t> duration_ms;
  bool operator==(const UploadRecord&) const = default;
};

/// The progress fields a running upload updates.
struct UploadProgress {
  std::string id;
  UploadState state = UploadState::kReceiving;
  std::uint64_t bytes_received = 0;
  std::uint64_t rows_total = 0;
  std::uint64_t rows_loaded = 0;
  std::uint64_t rows_rejected = 0;
};

/// A data table in the catalog.
struct TableEntry {
  std::string name;
  std::vector<std::string> header;  ///< the header row's cells, as in the file
  std::vector<CatalogColumn> columns;
  std::uint64_t row_count = 0;
  std::string upload_id;  ///< the upload that created it or last added rows
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  bool operator==(const TableEntry&) const = default;
};

/// The record as API.md prints it (`{"id": …, "state": …, … "duration_ms": …}`).
std::string UploadRecordJson(const UploadRecord& record);
/// A table entry as `GET /v1/tables/{table}` prints it.
std::string TableEntryJson(const TableEntry& entry);

/// `[{"name":…,"header":…,"type":…}]` and back.
std::string ColumnsJson(const std::vector<CatalogColumn>& columns);
core::Result<std::vector<CatalogColumn>> ParseColumnsJson(std::string_view json);
/// `[{"line":…,"reason":…}]` and back.
std::string RejectedJson(const std::vector<RejectedRow>& rejected);
core::Result<std::vector<RejectedRow>> ParseRejectedJson(std::string_view json);
/// `["cell", …]` and back.
std::string StringsJson(const std::vector<std::string>& strings);
core::Result<std::vector<std::string>> ParseStringsJson(std::string_view json);

/// `YYYY-MM-DD HH:MM:SS.mmm` (UTC), as DATETIME(3) takes and gives it.
std::string SqlTimestamp(std::int64_t unix_ms);
/// The inverse (also without the fraction); kInvalid otherwise.
core::Result<std::int64_t> ParseSqlTimestamp(std::string_view text);
/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
std::string Rfc3339(std::int64_t unix_ms);
/// Now, in ms since the epoch.
std::int64_t NowMs();

// ---- SQL (the column lists match catalog.cpp's CREATE TABLEs) ----------------

/// INSERT of a whole record into sluice_uploads.
std::string InsertUploadSql(const UploadRecord& record);
/// UPDATE of the progress fields.
std::string UpdateProgressSql(const UploadProgress& progress);
/// UPDATE of every field but id and created_at (the final record).
std::string FinishUploadSql(const UploadRecord& record);
/// The SELECT list that UploadFromRow() reads, with `FROM sluice_uploads`.
std::string_view SelectUploadSql();
/// A record from one row of SelectUploadSql().
core::Result<UploadRecord> UploadFromRow(const std::vector<std::optional<std::string>>& row);

/// Insert or overwrite a table entry (create and replace).
std::string PutTableSql(const TableEntry& entry);
/// Adds `rows` to a table's count and records `upload_id` (append).
std::string AddTableRowsSql(std::string_view table, std::uint64_t rows, std::string_view upload_id,
                            std::int64_t now_ms);
/// The SELECT list that TableFromRow() reads, with `FROM sluice_tables`.
std::string_view SelectTableSql();
/// An entry from one row of SelectTableSql().
core::Result<TableEntry> TableFromRow(const std::vector<std::optional<std::string>>& row);

}  // namespace sluice::db
