// Catalog records ↔ JSON and SQL (see catalog_records.hpp). JSON goes out
// through core::JsonWriter and comes back through simdjson's DOM parser; SQL
// values through db::AppendString, NULL for what is not known yet.
#include "db/catalog_records.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <chrono>
#include <ctime>

#include "core/json_writer.hpp"
#include "db/sql_quote.hpp"

namespace sluice::db {
namespace {

using OptionalText = std::optional<std::string>;

void AppendOptional(std::string& sql, std::string_view text) {
  if (text.empty()) {
    sql += "NULL";
  } else {
    AppendString(sql, text);
  }
}

core::Result<std::uint64_t> ToUint(const OptionalText& text, std::string_view what) {
  std::uint64_t value = 0;
  if (!text) return value;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return core::Status::Internal(fmt::format("catalog: {} is not a number: '{}'", what, *text));
  }
  return value;
}

core::Status ParseError(std::string_view what) {
  return core::Status::Internal(fmt::format("catalog: malformed {} JSON", what));
}

void WriteColumns(core::JsonWriter& w, const std::vector<CatalogColumn>& columns) {
  w.BeginArray();
  for (const auto& column : columns) {
    w.BeginObject().Key("name").String(column.name).Key("header").String(column.header).Key("type").String(
        column.type);
    w.EndObject();
  }
  w.EndArray();
}

void WriteRejected(core::JsonWriter& w, const std::vector<RejectedRow>& rejected) {
  w.BeginArray();
  for (const auto& row : rejected) {
    w.BeginObject().Key("line").Uint(row.line).Key("reason").String(row.reason).EndObject();
  }
  w.EndArray();
}

/// Parses `json` as a DOM array; false when it is not one.
bool ParseArray(simdjson::dom::parser& parser, std::string_view json, simdjson::dom::array& out) {
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return false;
  return doc.get_array().get(out) == simdjson::SUCCESS;
}

std::string StringField(simdjson::dom::object object, const char* key, bool& ok) {
  std::string_view value;
  if (object[key].get_string().get(value) != simdjson::SUCCESS) {
    ok = false;
    return {};
  }
  return std::string(value);
}

}  // namespace

std::string_view UploadStateName(UploadState state) {
  switch (state) {
    case UploadState::kReceiving: return "receiving";
    case UploadState::kLoading: return "loading";
    case UploadState::kDone: return "done";
    case UploadState::kFailed: return "failed";
    case UploadState::kCancelled: return "cancelled";
  }
  return "failed";
}

core::Result<UploadState> ParseUploadState(std::string_view text) {
  for (UploadState state : {UploadState::kReceiving, UploadState::kLoading, UploadState::kDone, UploadState::kFailed,
                            UploadState::kCancelled}) {
    if (UploadStateName(state) == text) return state;
  }
  return core::Status::Invalid(fmt::format("unknown upload state '{}'", text));
}

// ---- JSON --------------------------------------------------------------------

std::string UploadRecordJson(const UploadRecord& record) {
  core::JsonWriter w;
  w.BeginObject();
  w.Key("id").String(record.id);
  w.Key("state").String(UploadStateName(record.state));
  w.Key("table").String(record.table);
  w.Key("mode").String(record.mode);
  w.Key("filename").String(record.filename);
  w.Key("bytes_received").Uint(record.bytes_received);
  w.Key("sha256");
  if (record.sha256.empty()) {
    w.Null();
  } else {
    w.String(record.sha256);
  }
  w.Key("rows_total").Uint(record.rows_total);
  w.Key("rows_loaded").Uint(record.rows_loaded);
  w.Key("rows_rejected").Uint(record.rows_rejected);
  w.Key("columns");
  WriteColumns(w, record.columns);
  w.Key("rejected");
  WriteRejected(w, record.rejected);
  w.Key("s3");
  if (record.s3_key.empty()) {
    w.Null();
  } else {
    w.BeginObject().Key("bucket").String(record.s3_bucket).Key("key").String(record.s3_key).Key("etag");
    if (record.s3_etag.empty()) {
      w.Null();
    } else {
      w.String(record.s3_etag);
    }
    w.EndObject();
  }
  w.Key("error");
  if (record.error_code.empty()) {
    w.Null();
  } else {
    w.BeginObject().Key("code").String(record.error_code).Key("message").String(record.error_message).EndObject();
  }
  w.Key("created_at").String(Rfc3339(record.created_at_ms));
  w.Key("finished_at");
  if (record.finished_at_ms) {
    w.String(Rfc3339(*record.finished_at_ms));
  } else {
    w.Null();
  }
  w.Key("duration_ms");
  if (record.duration_ms) {
    w.Uint(*record.duration_ms);
  } else {
    w.Null();
  }
  w.EndObject();
  return std::move(w).str();
}

