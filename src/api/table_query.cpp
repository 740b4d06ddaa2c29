// QueryRun: one /rows or /aggregate request from parameters to last byte (see
// table_query.hpp for the steps). It is a glue::RowSink: the connection hands
// it rows, it writes them into `out_` and ships `out_` in 64 KiB chunks.
//
// Flow control, in one place (Pump): fetching pauses (OnRow returns false)
// when a full chunk cannot go out yet — the socket's queue is past its
// high-water mark (until OnDrain) or the previous chunk is still being
// compressed on a worker — and resumes once both clear. Chunks leave in
// order: at most one compression is in flight.
//
// Lifetime: the handler owns the run (shared_ptr); pool and worker callbacks
// hold it too and check `aborted_`. The connection's pointer to the run (its
// sink) is only valid while the run holds the Lease, so every path that drops
// the Lease with a stream in flight abandons the stream first.
#include "api/table_query.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json_writer.hpp"
#include "db/catalog_records.hpp"
#include "db/sql_quote.hpp"
#include "http/accept_encoding.hpp"
#include "log/logger.hpp"
#include "loop/work_item.hpp"
#include "mysql/mysql_async.hpp"
#include "query/cursor_codec.hpp"
#include "query/query_params.hpp"
#include "query/result_writer.hpp"
#include "query/sql_render.hpp"
#include "zlib/gzip_stream.hpp"

namespace sluice::api {
namespace {

using query::Format;

/// Output is shipped in chunks of this size.
constexpr std::size_t kChunkBytes = 64 << 10;
/// When rows pause on their way (OnStall), a compressed stream ships what it
/// has once it is this big (a plain one ships anything).
constexpr std::size_t kStallFlushBytes = 16 << 10;
/// A keyset cursor whose key values are longer falls back to an offset.
constexpr std::size_t kMaxCursorKeyBytes = 2048;
/// zlib level for answers: fast (as nginx's default gzip_comp_level).
constexpr int kGzipLevel = 1;
/// ER_NO_SUCH_TABLE: the table went away between the catalog and the query.
constexpr int kNoSuchTable = 1146;
/// ER_BAD_FIELD_ERROR: a column named by the catalog entry is not in the
/// table (it was replaced by another process since the entry was read).
constexpr int kBadField = 1054;

/// The per-process cursor key, for servers without a jwt_secret.
const query::CursorCodec& ProcessCodec() {
  static const query::CursorCodec codec("");
  return codec;
}

/// rows × filtered% of the first table in an EXPLAIN FORMAT=JSON answer.
std::optional<std::uint64_t> EstimateFromExplain(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return std::nullopt;
  // query_block.table, or query_block.nested_loop[0].table
  simdjson::dom::element block = root["query_block"];
  simdjson::dom::element table;
  if (block["table"].get(table) != simdjson::SUCCESS) {
    simdjson::dom::array loop;
    if (block["nested_loop"].get(loop) != simdjson::SUCCESS || loop.size() == 0) return std::nullopt;
    if (loop.at(0)["table"].get(table) != simdjson::SUCCESS) return std::nullopt;
  }
  double rows = 0;
  if (table["rows"].get(rows) != simdjson::SUCCESS) {
    std::uint64_t whole = 0;
    if (table["rows"].get(whole) != simdjson::SUCCESS) return std::nullopt;
    rows = static_cast<double>(whole);
  }
  double filtered = 100;
  if (table["filtered"].get(filtered) != simdjson::SUCCESS) {
    std::uint64_t whole = 100;
    if (table["filtered"].get(whole) == simdjson::SUCCESS) filtered = static_cast<double>(whole);
  }
  return static_cast<std::uint64_t>(rows * filtered / 100.0 + 0.5);
}

class QueryRun final : public glue::RowSink, public std::enable_shared_from_this<QueryRun> {
 public:
  QueryRun(const TableApi& api, QueryKind kind, http::Exchange& exchange)
      : api_(api), kind_(kind), exchange_(exchange.weak_from_this()) {
    const http::Request& request = exchange.request();
    table_name_ = std::string(request.PathParam("table"));
    params_ = request.query;
    accept_ = std::string(request.Header("Accept").value_or(""));
    gzip_wanted_ = http::AcceptsGzip(request.Header("Accept-Encoding"));
  }

  ~QueryRun() override { DropLease(); }

