// MysqlConnection's state machines: Connect (resolve → one attempt per address
// → handshake), Query (real_query → store_result → drain extra results) and
// Close, plus StreamQuery (real_query → use_result → fetch_row per row,
// paced by the sink), each a state whose Connector/C call is started once and continued
// with `_cont` whenever the uv_poll_t / uv_timer_t it waits for fires. Run()
// is the one driver loop; Advance() reads a finished call's result and picks
// the next state; Finish*() hand the outcome to the caller (Deliver() defers it
// to the next loop turn when the operation ends inside the call that began it).
// Cancel() is how an in-flight call is abandoned without leaking: the socket is
// shut down and the call resumed with MYSQL_WAIT_TIMEOUT, which every wait
// point in the connector treats as failure, so its own error path cleans up.
// See mysql_async.hpp for the rules.
#include "mysql/mysql_async.hpp"

#include <errmsg.h>
#include <fmt/format.h>
#include <mysqld_error.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

#include "uv/uv_error.hpp"

namespace sluice::glue {
namespace {

constexpr int kIoWaits = MYSQL_WAIT_READ | MYSQL_WAIT_WRITE | MYSQL_WAIT_EXCEPT;
/// How many `_cont` calls Cancel() allows the connector to wind down in.
constexpr int kMaxCancelSteps = 64;
/// ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8 servers close idle sessions with it).
constexpr int kClientInteractionTimeout = 4031;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "sluice: MysqlConnection: %s (see Rules in mysql_async.hpp)\n", what);
  std::abort();
}

/// The connector's last error as a Status: {kDb, errno, "<sqlstate> <text>"}.
core::Status StatusFrom(MYSQL* mysql) {
  unsigned code = mysql_errno(mysql);
  if (code == 0) return {core::ErrorDomain::kDb, CR_UNKNOWN_ERROR, "HY000 unknown MariaDB client error"};
  return {core::ErrorDomain::kDb, static_cast<int>(code),
          fmt::format("{} {}", mysql_sqlstate(mysql), mysql_error(mysql))};
}

/// An error this layer raises itself, shaped like the connector's.
core::Status ClientError(int code, std::string_view text) {
  return {core::ErrorDomain::kDb, code, fmt::format("HY000 {}", text)};
}

bool IsNumericAddress(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return uv_inet_pton(AF_INET, host.c_str(), buffer) == 0 ||
         uv_inet_pton(AF_INET6, host.c_str(), buffer) == 0;
}

// The default LOCAL INFILE handler: refuses whatever file the server names, so
// a hostile or confused server can never make sluice read a local file.
int RefuseInfileInit(void** info, const char*, void*) {
  *info = nullptr;
  return 1;
}
int RefuseInfileRead(void*, char*, unsigned int) { return -1; }
void RefuseInfileEnd(void*) {}
int RefuseInfileError(void*, char* buffer, unsigned int length) {
  std::snprintf(buffer, length, "LOAD DATA LOCAL INFILE refused: no in-memory source is registered");
  return CR_UNKNOWN_ERROR;
}

}  // namespace

std::string WithStatementTimeLimit(std::string_view sql, std::chrono::milliseconds limit) {
  if (limit.count() <= 0) return std::string(sql);
  return fmt::format("SET STATEMENT max_statement_time={}.{:03} FOR {}", limit.count() / 1000, limit.count() % 1000,
                     sql);
}

bool IsStatementTimeout(const core::Status& status) {
  return status.domain() == core::ErrorDomain::kDb && status.code() == ER_STATEMENT_TIMEOUT;
}

bool IsConnectionLost(const core::Status& status) {
  if (status.domain() != core::ErrorDomain::kDb) return false;
  switch (status.code()) {
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN:
    case kClientInteractionTimeout:
      return true;
    default:
      return false;
  }
}

/// Marks "inside Connect/Query/Close": a completion found there is deferred.
class MysqlConnection::StartScope {
 public:
  explicit StartScope(MysqlConnection& connection) : connection_(connection) { connection_.starting_ = true; }
  ~StartScope() { connection_.starting_ = false; }
  StartScope(const StartScope&) = delete;
  StartScope& operator=(const StartScope&) = delete;

 private:
  MysqlConnection& connection_;
};

