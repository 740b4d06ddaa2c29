// Golden SQL for data tables and bulk loads, the type whitelist and InnoDB's
// limits, as described in table_ddl.hpp. The row-size arithmetic reproduces
// what MariaDB 10.11 answers to CREATE TABLE under innodb_strict_mode (the
// integration tests create tables right at the edge to keep it honest).
#include "db/table_ddl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "db/sql_quote.hpp"

namespace sluice::db {
namespace {

/// Catalog tables (db/catalog.hpp): never a user table's name.
constexpr std::string_view kReservedTables[] = {"sluice_schema_version", "sluice_tables", "sluice_uploads"};

/// Record header (5) + `_row` (8) + DB_TRX_ID (6) + DB_ROLL_PTR (7).
constexpr std::size_t kRowOverheadBytes = 26;
/// A TEXT/BLOB column in a DYNAMIC row, worst case at CREATE: its 20-byte
/// off-page pointer and a length byte.
constexpr std::size_t kTextRowBytes = 21;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Parses "(a)" or "(a,b)" at the start of `args`; false on anything else.
bool ParseArgs(std::string_view args, int& a, int& b, int& count) {
  count = 0;
  if (args.empty()) return true;
  if (args.front() != '(' || args.back() != ')') return false;
  args = args.substr(1, args.size() - 2);
  auto comma = args.find(',');
  auto parse = [](std::string_view digits, int& out) {
    while (!digits.empty() && digits.front() == ' ') digits.remove_prefix(1);
    while (!digits.empty() && digits.back() == ' ') digits.remove_suffix(1);
    if (digits.empty() || digits.size() > 3) return false;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return ec == std::errc() && ptr == digits.data() + digits.size();
  };
  if (comma == std::string_view::npos) {
    count = 1;
    return parse(args, a);
  }
  count = 2;
  return parse(args.substr(0, comma), a) && parse(args.substr(comma + 1), b);
}

/// MariaDB's packed-decimal bytes for `digits` digits on one side of the point.
std::size_t DecimalBytes(int digits) {
  static constexpr std::size_t kLeftover[] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
  return static_cast<std::size_t>(digits / 9) * 4 + kLeftover[digits % 9];
}

void AppendColumnList(std::string& out, std::span<const std::string> columns) {
  out.push_back('(');
  AppendIdentifier(out, kRowColumn);
  for (const auto& column : columns) {
    out.push_back(',');
    AppendIdentifier(out, column);
  }
  out.push_back(')');
}

/// Latin-1/ASCII case folding of one UTF-8 string (as the server folds most
/// column names; other scripts compare as they are in this pre-check).
std::string FoldName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (std::size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(std::toupper(c)));
    } else if (c == 0xC3 && i + 1 < name.size()) {
      // U+00E0..U+00FE (except ÷) fold to U+00C0..U+00DE.
      auto d = static_cast<unsigned char>(name[i + 1]);
      if (d >= 0xA0 && d <= 0xBE && d != 0xB7) d = static_cast<unsigned char>(d - 0x20);
      out.push_back(static_cast<char>(c));
      out.push_back(static_cast<char>(d));
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

}  // namespace

core::Result<SqlType> ParseSqlType(std::string_view text) {
  std::string lower = Lower(text);
  while (!lower.empty() && lower.back() == ' ') lower.pop_back();
  std::string_view view(lower);
  auto paren = view.find('(');
  std::string_view base = view.substr(0, paren);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  std::string_view args = paren == std::string_view::npos ? std::string_view() : view.substr(paren);
  int a = 0, b = 0, count = 0;
  auto bad = [&] { return core::Status::Invalid(fmt::format("unsupported column type '{}'", text)); };
  if (!ParseArgs(args, a, b, count)) return bad();
  SqlType type;
  if (base == "bigint") {
    if (count == 2) return bad();  // bigint(20) is a display width: ignored
    type.kind = SqlTypeKind::kBigint;
  } else if (base == "double") {
    if (count != 0) return bad();
    type.kind = SqlTypeKind::kDouble;
  } else if (base == "date") {
    if (count != 0) return bad();
    type.kind = SqlTypeKind::kDate;
  } else if (base == "datetime") {
    if (count == 2 || (count == 1 && (a < 0 || a > 6))) return bad();
    type.kind = SqlTypeKind::kDatetime;
    type.scale = count == 1 ? a : 0;
  } else if (base == "decimal") {
    type.kind = SqlTypeKind::kDecimal;
    type.precision = count >= 1 ? a : 10;  // MariaDB's defaults: DECIMAL = DECIMAL(10,0)
    type.scale = count == 2 ? b : 0;
    if (type.precision < 1 || type.precision > 65 || type.scale < 0 || type.scale > 30 ||
        type.scale > type.precision) {
      return bad();
    }
  } else if (base == "text" || base == "mediumtext" || base == "longtext") {
    if (count != 0) return bad();
    type.kind = base == "text" ? SqlTypeKind::kText
                : base == "mediumtext" ? SqlTypeKind::kMediumText
                                       : SqlTypeKind::kLongText;
  } else {
    return bad();
  }
  return type;
}

std::string SqlTypeText(const SqlType& type) {
  switch (type.kind) {
    case SqlTypeKind::kBigint: return "BIGINT";
    case SqlTypeKind::kDecimal: return fmt::format("DECIMAL({},{})", type.precision, type.scale);
    case SqlTypeKind::kDouble: return "DOUBLE";
    case SqlTypeKind::kDate: return "DATE";
    case SqlTypeKind::kDatetime: return type.scale == 0 ? "DATETIME" : fmt::format("DATETIME({})", type.scale);
    case SqlTypeKind::kText: return "TEXT";
    case SqlTypeKind::kMediumText: return "MEDIUMTEXT";
    case SqlTypeKind::kLongText: return "LONGTEXT";
  }
  return "TEXT";
}

std::size_t ColumnRowBytes(const SqlType& type) {
  switch (type.kind) {
    case SqlTypeKind::kBigint:
    case SqlTypeKind::kDouble: return 8;
    case SqlTypeKind::kDate: return 3;
    case SqlTypeKind::kDatetime: return 5 + static_cast<std::size_t>(type.scale + 1) / 2;
    case SqlTypeKind::kDecimal: return DecimalBytes(type.precision - type.scale) + DecimalBytes(type.scale);
    case SqlTypeKind::kText:
    case SqlTypeKind::kMediumText:
    case SqlTypeKind::kLongText: return kTextRowBytes;
  }
  return kTextRowBytes;
}

core::Result<std::size_t> RowBytes(std::span<const ColumnDef> columns) {
  std::size_t total = kRowOverheadBytes + (columns.size() + 7) / 8;  // one null bit per column
  for (const auto& column : columns) {
    auto type = ParseSqlType(column.sql_type);
    if (!type) return type.error();
    total += ColumnRowBytes(*type);
  }
  return total;
}

core::Status CheckColumns(std::span<const ColumnDef> columns) {
  if (columns.empty()) return core::Status::Invalid("a table needs at least one column");
  if (columns.size() > kMaxDataColumns) {
    return {core::ErrorDomain::kLimit, 0,
            fmt::format("{} columns: InnoDB allows at most {} in a table (besides the hidden `_row`)",
                        columns.size(), kMaxDataColumns)};
  }
  std::vector<std::pair<std::string, std::size_t>> folded;
  folded.reserve(columns.size() + 1);
  folded.emplace_back(FoldName(kRowColumn), 0);
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const auto& column = columns[i];
    core::Status status = ValidateIdentifier(column.name);
    if (!status.ok()) {
      return core::Status::Invalid(fmt::format("column {} ('{}'): {}", i + 1, column.name, status.message()));
    }
    auto type = ParseSqlType(column.sql_type);
    if (!type) {
      return core::Status::Invalid(fmt::format("column {} ('{}'): {}", i + 1, column.name, type.error().message()));
    }
    folded.emplace_back(FoldName(column.name), i + 1);
  }
  std::sort(folded.begin(), folded.end());
  for (std::size_t i = 1; i < folded.size(); ++i) {
    if (folded[i].first == folded[i - 1].first) {
      std::size_t later = std::max(folded[i].second, folded[i - 1].second);
      bool row_key = folded[i].first == FoldName(kRowColumn);
      return core::Status::Invalid(fmt::format("column {} ('{}'): duplicate column name{}", later,
                                               columns[later - 1].name,
                                               row_key ? " (`_row` is the hidden row key)" : ""));
    }
  }
  auto bytes = RowBytes(columns);
  if (!bytes) return bytes.error();
  if (*bytes >= kMaxRowBytes) {
    return {core::ErrorDomain::kLimit, 0,
            fmt::format("row too large for InnoDB: {} columns need {} bytes in a row, the limit is {} "
                        "(each TEXT column takes {}, BIGINT/DOUBLE 8, DATE 3); use fewer columns",
                        columns.size(), *bytes, kMaxRowBytes - 1, kTextRowBytes)};
  }
  return core::Status::Ok();
}