  void Start() {
    // The table's entry from memory when this process read it lately (and
    // nothing changed since): no catalog round trip, and a bad request is
    // answered without taking a connection at all.
    if (auto entry = api_.catalog->CachedTable(table_name_)) {
      entry_from_cache_ = true;
      if (!UseEntry(*entry)) return;
    }
    auto self = shared_from_this();
    api_.pool->Acquire([self](core::Result<db::Lease> lease) { self->OnLease(std::move(lease)); });
  }

  /// The socket's queue went below its low-water mark.
  void OnDrain() {
    waiting_drain_ = false;
    Pump();
  }

  /// The client is gone (or the handler is being destroyed). A stream is
  /// abandoned at once; a plain statement in flight (the catalog lookup, the
  /// count) finishes first, so its connection stays usable — its callback
  /// holds this run and sees `aborted_`.
  void Abort() {
    aborted_ = true;
    if (streaming_ || !lease_ || !lease_->busy()) DropLease();
  }

  // ---- glue::RowSink ----

  void OnFields(const std::vector<glue::FieldInfo>& fields) override {
    if (fields.size() != rendered_.names.size()) {  // cannot happen with our own SQL
      internal_error_ = fmt::format("the query returned {} columns, {} expected", fields.size(),
                                    rendered_.names.size());
      lease_->AbandonStream();
      streaming_ = false;
      Fail(500, "internal", internal_error_);
      DropLease();
      return;
    }
    std::vector<query::OutputColumn> columns;
    for (std::size_t i = 0; i < rendered_.visible; ++i) columns.push_back({rendered_.names[i], fields[i].numeric});
    query::PageHead head{schema_.name, total_, offset_, limit_};
    writer_.emplace(format_, std::move(columns), std::move(head));
    out_.reserve(kChunkBytes + kChunkBytes / 4);
    // The envelope (JSON) or header row (CSV) is written in front of the first
    // chunk: by then a total may be known that is not known yet (OnEnd).
  }

  bool OnRow(const char* const* cells, const unsigned long* lengths) override {
    ++rows_fetched_;
    if (rows_fetched_ > limit_) {  // the JSON page's look-ahead row: a next page exists
      has_more_ = true;
      return true;
    }
    query::RowView row{cells, lengths};
    writer_->Row(out_, row);
    if (rows_fetched_ == limit_ && format_ == Format::kJson && kind_ == QueryKind::kRows) RememberKeys(row);
    if (out_.size() < kChunkBytes) return true;
    return ShipFullChunk();
  }

  bool OnStall() override {
    if (compressing_ || waiting_drain_ || out_.empty()) return true;
    bool ship = gzip_ ? out_.size() >= kStallFlushBytes : (headers_sent_ || out_.size() >= kStallFlushBytes);
    if (ship) Ship(TakeOut(), false);
    return true;  // a stall never needs a pause: the next full chunk decides
  }

  void OnEnd(core::Status status) override {
    streaming_ = false;
    if (aborted_) return;
    if (!status.ok()) {
      log_->log(status.domain() == core::ErrorDomain::kDb && glue::IsStatementTimeout(status) ? spdlog::level::warn
                                                                                            : spdlog::level::err,
                "req={} query failed: {} [{}]", request_id_, status.message(), rendered_.sql);
      if (RetryWithFreshEntry(status)) return;
      DropLease();
      if (headers_sent_) {
        if (auto exchange = exchange_.lock()) exchange->AbortStream();
        return;
      }
      FailDb(status);
      return;
    }
    if (!writer_) {  // a SELECT always has fields; be safe
      DropLease();
      Fail(500, "internal", "the query returned no result set");
      return;
    }
    // An answer that ends inside this page tells its own total, for free:
    // offset + rows, when the page is not full (or the look-ahead row is
    // missing) and the position is absolute (no keyset cursor).
    std::uint64_t written = std::min(rows_fetched_, limit_);
    bool complete = written < limit_ || (format_ == Format::kJson && limit_ > 0 && !has_more_);
    if (!total_ && !head_written_ && complete && !keyset_paging_ && (written > 0 || offset_ == 0)) {
      total_ = offset_ + written;
    }
    writer_->End(out_, NextCursor());
    DropLease();  // the connection goes back to the pool; the rest is our bytes only
    ended_ = true;
    Pump();
  }

 private:
  // ---- steps ----

  void OnLease(core::Result<db::Lease> lease) {
    if (aborted_) return;
    if (!lease) {
      Fail(503, "database_unavailable", fmt::format("the database cannot be reached: {}", lease.error().message()),
           {}, {{"Retry-After", "5"}});
      return;
    }
    lease_ = std::move(lease).value();
    if (auto exchange = exchange_.lock()) request_id_ = exchange->request().id;
    if (prepared_) {
      Run();
      return;
    }
    LookUpEntry();
  }