/// Counts user callbacks on the stack, so destruction inside one is caught.
class MysqlConnection::CallbackScope {
 public:
  explicit CallbackScope(MysqlConnection& connection) : connection_(connection) { ++connection_.callback_depth_; }
  ~CallbackScope() { --connection_.callback_depth_; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

 private:
  MysqlConnection& connection_;
};

MysqlConnection::MysqlConnection(uv_loop_t* loop) : loop_(loop) {
  if (wait_timer_.Init(uv_timer_init, loop_) != 0 || op_timer_.Init(uv_timer_init, loop_) != 0) {
    Die("uv_timer_init failed");
  }
  wait_timer_->data = this;
  op_timer_->data = this;
}

MysqlConnection::~MysqlConnection() {
  if (callback_depth_ > 0) Die("destroyed inside its own callback chain");
  CancelResolve();
  ClosePoll();  // before anything below can close the fd
  if (mysql_ != nullptr) {
    if (suspended_) Cancel();
    if (stream_res_ != nullptr) {
      // A half-read streaming result: shut the socket so freeing it cannot
      // block reading the rest.
      if (SocketOpen()) ::shutdown(mysql_get_socket(mysql_.get()), SHUT_RDWR);
      stream_res_.reset();
    }
    mysql_.reset();  // idle and open: blocking COM_QUIT (a few bytes); else memory only
  }
  // wait_timer_ and op_timer_ close in their destructors; pending callbacks drop.
}

bool MysqlConnection::busy() const noexcept {
  if (deferred_) return true;
  return state_ != State::kNew && state_ != State::kIdle && state_ != State::kClosed;
}

bool MysqlConnection::open() const noexcept {
  switch (state_) {
    case State::kIdle:
    case State::kQuery:
    case State::kStoreResult:
    case State::kNextResult:
    case State::kStreamQuery:
    case State::kStreamFetch:
      return mysql_ != nullptr;
    default:
      return false;
  }
}

bool MysqlConnection::SocketOpen() const noexcept {
  // net.pvio is the connector's live socket once a call has finished; unlike
  // mysql_get_socket() it never looks at the connect-time pvio, which the
  // connector leaves dangling after a failed connect or a lost connection.
  return mysql_ != nullptr && mysql_->net.pvio != nullptr;
}

bool MysqlConnection::CheckIdle() {
  if (state_ != State::kIdle || deferred_ || broken_ || !SocketOpen()) return false;
  pollfd probe{};
  probe.fd = mysql_get_socket(mysql_.get());
  probe.events = POLLIN;
  int ready = ::poll(&probe, 1, 0);
  if (ready == 0 || (ready < 0 && errno == EINTR)) return true;
  broken_ = true;  // bytes or EOF on an idle connection: the server ended it
  return false;
}

unsigned long MysqlConnection::thread_id() const noexcept {
  return open() ? mysql_thread_id(mysql_.get()) : 0;
}

std::string MysqlConnection::server_version() const {
  if (!open()) return {};
  const char* info = mysql_get_server_info(mysql_.get());
  return info != nullptr ? info : "";
}

// ---- Connect ---------------------------------------------------------------

void MysqlConnection::Connect(const ConnectParams& params, ConnectCallback done) {
  if (state_ != State::kNew || deferred_) Die("Connect() on a connection that was already used");
  StartScope scope(*this);
  params_ = params;
  connect_cb_ = std::move(done);
  if (params_.connect_timeout.count() > 0) {
    uv_timer_start(op_timer_.get(), &OnOpTimer, static_cast<uint64_t>(params_.connect_timeout.count()), 0);
  }
  if (!params_.socket.empty()) {
    addresses_ = {std::string()};
  } else if (IsNumericAddress(params_.host)) {
    addresses_ = {params_.host};
  } else {
    Resolve();
    return;
  }
  if (PrepareAttempt()) Run(0);
}

void MysqlConnection::Resolve() {
  state_ = State::kResolving;
  auto req = std::make_unique<uv_getaddrinfo_t>();
  req->data = this;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  int rc = uv_getaddrinfo(loop_, req.get(), &OnGetAddrInfo, params_.host.c_str(), nullptr, &hints);
  if (rc != 0) {
    FinishConnect(ClientError(CR_UNKNOWN_HOST, fmt::format("Unknown server host '{}' ({})", params_.host,
                                                           uv_strerror(rc))));
    return;
  }
  resolve_req_ = req.release();  // OnGetAddrInfo takes it back
}

void MysqlConnection::OnGetAddrInfo(uv_getaddrinfo_t* req, int status, addrinfo* result) noexcept {
  std::unique_ptr<uv_getaddrinfo_t> owned(req);
  auto* self = static_cast<MysqlConnection*>(req->data);
  if (self == nullptr) {  // the connection gave up on it (deadline or destruction)
    uv_freeaddrinfo(result);
    return;
  }
  self->resolve_req_ = nullptr;
  self->OnResolved(status, result);
}

void MysqlConnection::OnResolved(int status, addrinfo* result) {
  std::unique_ptr<addrinfo, mysql_detail::CDeleter<uv_freeaddrinfo>> list(result);
  if (status != 0) {
    FinishConnect(ClientError(CR_UNKNOWN_HOST, fmt::format("Unknown server host '{}' ({})", params_.host,
                                                           uv_strerror(status))));
    return;
  }
  addresses_.clear();
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char name[INET6_ADDRSTRLEN] = {};
    if (ai->ai_family == AF_INET) {
      uv_ip4_name(reinterpret_cast<const sockaddr_in*>(ai->ai_addr), name, sizeof(name));
    } else if (ai->ai_family == AF_INET6) {
      uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(ai->ai_addr), name, sizeof(name));
    } else {
      continue;
    }
    if (name[0] != '\0' && std::find(addresses_.begin(), addresses_.end(), name) == addresses_.end()) {
      addresses_.emplace_back(name);
    }
  }
  if (addresses_.empty()) {
    FinishConnect(ClientError(CR_UNKNOWN_HOST, fmt::format("Unknown server host '{}' (no address)", params_.host)));
    return;
  }
  if (PrepareAttempt()) Run(0);
}