std::string TableEntryJson(const TableEntry& entry) {
  core::JsonWriter w;
  w.BeginObject();
  w.Key("name").String(entry.name);
  w.Key("rows").Uint(entry.row_count);
  w.Key("columns");
  WriteColumns(w, entry.columns);
  w.Key("upload_id");
  if (entry.upload_id.empty()) {
    w.Null();
  } else {
    w.String(entry.upload_id);
  }
  w.Key("created_at").String(Rfc3339(entry.created_at_ms));
  w.Key("updated_at").String(Rfc3339(entry.updated_at_ms));
  w.EndObject();
  return std::move(w).str();
}

std::string ColumnsJson(const std::vector<CatalogColumn>& columns) {
  core::JsonWriter w;
  WriteColumns(w, columns);
  return std::move(w).str();
}

core::Result<std::vector<CatalogColumn>> ParseColumnsJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  if (!ParseArray(parser, json, array)) return ParseError("columns");
  std::vector<CatalogColumn> columns;
  for (simdjson::dom::element item : array) {
    simdjson::dom::object object;
    if (item.get_object().get(object) != simdjson::SUCCESS) return ParseError("columns");
    bool ok = true;
    CatalogColumn column{StringField(object, "name", ok), StringField(object, "header", ok),
                         StringField(object, "type", ok)};
    if (!ok) return ParseError("columns");
    columns.push_back(std::move(column));
  }
  return columns;
}

std::string RejectedJson(const std::vector<RejectedRow>& rejected) {
  core::JsonWriter w;
  WriteRejected(w, rejected);
  return std::move(w).str();
}

core::Result<std::vector<RejectedRow>> ParseRejectedJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  if (!ParseArray(parser, json, array)) return ParseError("rejected");
  std::vector<RejectedRow> rejected;
  for (simdjson::dom::element item : array) {
    simdjson::dom::object object;
    std::uint64_t line = 0;
    if (item.get_object().get(object) != simdjson::SUCCESS ||
        object["line"].get_uint64().get(line) != simdjson::SUCCESS) {
      return ParseError("rejected");
    }
    bool ok = true;
    RejectedRow row{line, StringField(object, "reason", ok)};
    if (!ok) return ParseError("rejected");
    rejected.push_back(std::move(row));
  }
  return rejected;
}

std::string StringsJson(const std::vector<std::string>& strings) {
  core::JsonWriter w;
  w.BeginArray();
  for (const auto& text : strings) w.String(text);
  w.EndArray();
  return std::move(w).str();
}

core::Result<std::vector<std::string>> ParseStringsJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  if (!ParseArray(parser, json, array)) return ParseError("header");
  std::vector<std::string> strings;
  for (simdjson::dom::element item : array) {
    std::string_view text;
    if (item.get_string().get(text) != simdjson::SUCCESS) return ParseError("header");
    strings.emplace_back(text);
  }
  return strings;
}

// ---- Time --------------------------------------------------------------------

namespace {

struct Civil {
  std::tm tm{};
  int millis = 0;
};

Civil ToCivil(std::int64_t unix_ms) {
  std::int64_t seconds = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  Civil civil;
  civil.millis = static_cast<int>(unix_ms - seconds * 1000);
  auto t = static_cast<std::time_t>(seconds);
  gmtime_r(&t, &civil.tm);
  return civil;
}

}  // namespace

std::string SqlTimestamp(std::int64_t unix_ms) {
  Civil c = ToCivil(unix_ms);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}", c.tm.tm_year + 1900, c.tm.tm_mon + 1, c.tm.tm_mday,
                     c.tm.tm_hour, c.tm.tm_min, c.tm.tm_sec, c.millis);
}

std::string Rfc3339(std::int64_t unix_ms) {
  Civil c = ToCivil(unix_ms);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", c.tm.tm_year + 1900, c.tm.tm_mon + 1,
                     c.tm.tm_mday, c.tm.tm_hour, c.tm.tm_min, c.tm.tm_sec, c.millis);
}