  /// Reads the table's catalog entry on our connection (OnEntry).
  void LookUpEntry() {
    std::string sql(db::SelectTableSql());
    sql += " WHERE name = ";
    db::AppendString(sql, table_name_);
    generation_ = api_.catalog->tables_generation();
    auto self = shared_from_this();
    lease_->Query(std::move(sql), [self](core::Result<glue::QueryResult> result) { self->OnEntry(std::move(result)); });
  }

  void OnEntry(core::Result<glue::QueryResult> result) {
    if (aborted_) {
      DropLease();
      return;
    }
    if (!result) {
      DropLease();
      FailDb(result.error());
      return;
    }
    if (result->rows.empty()) {
      DropLease();
      Fail(404, "not_found", fmt::format("no table '{}'", table_name_), "table");
      return;
    }
    auto entry = db::TableFromRow(result->rows[0]);
    if (!entry) {
      DropLease();
      Fail(500, "internal", entry.error().message());
      return;
    }
    auto shared = std::make_shared<const db::TableEntry>(std::move(entry).value());
    if (!UseEntry(*shared)) {
      DropLease();
      return;
    }
    api_.catalog->RememberTable(table_name_, std::move(shared), generation_);
    Run();
  }

  /// The entry → schema → the query's SQL (Prepare). Answers (and returns
  /// false) when the entry is unusable or the request is bad.
  bool UseEntry(const db::TableEntry& entry) {
    auto schema = query::TableSchema::FromEntry(entry);
    if (!schema) return Fail(500, "internal", schema.error().message());
    schema_ = std::move(schema).value();
    if (!Prepare()) return false;
    prepared_ = true;
    return true;
  }

  /// The count (when asked for), then the rows.
  void Run() {
    if (count_sql_.empty()) {
      StartStream();
      return;
    }
    auto self = shared_from_this();
    lease_->Query(count_sql_, [self](core::Result<glue::QueryResult> count) { self->OnCount(std::move(count)); });
  }

  /// A query built from an entry kept in memory failed as if the table had
  /// changed under it (another process replaced or dropped it within the
  /// cache's second): forget the entries, read this one again and start over,
  /// once. True when it did.
  bool RetryWithFreshEntry(const core::Status& status) {
    if (!entry_from_cache_ || headers_sent_ || !lease_ || lease_->busy() || status.domain() != core::ErrorDomain::kDb ||
        (status.code() != kNoSuchTable && status.code() != kBadField)) {
      return false;
    }
    log_->info("req={} table '{}' changed under its cached entry ({}): reading it again", request_id_, table_name_,
               status.message());
    api_.catalog->TableChanged();
    entry_from_cache_ = false;
    prepared_ = false;
    // Everything Prepare() and the stream set, back to the start.
    rendered_ = {};
    count_sql_.clear();
    estimate_ = false;
    keyset_paging_ = false;
    total_.reset();
    writer_.reset();
    out_.clear();
    rows_fetched_ = 0;
    has_more_ = false;
    LookUpEntry();
    return true;
  }