void MysqlConnection::CancelResolve() {
  if (resolve_req_ == nullptr) return;
  resolve_req_->data = nullptr;  // its callback still runs (UV_ECANCELED or late) and frees it
  uv_cancel(reinterpret_cast<uv_req_t*>(resolve_req_));
  resolve_req_ = nullptr;
}

bool MysqlConnection::PrepareAttempt() {
  attempt_host_ = addresses_[next_address_++];
  ClosePoll();  // the next attempt's socket may get the old one's number
  mysql_.reset(mysql_init(nullptr));
  if (mysql_ == nullptr) {
    FinishConnect(ClientError(CR_OUT_OF_MEMORY, "mysql_init failed"));
    return false;
  }
  MYSQL* mysql = mysql_.get();
  size_t stack_size = params_.coroutine_stack_size;
  unsigned int protocol = params_.socket.empty() ? MYSQL_PROTOCOL_TCP : MYSQL_PROTOCOL_SOCKET;
  unsigned int local_infile = 1;
  my_bool reconnect = 0;  // a silent reconnect would lose session state; the pool reconnects
  int rc = mysql_options(mysql, MYSQL_OPT_NONBLOCK, stack_size != 0 ? &stack_size : nullptr);
  rc |= mysql_options(mysql, MYSQL_OPT_PROTOCOL, &protocol);
  rc |= mysql_options(mysql, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  rc |= mysql_options(mysql, MYSQL_OPT_LOCAL_INFILE, &local_infile);
  rc |= mysql_options(mysql, MYSQL_OPT_RECONNECT, &reconnect);
  if (params_.connect_timeout.count() > 0) {
    // Whole seconds, rounded up: per attempt; the millisecond budget is op_timer_.
    auto seconds = static_cast<unsigned int>((params_.connect_timeout.count() + 999) / 1000);
    rc |= mysql_options(mysql, MYSQL_OPT_CONNECT_TIMEOUT, &seconds);
  }
  if (rc != 0) {
    core::Status status = StatusFrom(mysql);
    mysql_.reset();
    FinishConnect(std::move(status));
    return false;
  }
  mysql_set_local_infile_handler(mysql, &RefuseInfileInit, &RefuseInfileRead, &RefuseInfileEnd,
                                 &RefuseInfileError, nullptr);
  connect_ret_ = nullptr;
  state_ = State::kConnecting;
  suspended_ = false;
  return true;
}

bool MysqlConnection::OnConnectCallDone() {
  if (connect_ret_ != nullptr) {
    state_ = State::kIdle;
    FinishConnect(core::Status::Ok());
    return false;
  }
  core::Status status = StatusFrom(mysql_.get());
  mysql_.reset();  // a failed handle holds no socket: this only frees memory
  bool unreachable = status.code() == CR_CONNECTION_ERROR || status.code() == CR_CONN_HOST_ERROR;
  if (unreachable && next_address_ < addresses_.size()) return PrepareAttempt();
  FinishConnect(std::move(status));
  return false;
}

void MysqlConnection::OnConnectDeadline() {
  std::string where = params_.socket.empty() ? fmt::format("{}:{}", params_.host, params_.port) : params_.socket;
  core::Status status = ClientError(
      CR_CONN_HOST_ERROR,
      fmt::format("Can't connect to server on '{}': timed out after {} ms", where, params_.connect_timeout.count()));
  if (state_ == State::kResolving) {
    CancelResolve();
  } else if (state_ == State::kConnecting) {
    Cancel();
    mysql_.reset();
  }
  FinishConnect(std::move(status));
}

void MysqlConnection::FinishConnect(core::Status status) {
  uv_timer_stop(op_timer_.get());
  if (!status.ok()) {
    ClosePoll();
    mysql_.reset();
    state_ = State::kClosed;
    broken_ = true;
  }
  auto callback = std::move(connect_cb_);
  connect_cb_ = nullptr;
  Deliver([callback = std::move(callback), status = std::move(status)]() {
    if (callback) callback(status);
  });
}

// ---- Query -----------------------------------------------------------------

void MysqlConnection::Query(std::string sql, QueryCallback done) {
  if (busy()) Die("Query() while another operation is in flight");
  StartQuery(std::move(sql), std::move(done));
}

void MysqlConnection::LoadDataLocal(std::string sql, std::shared_ptr<const std::string> data, QueryCallback done) {
  if (busy()) Die("LoadDataLocal() while another operation is in flight");
  infile_ = InfileSource{data != nullptr ? std::move(data) : std::make_shared<const std::string>(), 0, false};
  if (mysql_ != nullptr && state_ == State::kIdle) {
    mysql_set_local_infile_handler(mysql_.get(), &OnInfileInit, &OnInfileRead, &OnInfileEnd, &OnInfileError,
                                   &infile_);
  }
  StartQuery(std::move(sql), std::move(done));
}

void MysqlConnection::StartQuery(std::string sql, QueryCallback done) {
  StartScope scope(*this);
  sql_ = std::move(sql);
  query_cb_ = std::move(done);
  result_ = QueryResult{};
  first_result_done_ = false;
  if (state_ != State::kIdle || mysql_ == nullptr) {
    FinishQuery(ClientError(CR_SERVER_GONE_ERROR, "Not connected (never connected, failed or closed)"));
    return;
  }
  state_ = State::kQuery;
  suspended_ = false;
  Run(0);
}

bool MysqlConnection::OnResultSet() {
  MysqlResPtr result(res_ret_);
  res_ret_ = nullptr;
  MYSQL* mysql = mysql_.get();
  if (result == nullptr) {
    if (mysql_errno(mysql) != 0) return FailQuery(StatusFrom(mysql));
    return AfterResult();
  }
  if (!first_result_done_) {  // later result sets (a CALL) are read and dropped
    unsigned int count = mysql_num_fields(result.get());
    const MYSQL_FIELD* fields = mysql_fetch_fields(result.get());
    result_.has_result_set = true;
    result_.columns.reserve(count);
    for (unsigned int i = 0; i < count; ++i) result_.columns.emplace_back(fields[i].name, fields[i].name_length);
    result_.rows.reserve(static_cast<size_t>(mysql_num_rows(result.get())));
    // A stored result is in memory: mysql_fetch_row does no I/O here.
    while (MYSQL_ROW row = mysql_fetch_row(result.get())) {
      const unsigned long* lengths = mysql_fetch_lengths(result.get());
      auto& out = result_.rows.emplace_back();
      out.reserve(count);
      for (unsigned int i = 0; i < count; ++i) {
        if (row[i] == nullptr) {
          out.emplace_back(std::nullopt);
        } else {
          out.emplace_back(std::in_place, row[i], lengths[i]);
        }
      }
    }
    result_.affected_rows = mysql_num_rows(result.get());
    result_.warnings = mysql_warning_count(mysql);
  }
  return AfterResult();
}

bool MysqlConnection::AfterResult() {
  first_result_done_ = true;
  if (mysql_more_results(mysql_.get())) {
    state_ = State::kNextResult;
    return true;
  }
  FinishQuery(std::move(result_));
  return false;
}

bool MysqlConnection::FailQuery(core::Status status) {
  if (IsConnectionLost(status) || !SocketOpen()) broken_ = true;
  FinishQuery(std::move(status));
  return false;
}

void MysqlConnection::CountError(const core::Status* error) noexcept {
  if (error == nullptr || error_counts_ == nullptr) return;
  if (broken_ || IsConnectionLost(*error)) {
    ++error_counts_->connection;
  } else {
    ++error_counts_->statement;
  }
}

void MysqlConnection::FinishQuery(core::Result<QueryResult> result) {
  if (state_ == State::kQuery || state_ == State::kStoreResult || state_ == State::kNextResult ||
      state_ == State::kStreamQuery || state_ == State::kStreamFetch) {
    state_ = State::kIdle;
  }
  EndInfile();
  if (streaming_) {
    FinishStream(result ? core::Status::Ok() : result.error());
    return;
  }
  CountError(result ? nullptr : &result.error());
  auto callback = std::move(query_cb_);
  query_cb_ = nullptr;
  result_ = QueryResult{};
  Deliver([callback = std::move(callback), result = std::move(result)]() mutable {
    if (callback) callback(std::move(result));
  });
}

// ---- StreamQuery -------------------------------------------------------------

void MysqlConnection::StreamQuery(std::string sql, RowSink* sink, StreamOptions options) {
  if (busy()) Die("StreamQuery() while another operation is in flight");
  if (sink == nullptr) Die("StreamQuery() without a sink");
  StartScope scope(*this);
  sql_ = options.max_statement_time.count() > 0 ? WithStatementTimeLimit(sql, options.max_statement_time)
                                                : std::move(sql);
  sink_ = sink;
  streaming_ = true;
  stream_paused_ = false;
  abandon_requested_ = false;
  end_pending_ = false;
  rows_since_stall_ = 0;
  query_cb_ = nullptr;
  result_ = QueryResult{};
  first_result_done_ = false;
  if (state_ != State::kIdle || mysql_ == nullptr) {
    FinishQuery(ClientError(CR_SERVER_GONE_ERROR, "Not connected (never connected, failed or closed)"));
    return;
  }
  state_ = State::kStreamQuery;
  suspended_ = false;
  Run(0);
}

bool MysqlConnection::StartStreamResult() {
  MYSQL* mysql = mysql_.get();
  std::vector<FieldInfo> fields;
  if (mysql_field_count(mysql) > 0) {
    stream_res_.reset(mysql_use_result(mysql));  // no I/O: rows are read by fetch_row
    if (stream_res_ == nullptr) return FailQuery(StatusFrom(mysql));
    unsigned int count = mysql_num_fields(stream_res_.get());
    const MYSQL_FIELD* list = mysql_fetch_fields(stream_res_.get());
    fields.reserve(count);
    for (unsigned int i = 0; i < count; ++i) {
      FieldInfo field;
      field.name.assign(list[i].name, list[i].name_length);
      field.type = list[i].type;
      switch (list[i].type) {
        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONGLONG:
        case MYSQL_TYPE_DECIMAL:
        case MYSQL_TYPE_NEWDECIMAL:
        case MYSQL_TYPE_FLOAT:
        case MYSQL_TYPE_DOUBLE:
          field.numeric = true;
          break;
        default:
          break;
      }
      fields.push_back(std::move(field));
    }
  }
  {
    CallbackScope scope(*this);
    in_sink_call_ = true;
    sink_->OnFields(fields);
    in_sink_call_ = false;
  }
  if (abandon_requested_) {
    TearDownStream();
    return false;
  }
  if (stream_res_ == nullptr) return AfterResult();  // no result set: no rows
  state_ = State::kStreamFetch;
  return true;
}

bool MysqlConnection::OnStreamRow() {
  if (row_ret_ == nullptr) {
    MYSQL* mysql = mysql_.get();
    // The end, or an error in place of the next row (a statement killed by
    // max_statement_time mid-stream, a lost connection). Either way the
    // connector has detached the result: freeing it does no I/O.
    if (mysql_errno(mysql) != 0) return FailQuery(StatusFrom(mysql));
    stream_res_.reset();
    return AfterResult();
  }
  const unsigned long* lengths = mysql_fetch_lengths(stream_res_.get());
  ++rows_since_stall_;
  bool more = false;
  {
    CallbackScope scope(*this);
    in_sink_call_ = true;
    more = sink_->OnRow(row_ret_, lengths);
    in_sink_call_ = false;
  }
  return AfterSinkCall(more);
}

bool MysqlConnection::SinkStall() {
  rows_since_stall_ = 0;
  bool more = false;
  {
    CallbackScope scope(*this);
    in_sink_call_ = true;
    more = sink_->OnStall();
    in_sink_call_ = false;
  }
  return AfterSinkCall(more);
}

bool MysqlConnection::AfterSinkCall(bool more) {
  if (abandon_requested_) {
    TearDownStream();
    return false;
  }
  if (!more) {
    stream_paused_ = true;
    Disarm();  // nothing may resume the fetch until ResumeStream()
    return false;
  }
  return true;
}

void MysqlConnection::ResumeStream() {
  if (!streaming_ || !stream_paused_) return;
  stream_paused_ = false;
  // On the next loop turn, so a sink never gets a row inside its own call.
  deferred_ = [this] {
    if (!streaming_ || stream_paused_) return;
    if (suspended_) {
      Arm(wait_);  // the fetch that was waiting when the sink paused
    } else {
      Run(0);
    }
  };
  uv_timer_start(op_timer_.get(), &OnOpTimer, 0, 0);
}

void MysqlConnection::AbandonStream() {
  if (end_pending_) {  // finished, but OnEnd not delivered yet: drop it
    end_pending_ = false;
    deferred_ = nullptr;
    uv_timer_stop(op_timer_.get());
    return;
  }
  if (!streaming_) return;
  if (in_sink_call_) {
    abandon_requested_ = true;  // done once the sink returns
    return;
  }
  TearDownStream();
}

void MysqlConnection::TearDownStream() {
  abandon_requested_ = false;
  sink_ = nullptr;
  streaming_ = false;
  stream_paused_ = false;
  deferred_ = nullptr;
  uv_timer_stop(op_timer_.get());
  if (suspended_) {
    Cancel();  // shuts the socket down and winds the suspended call down
  } else {
    Disarm();
    ClosePoll();
    if (SocketOpen()) ::shutdown(mysql_get_socket(mysql_.get()), SHUT_RDWR);
  }
  stream_res_.reset();  // the socket is shut: reading the rest fails at once
  broken_ = true;
  if (state_ == State::kStreamQuery || state_ == State::kStreamFetch || state_ == State::kNextResult ||
      state_ == State::kStoreResult) {
    state_ = State::kIdle;
  }
}

void MysqlConnection::FinishStream(core::Status status) {
  CountError(status.ok() ? nullptr : &status);
  stream_res_.reset();  // read to its end or failed: no I/O (see OnStreamRow)
  streaming_ = false;
  stream_paused_ = false;
  abandon_requested_ = false;
  RowSink* sink = sink_;
  sink_ = nullptr;
  end_pending_ = starting_;
  Deliver([this, sink, status = std::move(status)]() {
    end_pending_ = false;
    sink->OnEnd(status);
  });
}

// ---- LOAD DATA LOCAL INFILE from memory -------------------------------------
// These four run inside the connector, on its coroutine stack: no allocation,
// no logging, no calls out — a bounds check and a memcpy.

int MysqlConnection::OnInfileInit(void** info, const char*, void* userdata) noexcept {
  auto* source = static_cast<InfileSource*>(userdata);
  if (source == nullptr || source->opened || source->data == nullptr) {
    *info = nullptr;  // OnInfileError reports the refusal
    return 1;
  }
  source->opened = true;
  source->offset = 0;
  *info = source;
  return 0;
}

int MysqlConnection::OnInfileRead(void* info, char* buffer, unsigned int length) noexcept {
  auto* source = static_cast<InfileSource*>(info);
  if (source == nullptr) return -1;
  size_t left = source->data->size() - source->offset;
  size_t count = std::min<size_t>(left, length);
  std::memcpy(buffer, source->data->data() + source->offset, count);
  source->offset += count;
  return static_cast<int>(count);
}

void MysqlConnection::OnInfileEnd(void*) noexcept {}

int MysqlConnection::OnInfileError(void* info, char* buffer, unsigned int length) noexcept {
  const char* text = info == nullptr ? "LOAD DATA LOCAL INFILE refused: the in-memory source was already sent"
                                     : "LOAD DATA LOCAL INFILE: reading the in-memory source failed";
  std::snprintf(buffer, length, "%s", text);
  return CR_UNKNOWN_ERROR;
}

void MysqlConnection::EndInfile() {
  if (infile_.data == nullptr) return;
  infile_ = InfileSource{};
  if (mysql_ != nullptr) {
    mysql_set_local_infile_handler(mysql_.get(), &RefuseInfileInit, &RefuseInfileRead, &RefuseInfileEnd,
                                   &RefuseInfileError, nullptr);
  }
}

// ---- Close -----------------------------------------------------------------

void MysqlConnection::Close(CloseCallback done) {
  if (busy()) Die("Close() while another operation is in flight");
  StartScope scope(*this);
  close_cb_ = std::move(done);
  if (state_ != State::kIdle || !SocketOpen()) {
    ClosePoll();
    mysql_.reset();  // nothing to say goodbye to: no socket, so no I/O
    state_ = State::kClosed;
    FinishClose();
    return;
  }
  Disarm();  // the close may end the socket inside the call
  state_ = State::kClosing;
  suspended_ = false;
  Run(0);
}

void MysqlConnection::FinishClose() {
  auto callback = std::move(close_cb_);
  close_cb_ = nullptr;
  Deliver([callback = std::move(callback)]() {
    if (callback) callback();
  });
}

// ---- The driver ------------------------------------------------------------

void MysqlConnection::Run(int ready) {
  for (;;) {
    int wait = Call(ready);
    ready = 0;
    if (wait != 0) {
      suspended_ = true;
      wait_ = wait;
      // A stream's sink may flush (or pause) while the next row is on its way.
      if (state_ == State::kStreamFetch && rows_since_stall_ > 0 && !SinkStall()) return;  // armed on resume
      Arm(wait);
      return;
    }
    suspended_ = false;
    // The connector may have closed the fd inside the call (lost connection,
    // failed connect, close): drop the watcher now, before the number is reused.
    if (poll_.initialized() && !SocketOpen()) ClosePoll();
    if (!Advance()) return;  // completed (the callback may already have run): touch nothing
  }
}

int MysqlConnection::Call(int ready) {
  MYSQL* mysql = mysql_.get();
  switch (state_) {
    case State::kConnecting: {
      if (suspended_) return mysql_real_connect_cont(&connect_ret_, mysql, ready);
      const bool tcp = params_.socket.empty();
      return mysql_real_connect_start(&connect_ret_, mysql, tcp ? attempt_host_.c_str() : nullptr,
                                      params_.user.c_str(), params_.password.c_str(),
                                      params_.database.empty() ? nullptr : params_.database.c_str(),
                                      tcp ? params_.port : 0, tcp ? nullptr : params_.socket.c_str(), 0);
    }
    case State::kQuery:
      if (suspended_) return mysql_real_query_cont(&int_ret_, mysql, ready);
      return mysql_real_query_start(&int_ret_, mysql, sql_.data(), static_cast<unsigned long>(sql_.size()));
    case State::kStoreResult:
      if (suspended_) return mysql_store_result_cont(&res_ret_, mysql, ready);
      return mysql_store_result_start(&res_ret_, mysql);
    case State::kNextResult:
      if (suspended_) return mysql_next_result_cont(&int_ret_, mysql, ready);
      return mysql_next_result_start(&int_ret_, mysql);
    case State::kStreamQuery:
      if (suspended_) return mysql_real_query_cont(&int_ret_, mysql, ready);
      return mysql_real_query_start(&int_ret_, mysql, sql_.data(), static_cast<unsigned long>(sql_.size()));
    case State::kStreamFetch:
      if (suspended_) return mysql_fetch_row_cont(&row_ret_, stream_res_.get(), ready);
      return mysql_fetch_row_start(&row_ret_, stream_res_.get());
    case State::kClosing: {
      int wait = suspended_ ? mysql_close_cont(mysql, ready) : mysql_close_start(mysql);
      if (wait == 0) (void)mysql_.release();  // the connector has freed the handle
      return wait;
    }
    default:
      Die("no connector call in this state");
  }
}

bool MysqlConnection::Advance() {
  MYSQL* mysql = mysql_.get();
  switch (state_) {
    case State::kConnecting:
      return OnConnectCallDone();
    case State::kQuery:
    case State::kNextResult:
      // real_query: 0 = ok; next_result: 0 = another result, -1 = no more, >0 = error.
      if (int_ret_ > 0 || (state_ == State::kQuery && int_ret_ != 0)) return FailQuery(StatusFrom(mysql));
      if (int_ret_ < 0) {
        FinishQuery(std::move(result_));
        return false;
      }
      if (mysql_field_count(mysql) > 0) {
        state_ = State::kStoreResult;
        return true;
      }
      if (!first_result_done_) {
        result_.affected_rows = mysql_affected_rows(mysql);
        result_.insert_id = mysql_insert_id(mysql);
        result_.warnings = mysql_warning_count(mysql);
        const char* info = mysql_info(mysql);
        if (info != nullptr) result_.info = info;
      }
      return AfterResult();
    case State::kStoreResult:
      return OnResultSet();
    case State::kStreamQuery:
      if (int_ret_ != 0) return FailQuery(StatusFrom(mysql));
      if (starting_) {  // done inside StreamQuery(): the sink hears of it on the next turn
        deferred_ = [this] {
          if (StartStreamResult()) Run(0);
        };
        uv_timer_start(op_timer_.get(), &OnOpTimer, 0, 0);
        return false;
      }
      return StartStreamResult();
    case State::kStreamFetch:
      return OnStreamRow();
    case State::kClosing:
      state_ = State::kClosed;
      FinishClose();
      return false;
    default:
      return false;
  }
}

void MysqlConnection::Arm(int wait) {
  wait_ = wait;
  if ((wait & kIoWaits) != 0) {
    int fd = mysql_get_socket(mysql_.get());  // valid while the call is suspended
    if (fd < 0) {
      FailInFlight(core::Status::Internal("MariaDB connector waits on I/O without a socket"));
      return;
    }
    if (poll_.initialized() && poll_fd_ != fd) ClosePoll();
    if (!poll_.initialized()) {
      int rc = poll_.Init(uv_poll_init_socket, loop_, fd);
      if (rc != 0) {
        FailInFlight(UvStatus(rc, "uv_poll_init_socket"));
        return;
      }
      poll_->data = this;
      poll_fd_ = fd;
    }
    int events = 0;
    if ((wait & MYSQL_WAIT_READ) != 0) events |= UV_READABLE;
    if ((wait & MYSQL_WAIT_WRITE) != 0) events |= UV_WRITABLE;
    if ((wait & MYSQL_WAIT_EXCEPT) != 0) events |= UV_PRIORITIZED;
    // Already watching for exactly this (the usual case: one read wait after
    // another, statement after statement): nothing to change. libuv's
    // uv_poll_start would take the fd out of epoll and put it back.
    if (!poll_active_ || poll_events_ != events) {
      int rc = uv_poll_start(poll_.get(), events, &OnPollReady);
      if (rc != 0) {
        FailInFlight(UvStatus(rc, "uv_poll_start"));
        return;
      }
      poll_active_ = true;
      poll_events_ = events;
    }
  } else if (poll_active_) {
    uv_poll_stop(poll_.get());  // a wait for the timer only: no I/O may resume the call
    poll_active_ = false;
  }
  if ((wait & MYSQL_WAIT_TIMEOUT) != 0) {
    uv_timer_start(wait_timer_.get(), &OnWaitTimer, mysql_get_timeout_value_ms(mysql_.get()), 0);
  }
}

void MysqlConnection::Disarm() {
  if (poll_active_) {
    uv_poll_stop(poll_.get());
    poll_active_ = false;
  }
  uv_timer_stop(wait_timer_.get());
}

bool MysqlConnection::CallMayCloseOrOpenSockets() const noexcept {
  return state_ == State::kConnecting || state_ == State::kClosing;
}

void MysqlConnection::ClosePoll() {
  poll_active_ = false;
  poll_.Close();
  poll_fd_ = -1;
}

void MysqlConnection::Cancel() {
  if (!suspended_ || mysql_ == nullptr) return;
  Disarm();
  ClosePoll();  // the fd closes below
  int fd = mysql_get_socket(mysql_.get());  // valid while the call is suspended
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  for (int i = 0; i < kMaxCancelSteps && suspended_; ++i) {
    suspended_ = Call(MYSQL_WAIT_TIMEOUT | MYSQL_WAIT_READ | MYSQL_WAIT_WRITE) != 0;
  }
  // Whatever the finished call produced is dropped. If the connector never
  // wound down, the coroutine is abandoned and mysql_close frees its stack.
  if (res_ret_ != nullptr) {
    mysql_free_result(res_ret_);
    res_ret_ = nullptr;
  }
  suspended_ = false;
  broken_ = true;
}

void MysqlConnection::FailInFlight(core::Status status) {
  Cancel();
  switch (state_) {
    case State::kConnecting:
      FinishConnect(std::move(status));
      return;
    case State::kQuery:
    case State::kStoreResult:
    case State::kNextResult:
    case State::kStreamQuery:
    case State::kStreamFetch:
      FinishQuery(std::move(status));
      return;
    case State::kClosing:
      mysql_.reset();  // nullptr already when the close finished inside Cancel()
      state_ = State::kClosed;
      FinishClose();
      return;
    default:
      return;
  }
}

void MysqlConnection::Deliver(std::function<void()> call) {
  if (starting_) {
    deferred_ = std::move(call);
    uv_timer_start(op_timer_.get(), &OnOpTimer, 0, 0);
    return;
  }
  CallbackScope scope(*this);
  call();
}

// ---- Loop events -----------------------------------------------------------

void MysqlConnection::OnPollReady(uv_poll_t* handle, int status, int events) noexcept {
  auto* self = static_cast<MysqlConnection*>(handle->data);
  if (self != nullptr) self->OnIo(status, events);
}

void MysqlConnection::OnWaitTimer(uv_timer_t* handle) noexcept {
  auto* self = static_cast<MysqlConnection*>(handle->data);
  if (self != nullptr) self->OnWaitTimeout();
}

void MysqlConnection::OnOpTimer(uv_timer_t* handle) noexcept {
  auto* self = static_cast<MysqlConnection*>(handle->data);
  if (self != nullptr) self->OnOpTimeout();
}

void MysqlConnection::OnIo(int status, int events) {
  int ready = 0;
  if (status == 0) {
    if ((events & UV_READABLE) != 0) ready |= MYSQL_WAIT_READ;
    if ((events & UV_WRITABLE) != 0) ready |= MYSQL_WAIT_WRITE;
    if ((events & UV_PRIORITIZED) != 0) ready |= MYSQL_WAIT_EXCEPT;
  }
  if (!suspended_ || stream_paused_ || (wait_ & kIoWaits) == 0) {
    // The watch outlived its wait (see Rules): the socket became readable
    // while nothing waits on it — an idle connection the server ended, say.
    // Stop watching; CheckIdle() tells the pool before the next lend.
    Disarm();
    return;
  }
  // On a poll error, let the connector try the I/O and meet the error itself.
  if (ready == 0) ready = wait_ & kIoWaits;
  if (CallMayCloseOrOpenSockets()) {
    Disarm();  // connect and close may close the fd and open another with its number
  } else {
    uv_timer_stop(wait_timer_.get());  // the watch stays for the next wait (Run closes it if the fd goes)
  }
  Run(ready);
}

void MysqlConnection::OnWaitTimeout() {
  Disarm();
  Run(MYSQL_WAIT_TIMEOUT);
}

void MysqlConnection::OnOpTimeout() {
  if (deferred_) {
    auto call = std::move(deferred_);
    deferred_ = nullptr;
    CallbackScope scope(*this);
    call();
    return;
  }
  if (state_ == State::kResolving || state_ == State::kConnecting) OnConnectDeadline();
}

}  // namespace sluice::glue