core::Result<std::int64_t> ParseSqlTimestamp(std::string_view text) {
  // YYYY-MM-DD HH:MM:SS[.fff…]
  auto bad = [&] { return core::Status::Invalid(fmt::format("not a timestamp: '{}'", text)); };
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':' ||
      text[16] != ':') {
    return bad();
  }
  auto number = [&](std::size_t at, std::size_t length, int& out) {
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + length, out);
    return ec == std::errc() && end == text.data() + at + length;
  };
  std::tm tm{};
  int year = 0, month = 0;
  if (!number(0, 4, year) || !number(5, 2, month) || !number(8, 2, tm.tm_mday) || !number(11, 2, tm.tm_hour) ||
      !number(14, 2, tm.tm_min) || !number(17, 2, tm.tm_sec)) {
    return bad();
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  int millis = 0;
  if (text.size() > 19) {
    if (text[19] != '.' || text.size() < 21) return bad();
    std::string_view fraction = text.substr(20);
    for (std::size_t i = 0; i < 3; ++i) {
      char digit = i < fraction.size() ? fraction[i] : '0';
      if (digit < '0' || digit > '9') return bad();
      millis = millis * 10 + (digit - '0');
    }
  }
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + millis;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- SQL ---------------------------------------------------------------------

std::string InsertUploadSql(const UploadRecord& r) {
  std::string sql =
      "INSERT INTO sluice_uploads (id, state, table_name, mode, filename, bytes_received, sha256, rows_total, "
      "rows_loaded, rows_rejected, columns_json, rejected_json, s3_bucket, s3_key, s3_etag, error_code, "
      "error_message, created_at, finished_at, duration_ms) VALUES (";
  AppendString(sql, r.id);
  sql += ", ";
  AppendString(sql, UploadStateName(r.state));
  sql += ", ";
  AppendString(sql, r.table);
  sql += ", ";
  AppendString(sql, r.mode);
  sql += ", ";
  AppendString(sql, r.filename);
  sql += fmt::format(", {}, ", r.bytes_received);
  AppendOptional(sql, r.sha256);
  sql += fmt::format(", {}, {}, {}, ", r.rows_total, r.rows_loaded, r.rows_rejected);
  AppendString(sql, ColumnsJson(r.columns));
  sql += ", ";
  AppendString(sql, RejectedJson(r.rejected));
  sql += ", ";
  AppendOptional(sql, r.s3_bucket);
  sql += ", ";
  AppendOptional(sql, r.s3_key);
  sql += ", ";
  AppendOptional(sql, r.s3_etag);
  sql += ", ";
  AppendOptional(sql, r.error_code);
  sql += ", ";
  AppendOptional(sql, r.error_code.empty() ? std::string_view() : std::string_view(r.error_message));
  sql += ", ";
  AppendString(sql, SqlTimestamp(r.created_at_ms));
  sql += ", ";
  AppendOptional(sql, r.finished_at_ms ? SqlTimestamp(*r.finished_at_ms) : std::string());
  sql += r.duration_ms ? fmt::format(", {})", *r.duration_ms) : std::string(", NULL)");
  return sql;
}

std::string UpdateProgressSql(const UploadProgress& p) {
  std::string sql = "UPDATE sluice_uploads SET state = ";
  AppendString(sql, UploadStateName(p.state));
  sql += fmt::format(", bytes_received = {}, rows_total = {}, rows_loaded = {}, rows_rejected = {} WHERE id = ",
                     p.bytes_received, p.rows_total, p.rows_loaded, p.rows_rejected);
  AppendString(sql, p.id);
  return sql;
}

std::string FinishUploadSql(const UploadRecord& r) {
  std::string sql = "UPDATE sluice_uploads SET state = ";
  AppendString(sql, UploadStateName(r.state));
  sql += ", table_name = ";
  AppendString(sql, r.table);
  sql += ", mode = ";
  AppendString(sql, r.mode);
  sql += ", filename = ";
  AppendString(sql, r.filename);
  sql += fmt::format(", bytes_received = {}, sha256 = ", r.bytes_received);
  AppendOptional(sql, r.sha256);
  sql += fmt::format(", rows_total = {}, rows_loaded = {}, rows_rejected = {}, columns_json = ", r.rows_total,
                     r.rows_loaded, r.rows_rejected);
  AppendString(sql, ColumnsJson(r.columns));
  sql += ", rejected_json = ";
  AppendString(sql, RejectedJson(r.rejected));
  sql += ", s3_bucket = ";
  AppendOptional(sql, r.s3_bucket);
  sql += ", s3_key = ";
  AppendOptional(sql, r.s3_key);
  sql += ", s3_etag = ";
  AppendOptional(sql, r.s3_etag);
  sql += ", error_code = ";
  AppendOptional(sql, r.error_code);
  sql += ", error_message = ";
  AppendOptional(sql, r.error_code.empty() ? std::string_view() : std::string_view(r.error_message));
  sql += ", finished_at = ";
  AppendOptional(sql, r.finished_at_ms ? SqlTimestamp(*r.finished_at_ms) : std::string());
  sql += r.duration_ms ? fmt::format(", duration_ms = {}", *r.duration_ms) : std::string(", duration_ms = NULL");
  sql += " WHERE id = ";
  AppendString(sql, r.id);
  return sql;
}

std::string_view SelectUploadSql() {
  return "SELECT id, state, table_name, mode, filename, bytes_received, sha256, rows_total, rows_loaded, "
         "rows_rejected, columns_json, rejected_json, s3_bucket, s3_key, s3_etag, error_code, error_message, "
         "created_at, finished_at, duration_ms FROM sluice_uploads";
}

core::Result<UploadRecord> UploadFromRow(const std::vector<OptionalText>& row) {
  if (row.size() != 20 || !row[0] || !row[1] || !row[17]) return core::Status::Internal("catalog: bad upload row");
  UploadRecord r;
  r.id = *row[0];
  auto state = ParseUploadState(*row[1]);
  if (!state) return state.error();
  r.state = *state;
  r.table = row[2].value_or("");
  r.mode = row[3].value_or("");
  r.filename = row[4].value_or("");
  auto bytes = ToUint(row[5], "bytes_received");
  auto total = ToUint(row[7], "rows_total");
  auto loaded = ToUint(row[8], "rows_loaded");
  auto rejected_count = ToUint(row[9], "rows_rejected");
  if (!bytes || !total || !loaded || !rejected_count) return core::Status::Internal("catalog: bad upload counts");
  r.bytes_received = *bytes;
  r.sha256 = row[6].value_or("");
  r.rows_total = *total;
  r.rows_loaded = *loaded;
  r.rows_rejected = *rejected_count;
  if (row[10]) {
    auto columns = ParseColumnsJson(*row[10]);
    if (!columns) return columns.error();
    r.columns = std::move(*columns);
  }
  if (row[11]) {
    auto rejected = ParseRejectedJson(*row[11]);
    if (!rejected) return rejected.error();
    r.rejected = std::move(*rejected);
  }
  r.s3_bucket = row[12].value_or("");
  r.s3_key = row[13].value_or("");
  r.s3_etag = row[14].value_or("");
  r.error_code = row[15].value_or("");
  r.error_message = row[16].value_or("");
  auto created = ParseSqlTimestamp(*row[17]);
  if (!created) return created.error();
  r.created_at_ms = *created;
  if (row[18]) {
    auto finished = ParseSqlTimestamp(*row[18]);
    if (!finished) return finished.error();
    r.finished_at_ms = *finished;
  }
  if (row[19]) {
    auto duration = ToUint(row[19], "duration_ms");
    if (!duration) return duration.error();
    r.duration_ms = *duration;
  }
  return r;
}

std::string PutTableSql(const TableEntry& e) {
  std::string sql = "INSERT INTO sluice_tables (name, header_json, columns_json, row_count, upload_id, created_at, "
                    "updated_at) VALUES (";
  AppendString(sql, e.name);
  sql += ", ";
  AppendString(sql, StringsJson(e.header));
  sql += ", ";
  AppendString(sql, ColumnsJson(e.columns));
  sql += fmt::format(", {}, ", e.row_count);
  AppendOptional(sql, e.upload_id);
  sql += ", ";
  AppendString(sql, SqlTimestamp(e.created_at_ms));
  sql += ", ";
  AppendString(sql, SqlTimestamp(e.updated_at_ms));
  sql += ") ON DUPLICATE KEY UPDATE header_json = VALUES(header_json), columns_json = VALUES(columns_json), "
         "row_count = VALUES(row_count), upload_id = VALUES(upload_id), created_at = VALUES(created_at), "
         "updated_at = VALUES(updated_at)";
  return sql;
}

std::string AddTableRowsSql(std::string_view table, std::uint64_t rows, std::string_view upload_id,
                            std::int64_t now_ms) {
  std::string sql = fmt::format("UPDATE sluice_tables SET row_count = row_count + {}, upload_id = ", rows);
  AppendOptional(sql, upload_id);
  sql += ", updated_at = ";
  AppendString(sql, SqlTimestamp(now_ms));
  sql += " WHERE name = ";
  AppendString(sql, table);
  return sql;
}

std::string_view SelectTableSql() {
  return "SELECT name, header_json, columns_json, row_count, upload_id, created_at, updated_at FROM sluice_tables";
}

core::Result<TableEntry> TableFromRow(const std::vector<OptionalText>& row) {
  if (row.size() != 7 || !row[0] || !row[1] || !row[2] || !row[5] || !row[6]) {
    return core::Status::Internal("catalog: bad table row");
  }
  TableEntry e;
  e.name = *row[0];
  auto header = ParseStringsJson(*row[1]);
  if (!header) return header.error();
  e.header = std::move(*header);
  auto columns = ParseColumnsJson(*row[2]);
  if (!columns) return columns.error();
  e.columns = std::move(*columns);
  auto count = ToUint(row[3], "row_count");
  if (!count) return count.error();
  e.row_count = *count;
  e.upload_id = row[4].value_or("");
  auto created = ParseSqlTimestamp(*row[5]);
  auto updated = ParseSqlTimestamp(*row[6]);
  if (!created) return created.error();
  if (!updated) return updated.error();
  e.created_at_ms = *created;
  e.updated_at_ms = *updated;
  return e;
}

}  // namespace sluice::db