core::Status ValidateTableName(std::string_view name) {
  core::Status status = ValidateIdentifier(name);
  if (!status.ok()) return core::Status::Invalid(fmt::format("table name: {}", status.message()));
  if (FoldName(name.substr(0, std::min(name.size(), kInternalPrefix.size()))) == FoldName(kInternalPrefix)) {
    return core::Status::Invalid(fmt::format("table name '{}': names starting with '{}' are reserved", name,
                                             kInternalPrefix));
  }
  for (std::string_view reserved : kReservedTables) {
    if (FoldName(name) == FoldName(reserved)) {
      return core::Status::Invalid(fmt::format("table name '{}' is reserved for sluice's catalog", name));
    }
  }
  return core::Status::Ok();
}

std::string StagingTableName(std::string_view upload_id) {
  std::string out(kInternalPrefix);
  out += "stage_";
  for (char c : upload_id) {
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? static_cast<char>(std::tolower(c)) : '_');
  }
  return out;
}

std::string ReplacedTableName(std::string_view upload_id) {
  std::string out(kInternalPrefix);
  out += "old_";
  for (char c : upload_id) {
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? static_cast<char>(std::tolower(c)) : '_');
  }
  return out;
}

core::Result<std::string> CreateTableSql(std::string_view table, std::span<const ColumnDef> columns) {
  core::Status status = ValidateIdentifier(table);
  if (!status.ok()) return core::Status::Invalid(fmt::format("table name: {}", status.message()));
  status = CheckColumns(columns);
  if (!status.ok()) return status;
  std::string sql = "CREATE TABLE ";
  AppendIdentifier(sql, table);
  sql += " (";
  AppendIdentifier(sql, kRowColumn);
  sql += " BIGINT NOT NULL";
  for (const auto& column : columns) {
    sql += ", ";
    AppendIdentifier(sql, column.name);
    sql.push_back(' ');
    sql += SqlTypeText(*ParseSqlType(column.sql_type));
    sql += " NULL";
  }
  sql += ", PRIMARY KEY (";
  AppendIdentifier(sql, kRowColumn);
  sql += ")) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=";
  sql += kTableCollation;
  return sql;
}