  /// Parameters → model → SQL. Answers (and returns false) on a bad request.
  bool Prepare() {
    const config::Config& config = *api_.config;
    query::ParamLimits limits;
    limits.max_limit = static_cast<std::uint64_t>(config.server.max_page_rows);
    limits.default_limit = std::min<std::uint64_t>(100, limits.max_limit);
    cursor_secret_ = config.auth.jwt_secret;
    const query::CursorCodec& codec = Codec();
    query::ParamError error;
    if (kind_ == QueryKind::kRows) {
      auto parsed = query::ParseRowsQuery(params_, schema_, limits, &error);
      if (!parsed) return FailParam(error);
      query::RowsQuery& rows = *parsed;
      format_ = query::ChooseFormat(rows.format, accept_);
      scope_ = query::RowsCursorScope(schema_, rows);
      std::optional<query::KeysetPosition> after;
      if (!rows.cursor.empty()) {
        auto position = codec.Decode(rows.cursor, scope_, rows.sort.size());
        if (!position) return Fail(400, "invalid_cursor", position.error().message(), "cursor");
        if (auto* keyset = std::get_if<query::KeysetPosition>(&*position)) {
          after = std::move(*keyset);
          keyset_paging_ = true;
        } else {
          rows.offset += std::get<std::uint64_t>(*position);
        }
      }
      offset_ = rows.offset;
      limit_ = rows.limit;
      std::uint64_t fetch = format_ == Format::kJson && limit_ > 0 ? limit_ + 1 : limit_;
      rendered_ = query::RenderRowsSelect(schema_, rows, after ? &*after : nullptr, fetch);
      if (rows.filters.empty()) {
        total_ = schema_.row_count;
      } else if (rows.count == query::CountMode::kExact) {
        count_sql_ = glue::WithStatementTimeLimit(query::RenderCount(schema_, rows.filters), TimeLimit());
      } else if (rows.count == query::CountMode::kEstimate) {
        count_sql_ = query::RenderEstimate(schema_, rows.filters);
        estimate_ = true;
      }
    } else {
      auto parsed = query::ParseAggregateQuery(params_, schema_, limits, &error);
      if (!parsed) return FailParam(error);
      query::AggregateQuery& aggregate = *parsed;
      format_ = query::ChooseFormat(aggregate.format, accept_);
      scope_ = query::AggregateCursorScope(schema_, aggregate);
      std::uint64_t offset = aggregate.offset;
      if (!aggregate.cursor.empty()) {
        auto position = codec.Decode(aggregate.cursor, scope_, 0);
        if (!position || !std::holds_alternative<std::uint64_t>(*position)) {
          return Fail(400, "invalid_cursor",
                      position ? "cursor: not a cursor of an aggregate" : position.error().message(), "cursor");
        }
        offset += std::get<std::uint64_t>(*position);
      }
      offset_ = offset;
      limit_ = aggregate.limit;
      std::uint64_t fetch = format_ == Format::kJson && limit_ > 0 ? limit_ + 1 : limit_;
      rendered_ = query::RenderAggregateSelect(schema_, aggregate, offset, fetch);
    }
    gzip_ = gzip_wanted_;
    return true;
  }

  void OnCount(core::Result<glue::QueryResult> result) {
    if (aborted_) {
      DropLease();
      return;
    }
    if (!result) {
      if (RetryWithFreshEntry(result.error())) return;
      DropLease();
      FailDb(result.error());
      return;
    }
    const auto& rows = result->rows;
    if (estimate_) {
      if (!rows.empty() && !rows[0].empty() && rows[0][0]) total_ = EstimateFromExplain(*rows[0][0]);
    } else if (!rows.empty() && !rows[0].empty() && rows[0][0]) {
      std::uint64_t count = 0;
      const std::string& text = *rows[0][0];
      if (std::from_chars(text.data(), text.data() + text.size(), count).ec == std::errc()) total_ = count;
    }
    StartStream();
  }

  void StartStream() {
    log_->debug("req={} {}", request_id_, rendered_.sql);
    streaming_ = true;
    lease_->StreamQuery(rendered_.sql, this, {TimeLimit()});
  }

  // ---- output ----

  /// The buffered output, leaving a fresh buffer sized for the next chunk
  /// (so a chunk fills without re-allocating as it grows).
  std::string TakeOut() {
    std::string chunk = std::move(out_);
    out_ = std::string();
    if (!ended_) out_.reserve(kChunkBytes + kChunkBytes / 4);
    return chunk;
  }

  /// OnRow's buffer is full: ship it now if it can go, else pause fetching.
  bool ShipFullChunk() {
    if (waiting_drain_ || compressing_) {
      paused_ = true;
      return false;
    }
    Ship(TakeOut(), false);
    if (waiting_drain_) {
      paused_ = true;
      return false;
    }
    return true;  // while a chunk compresses, the next one fills
  }

  /// Moves things along after a drain, a finished compression or the end.
  void Pump() {
    if (aborted_ || compressing_) return;
    if (ended_) {
      if (!finished_) {
        finished_ = true;
        Ship(TakeOut(), true);  // the last bytes go even past the high-water mark
      }
      return;
    }
    if (waiting_drain_) return;
    if (out_.size() >= kChunkBytes) {
      Ship(TakeOut(), false);
      if (waiting_drain_) return;
    }
    if (paused_ && !(compressing_ && out_.size() >= kChunkBytes) && lease_) {
      paused_ = false;
      lease_->ResumeStream();
    }
  }

  /// Sends `data` (compressed first when gzip), starting the response if
  /// needed; `last` ends it.
  void Ship(std::string data, bool last) {
    if (!head_written_ && writer_) {
      head_written_ = true;
      writer_->head().total = total_;
      std::string head;
      writer_->Begin(head);
      data.insert(0, head);
    }
    if (gzip_) {
      Compress(std::move(data), last);
      return;
    }
    Send(std::move(data), last);
  }

