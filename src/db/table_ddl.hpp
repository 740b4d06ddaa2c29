// Table DDL and the bulk-load statements for sluice's data tables, built as
// text from a column list {name, sql_type}. Pure: no connection, so every
// statement is unit-tested as golden SQL.
//
// Every data table is InnoDB, utf8mb4, with the hidden `_row BIGINT NOT NULL
// PRIMARY KEY` first (file order; a BIGINT key loads twice as fast as a random
// one — ENVIRONMENT.md) and every CSV column nullable after it. Text columns
// use utf8mb4_nopad_bin, so `=` and LIKE compare exactly (API.md: case,
// accents and trailing spaces count; `ilike` asks for folding explicitly).
//
// Column types are not free text: only the types type inference produces are
// accepted (BIGINT, DECIMAL(p,s), DOUBLE, DATE, DATETIME(n), TEXT, MEDIUMTEXT,
// LONGTEXT, any case, MariaDB's own `bigint(20)` spelling included), so a type
// can never smuggle SQL into a statement.
//
// InnoDB's limits are checked before the server sees the table, with a clear
// message: at most 1017 columns (1016 besides `_row`) and a row that fits half
// a 16 KiB page. The row-size rule is InnoDB's own worst case for a DYNAMIC row
// at CREATE time, measured against MariaDB 10.11: 26 bytes (record header,
// `_row`, transaction id and roll pointer) + one null bit per column + per
// column BIGINT/DOUBLE 8, DATE 3, DATETIME(n) 5 + ⌈n/2⌉, DECIMAL packed
// (4 bytes per 9 digits on each side of the point), TEXT of any size 21 (its
// off-page pointer); the total must stay below 8126.
//
// Staging tables are `_sluice_stage_<upload id>` and the table a replace swaps
// out is `_sluice_old_<upload id>`; names starting with `_sluice_` and the
// catalog's `sluice_*` tables are reserved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/status.hpp"

namespace sluice::db {

/// The hidden row key every data table has, first.
inline constexpr std::string_view kRowColumn = "_row";
/// Columns InnoDB allows in a table besides `_row`.
inline constexpr std::size_t kMaxDataColumns = 1016;
/// InnoDB (16 KiB pages): a row's worst-case size must stay below this.
inline constexpr std::size_t kMaxRowBytes = 8126;
/// The collation of every data table (exact comparison, no padding).
inline constexpr std::string_view kTableCollation = "utf8mb4_nopad_bin";
/// Prefix of staging and swapped-out tables; user tables may not use it.
inline constexpr std::string_view kInternalPrefix = "_sluice_";

/// One column of a data table (without `_row`).
struct ColumnDef {
  std::string name;      ///< the column name (any text ValidateIdentifier accepts)
  std::string sql_type;  ///< BIGINT, DECIMAL(10,2), DOUBLE, DATE, DATETIME(3), TEXT…
  bool operator==(const ColumnDef&) const = default;
};

/// The types sluice creates.
enum class SqlTypeKind { kBigint, kDecimal, kDouble, kDate, kDatetime, kText, kMediumText, kLongText };

/// A parsed, whitelisted column type.
struct SqlType {
  SqlTypeKind kind = SqlTypeKind::kText;
  int precision = 0;  ///< DECIMAL: total digits (1..65)
  int scale = 0;      ///< DECIMAL: digits after the point (0..30, ≤ precision); DATETIME: fraction (0..6)
  bool operator==(const SqlType&) const = default;
};

/// Parses a type as sluice writes it or as information_schema.COLUMNS.COLUMN_TYPE
/// shows it (`bigint(20)`, `decimal(10,2)`, `datetime(3)`, `text`), any case.
/// kInvalid for anything else.
core::Result<SqlType> ParseSqlType(std::string_view text);

/// The canonical spelling: BIGINT, DECIMAL(10,2), DOUBLE, DATE, DATETIME,
/// DATETIME(3), TEXT, MEDIUMTEXT, LONGTEXT.
std::string SqlTypeText(const SqlType& type);

/// Bytes a column of `type` takes in InnoDB's worst-case row (see above).
std::size_t ColumnRowBytes(const SqlType& type);

/// The worst-case InnoDB row size of a table with `_row` and `columns`.
/// kInvalid when a type does not parse.
core::Result<std::size_t> RowBytes(std::span<const ColumnDef> columns);

/// Checks a column list before any DDL: at least one column, valid and
/// distinct names (compared without case, as MariaDB does; `_row` is taken),
/// whitelisted types, at most kMaxDataColumns, row size below kMaxRowBytes.
/// kInvalid for a bad name or type, kLimit for InnoDB's limits.
core::Status CheckColumns(std::span<const ColumnDef> columns);

/// Ok when `name` may be a user table: a valid identifier that is neither
/// `_sluice_…` nor a catalog table. kInvalid otherwise.
core::Status ValidateTableName(std::string_view name);

/// `_sluice_stage_<id>` for an upload id (letters, digits, `_`, `-`).
std::string StagingTableName(std::string_view upload_id);
/// `_sluice_old_<id>`: where replace parks the table it swaps out.
std::string ReplacedTableName(std::string_view upload_id);

/// `CREATE TABLE t (_row BIGINT NOT NULL, <columns> NULL, PRIMARY KEY (_row))
/// ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin`, after
/// CheckColumns (table name: a valid identifier, prefix allowed).
core::Result<std::string> CreateTableSql(std::string_view table, std::span<const ColumnDef> columns);

/// `DROP TABLE IF EXISTS t`.
std::string DropTableSql(std::string_view table);

/// The LOAD DATA statement that matches LoadEncoder's bytes:
/// `LOAD DATA LOCAL INFILE 'sluice-memory' INTO TABLE t CHARACTER SET utf8mb4
/// FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'
/// (_row, c1, …)`.
std::string LoadDataSql(std::string_view table, std::span<const std::string> columns);

/// The same LOAD DATA with every `_row` raised by `row_offset`, for rows that
/// go straight into an append's target: `… (@sluice_row, c1, …)
/// SET _row = @sluice_row + row_offset`.
std::string LoadDataAtOffsetSql(std::string_view table, std::span<const std::string> columns,
                                std::uint64_t row_offset);

/// `INSERT INTO t (_row, c1, …) VALUES ` — the head of a multi-row INSERT.
std::string InsertPrefixSql(std::string_view table, std::span<const std::string> columns);

/// Per column, 1 when an empty CSV field is stored as NULL (every typed
/// column) and 0 when it is '' (TEXT, MEDIUMTEXT, LONGTEXT) — API.md's rule,
/// ready for ingest::EncoderOptions::empty_is_null. Unparsable types count as
/// TEXT.
std::vector<std::uint8_t> EmptyIsNull(std::span<const ColumnDef> columns);

/// The names of `columns`, in order.
std::vector<std::string> ColumnNames(std::span<const ColumnDef> columns);

/// True when MariaDB takes `a` and `b` for the same column name (ASCII and
/// Latin-1 letters compared without case; good enough for a pre-check — the
/// server has the last word).
bool SameColumnName(std::string_view a, std::string_view b);

}  // namespace sluice::db