std::string DropTableSql(std::string_view table) {
  std::string sql = "DROP TABLE IF EXISTS ";
  AppendIdentifier(sql, table);
  return sql;
}

std::string LoadDataSql(std::string_view table, std::span<const std::string> columns) {
  std::string sql = "LOAD DATA LOCAL INFILE 'sluice-memory' INTO TABLE ";
  AppendIdentifier(sql, table);
  sql += " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ";
  AppendColumnList(sql, columns);
  return sql;
}

std::string LoadDataAtOffsetSql(std::string_view table, std::span<const std::string> columns,
                                std::uint64_t row_offset) {
  std::string sql = "LOAD DATA LOCAL INFILE 'sluice-memory' INTO TABLE ";
  AppendIdentifier(sql, table);
  sql += " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (@sluice_row";
  for (const auto& column : columns) {
    sql.push_back(',');
    AppendIdentifier(sql, column);
  }
  sql += ") SET ";
  AppendIdentifier(sql, kRowColumn);
  sql += " = @sluice_row + " + std::to_string(row_offset);
  return sql;
}

std::string InsertPrefixSql(std::string_view table, std::span<const std::string> columns) {
  std::string sql = "INSERT INTO ";
  AppendIdentifier(sql, table);
  sql.push_back(' ');
  AppendColumnList(sql, columns);
  sql += " VALUES ";
  return sql;
}

std::vector<std::uint8_t> EmptyIsNull(std::span<const ColumnDef> columns) {
  std::vector<std::uint8_t> mask;
  mask.reserve(columns.size());
  for (const auto& column : columns) {
    auto type = ParseSqlType(column.sql_type);
    bool text = !type || type->kind == SqlTypeKind::kText || type->kind == SqlTypeKind::kMediumText ||
                type->kind == SqlTypeKind::kLongText;
    mask.push_back(text ? 0 : 1);
  }
  return mask;
}

std::vector<std::string> ColumnNames(std::span<const ColumnDef> columns) {
  std::vector<std::string> names;
  names.reserve(columns.size());
  for (const auto& column : columns) names.push_back(column.name);
  return names;
}

bool SameColumnName(std::string_view a, std::string_view b) { return FoldName(a) == FoldName(b); }

}  // namespace sluice::db