  void Send(std::string data, bool last) {
    auto exchange = exchange_.lock();
    if (!exchange || !exchange->alive()) {
      Abort();
      return;
    }
    if (!headers_sent_ && last) {  // the whole answer in one piece: Content-Length, no chunks
      headers_sent_ = true;
      exchange->Respond(200, std::move(data), query::ContentType(format_), Headers());
      return;
    }
    if (!headers_sent_) {
      headers_sent_ = true;
      exchange->BeginStream(200, query::ContentType(format_), Headers());
    }
    if (!data.empty() && !exchange->Write(data)) waiting_drain_ = true;
    if (last) exchange->EndStream();
  }

  /// Deflates on a worker, then Send()s; one at a time, so chunks stay in order.
  void Compress(std::string data, bool last) {
    if (!deflater_) deflater_ = std::make_shared<glue::GzipDeflater>(kGzipLevel);
    compressing_ = true;
    auto deflater = deflater_;
    auto input = std::make_shared<std::string>(std::move(data));
    auto output = std::make_shared<std::string>();
    std::weak_ptr<QueryRun> weak = weak_from_this();
    loop::SubmitWork(
        api_.loop,
        [deflater, input, output, last] {
          output->reserve(input->size() / 3 + 64);
          glue::ByteSink sink = [output](std::string_view piece) { output->append(piece); };
          deflater->Feed(*input, sink);
          if (last) deflater->Finish(sink);
        },
        [weak, output, last](int status) {
          auto self = weak.lock();
          if (!self || self->aborted_) return;
          self->compressing_ = false;
          if (status != 0) {
            self->DropLease();
            if (auto exchange = self->exchange_.lock(); exchange && self->headers_sent_) {
              exchange->AbortStream();
            } else {
              self->Fail(500, "internal", "compressing the answer failed");
            }
            self->aborted_ = true;
            return;
          }
          self->Send(std::move(*output), last);
          self->Pump();
        });
  }

  http::HeaderList Headers() const {
    http::HeaderList headers{{"Vary", "Accept-Encoding"}};
    if (gzip_) headers.emplace_back("Content-Encoding", "gzip");
    if (format_ != Format::kJson && total_) headers.emplace_back("X-Total-Count", std::to_string(*total_));
    return headers;
  }

  // ---- cursors ----

  void RememberKeys(const query::RowView& row) {
    last_keys_.clear();
    last_key_bytes_ = 0;
    for (std::size_t i = 0; i + 1 < rendered_.keys.size(); ++i) {
      auto cell = row.Cell(rendered_.keys[i]);
      if (cell) last_key_bytes_ += cell->size();
      last_keys_.emplace_back(cell ? std::optional<std::string>(std::string(*cell)) : std::nullopt);
    }
    last_row_ = 0;
    if (auto cell = row.Cell(rendered_.keys.back())) {
      std::from_chars(cell->data(), cell->data() + cell->size(), last_row_);
    }
  }

  /// The cursor codec: keyed from the conf's jwt_secret (derived once per
  /// request that needs it), else the per-process one.
  const query::CursorCodec& Codec() {
    if (cursor_secret_.empty()) return ProcessCodec();
    if (!codec_) codec_.emplace(cursor_secret_);
    return *codec_;
  }

  std::optional<std::string> NextCursor() {
    if (format_ != Format::kJson || !has_more_ || limit_ == 0) return std::nullopt;
    const query::CursorCodec& codec = Codec();
    if (kind_ == QueryKind::kAggregate || (last_key_bytes_ > kMaxCursorKeyBytes && !keyset_paging_)) {
      return codec.Encode(scope_, query::CursorPosition(offset_ + limit_));
    }
    return codec.Encode(scope_, query::CursorPosition(query::KeysetPosition{last_keys_, last_row_}));
  }

  // ---- errors and teardown ----

  std::chrono::milliseconds TimeLimit() const { return api_.config->mariadb.max_statement_time; }

  bool FailParam(const query::ParamError& error) { return Fail(400, error.code, error.message, error.param); }

  bool Fail(int status, std::string_view code, std::string_view message, std::string_view param = {},
            http::HeaderList headers = {}) {
    if (auto exchange = exchange_.lock(); exchange && exchange->alive() && !exchange->responded()) {
      exchange->RespondError(status, code, message, param, std::move(headers));
    }
    return false;
  }

  void FailDb(const core::Status& status) {
    if (glue::IsStatementTimeout(status)) {
      Fail(503, "query_timeout",
           fmt::format("the query ran longer than max_statement_time ({}) and was stopped; narrow it with filters, "
                       "page with the cursor instead of a deep offset, ask for fewer rows, or index the columns it "
                       "filters and sorts on (POST /v1/tables/{}/indexes)",
                       config::FormatDuration(TimeLimit()), schema_.name.empty() ? table_name_ : schema_.name),
           {}, {{"Retry-After", "5"}});
    } else if (glue::IsConnectionLost(status) || status.domain() != core::ErrorDomain::kDb) {
      Fail(503, "database_unavailable", fmt::format("the database connection failed: {}", status.message()), {},
           {{"Retry-After", "5"}});
    } else if (status.code() == kNoSuchTable) {
      Fail(404, "not_found", fmt::format("no table '{}'", table_name_), "table");
    } else {
      Fail(500, "internal", fmt::format("the database refused the query: {}", status.message()));
    }
  }

  /// Gives the connection back; a stream still in flight is abandoned first
  /// (the connection then holds no pointer to this run and is dropped).
  void DropLease() {
    if (!lease_) return;
    if (streaming_) {
      lease_->AbandonStream();
      streaming_ = false;
    }
    lease_.Release();
  }

  const TableApi& api_;
  QueryKind kind_;
  std::weak_ptr<http::Exchange> exchange_;
  std::string table_name_;
  query::Params params_;
  std::string accept_;
  bool gzip_wanted_ = false;
  std::string request_id_;
  std::shared_ptr<spdlog::logger> log_ = log::Get("query");

  db::Lease lease_;
  query::TableSchema schema_;
  query::RenderedSelect rendered_;
  Format format_ = Format::kJson;
  std::string scope_;
  std::string cursor_secret_;
  std::optional<query::CursorCodec> codec_;
  std::string count_sql_;
  bool entry_from_cache_ = false;  ///< the schema came from the catalog's memory (Start)
  bool prepared_ = false;          ///< schema_ and the SQL are ready (UseEntry)
  std::uint64_t generation_ = 0;   ///< the cache's generation when the entry was looked up
  bool estimate_ = false;
  bool keyset_paging_ = false;
  std::optional<std::uint64_t> total_;
  std::uint64_t offset_ = 0;
  std::uint64_t limit_ = 0;

  std::optional<query::ResultWriter> writer_;
  std::string out_;
  std::uint64_t rows_fetched_ = 0;
  bool has_more_ = false;
  std::vector<std::optional<std::string>> last_keys_;
  std::size_t last_key_bytes_ = 0;
  std::int64_t last_row_ = 0;
  std::string internal_error_;

  bool gzip_ = false;
  std::shared_ptr<glue::GzipDeflater> deflater_;
  bool streaming_ = false;     ///< StreamQuery in flight (until OnEnd)
  bool paused_ = false;        ///< OnRow returned false: ResumeStream when Pump allows
  bool waiting_drain_ = false; ///< Write() said the socket's queue is full
  bool compressing_ = false;   ///< a chunk is on a worker
  bool headers_sent_ = false;
  bool head_written_ = false;  ///< the writer's Begin() went out (in front of the first chunk)
  bool ended_ = false;         ///< every row is in out_
  bool finished_ = false;      ///< the last chunk was shipped
  bool aborted_ = false;
};

class TableQueryHandler final : public http::Handler {
 public:
  TableQueryHandler(const TableApi& api, QueryKind kind) : api_(api), kind_(kind) {}
  ~TableQueryHandler() override {
    if (run_) run_->Abort();
  }

  void OnBodyEnd(http::Exchange& exchange) override {
    if (api_.ready && !api_.ready()) {
      exchange.RespondError(503, "not_ready", "the catalog is not ready yet (is MariaDB up?); retry shortly", "",
                            {{"Retry-After", "5"}});
      return;
    }
    run_ = std::make_shared<QueryRun>(api_, kind_, exchange);
    run_->Start();
  }
  void OnDrain(http::Exchange&) override {
    if (run_) run_->OnDrain();
  }
  void OnAbort(http::Exchange&) override {
    if (run_) run_->Abort();
  }

 private:
  const TableApi& api_;
  QueryKind kind_;
  std::shared_ptr<QueryRun> run_;
};

}  // namespace

std::unique_ptr<http::Handler> MakeTableQueryHandler(const TableApi& api, QueryKind kind) {
  return std::make_unique<TableQueryHandler>(api, kind);
}

}  // namespace sluice::api
