// MysqlConnection: one MariaDB connection driven on the libuv loop through
// Connector/C's non-blocking API, so a query never blocks the loop thread.
//
// Each operation (Connect, Query, Close) is an explicit state machine over the
// connector's `mysql_*_start` / `mysql_*_cont` pairs (MariaDB server's
// tests/async_queries.c). When a call has to wait it returns what for:
// MYSQL_WAIT_READ / MYSQL_WAIT_WRITE become UV_READABLE / UV_WRITABLE on the one
// uv_poll_t of the connection's socket, MYSQL_WAIT_TIMEOUT becomes a uv_timer_t
// armed from mysql_get_timeout_value_ms(); whichever fires resumes the call
// with `_cont`. Host names are resolved with uv_getaddrinfo before the connector
// sees them (its own lookup blocks); every address is tried in turn.
//
// Rules:
//  - Everything happens on the loop thread; nothing here blocks it. Callbacks
//    run on the loop, never inside the call that started the operation (a call
//    that finishes at once delivers its result on the next loop turn).
//  - One operation at a time. Starting one while another is in flight (or its
//    callback is still pending) is a bug and aborts.
//  - Never destroy a MysqlConnection inside its own callback chain — its
//    Connect/Query/Close callbacks and anything they call synchronously. Hand it
//    to an owner that frees it on a later loop turn (db::DbPool does). Doing it
//    anyway aborts with a message rather than using freed memory.
//  - Destruction is the fallback path. Pending callbacks are dropped, never
//    called. An operation in flight is cancelled through the connector's own
//    error path (socket shut down, call resumed with MYSQL_WAIT_TIMEOUT), so it
//    frees what it allocated. An idle open connection gets the blocking
//    mysql_close: its COM_QUIT is a few bytes into an empty socket buffer.
//    Close() is the normal way.
//  - The socket has exactly one uv_poll_t, closed as soon as the fd is gone,
//    before anyone can reuse the number (libuv poll.rst). Statements keep it
//    watching across waits and between statements (restarting a uv_poll costs
//    two or three epoll_ctl calls; a statement usually waits once, for its
//    answer): the connector may close the fd inside a statement's `_cont` only
//    on an error that ends the call, and Run() closes the poll right after,
//    before anything else runs on the loop. Connect and close, which may close
//    one socket and open another, stop it before every `_cont`. A watch that
//    fires while nothing waits (an idle connection the server ended, a paused
//    stream) is stopped; a paused stream stops it when it pauses.
//  - Handles close asynchronously: after the last connection is destroyed, run
//    the loop once more before uv_loop_close().
//  - Errors are converted here: Status{kDb, mysql_errno, "<sqlstate> <message>"}.
//    IsConnectionLost() tells a dead connection (2006, 2013, killed) from a
//    failed statement; after one, broken() is true and the connection is done.
//  - LOAD DATA LOCAL INFILE is enabled, but the default handler refuses every
//    file: sluice feeds LOCAL INFILE from memory only. LoadDataLocal() installs
//    a handler serving one in-memory buffer for its one statement (whatever
//    file name the server asks for, and only once), then puts the refusing
//    handler back. The handler runs on the connector's coroutine stack
//    (MYSQL_OPT_NONBLOCK), so it is a bounds check and a memcpy, nothing more.
//  - StreamQuery() reads a result set row by row (mysql_use_result +
//    mysql_fetch_row_start/_cont) into a RowSink instead of storing it, so an
//    answer of any size passes through in constant memory. The sink sets the
//    pace: returning false from OnRow/OnStall pauses fetching (the server then
//    waits on its socket) until ResumeStream(), which continues on a later
//    loop turn. A paused or running stream is an operation in flight (busy()).
//    To give up on one (the client went away), call AbandonStream(): the
//    socket is shut down, the rest of the result is never read, OnEnd is not
//    called, and the connection is broken() — a pool then drops it. Freeing
//    a half-read streaming result any other way would read the rest with
//    blocking I/O.
//  - Failed statements can be counted (CountErrorsInto, for a pool's
//    metrics): plain counters, loop thread, the owner keeps them alive.
//  - A per-statement time limit is MariaDB's own: `SET STATEMENT
//    max_statement_time=N FOR <statement>` (WithStatementTimeLimit);
//    IsStatementTimeout() recognises the error it ends with (1969).
#pragma once

#include <mysql.h>
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/status.hpp"
#include "mysql/mysql_ptr.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::glue {

/// What a statement returned: the first result set (if any) fully read, or the
/// counts of a statement without one. Further result sets (a CALL) are read and
/// dropped so the connection stays in sync.
struct QueryResult {
  bool has_result_set = false;          ///< true for SELECT, SHOW, CALL with rows…
  std::vector<std::string> columns;     ///< column names (labels), in order
  /// Rows as text, as the server sent them; std::nullopt is SQL NULL.
  std::vector<std::vector<std::optional<std::string>>> rows;
  uint64_t affected_rows = 0;           ///< rows changed, or rows returned for a result set
  uint64_t insert_id = 0;               ///< first AUTO_INCREMENT value of the last INSERT
  unsigned warnings = 0;                ///< warning count of the statement
  /// mysql_info() of a statement without a result set ("Records: 3
  /// Deleted: 0 Skipped: 0 Warnings: 0" for LOAD DATA), empty when none.
  std::string info;
};

/// One column of a streamed result set.
struct FieldInfo {
  std::string name;                         ///< the column's name or alias
  enum_field_types type = MYSQL_TYPE_NULL;  ///< the connector's type code
  bool numeric = false;                     ///< an integer, DECIMAL, FLOAT or DOUBLE column
};

/// Receives a streamed result set (MysqlConnection::StreamQuery). Every call
/// comes on the loop thread, never inside StreamQuery() or ResumeStream().
class RowSink {
 public:
  virtual ~RowSink() = default;
  /// The result's columns, once, before any row.
  virtual void OnFields(const std::vector<FieldInfo>& fields) = 0;
  /// One row: `cells[i]` (nullptr = NULL) of `lengths[i]` bytes, valid only
  /// during the call. Return false to pause until ResumeStream().
  virtual bool OnRow(const char* const* cells, const unsigned long* lengths) = 0;
  /// Rows were delivered and the next one is not here yet (the server is
  /// still working or sending): a moment to flush. Return false to pause.
  virtual bool OnStall() { return true; }
  /// The end: Ok after the last row, or the error (also one that comes after
  /// some rows). Always the last call; the connection is idle again.
  virtual void OnEnd(core::Status status) = 0;
};

/// Options of one streamed statement.
struct StreamOptions {
  /// MariaDB's max_statement_time for this statement; zero = the server's own.
  std::chrono::milliseconds max_statement_time{0};
};

/// `SET STATEMENT max_statement_time=<seconds> FOR <sql>`; `sql` unchanged for
/// a zero limit.
std::string WithStatementTimeLimit(std::string_view sql, std::chrono::milliseconds limit);

/// True for MariaDB's "Query execution was interrupted (max_statement_time
/// exceeded)" (ER_STATEMENT_TIMEOUT, 1969).
bool IsStatementTimeout(const core::Status& status);

/// True when `status` says the connection itself is gone (server gone away or
/// lost, connection killed, server shutting down) rather than the statement
/// failing; a pool must drop such a connection.
bool IsConnectionLost(const core::Status& status);

/// Failed statements (Query, LoadDataLocal, StreamQuery), for metrics.
struct StatementErrorCounts {
  uint64_t statement = 0;   ///< the statement failed; the connection is still usable
  uint64_t connection = 0;  ///< the connection was lost (or broke) under the statement
};

/// One non-blocking MariaDB connection bound to a loop. See "Rules" above.
class MysqlConnection {
 public:
  /// Where and as whom to connect.
  struct ConnectParams {
    std::string host = "127.0.0.1";   ///< name or numeric address (TCP); ignored with `socket`
    uint16_t port = 3306;
    std::string socket;               ///< unix socket path; when set, used instead of TCP
    std::string user;
    std::string password;
    std::string database;             ///< default schema; empty = none
    /// Whole-connect budget: resolution, every address tried, and the handshake.
    /// Zero means no limit beyond the connector's own.
    std::chrono::milliseconds connect_timeout{5000};
    /// Stack of the connector's coroutine (MYSQL_OPT_NONBLOCK); 0 = its default
    /// (60 KiB). LOCAL INFILE handlers run on it.
    size_t coroutine_stack_size = 0;
  };

  /// Receives Ok or the connect error.
  using ConnectCallback = std::function<void(core::Status)>;
  /// Receives the statement's result or its error.
  using QueryCallback = std::function<void(core::Result<QueryResult>)>;
  /// Runs once the connection is closed.
  using CloseCallback = std::function<void()>;

  /// A connection that is not connected yet; `loop` must outlive it.
  explicit MysqlConnection(uv_loop_t* loop);
  /// The fallback teardown (see Rules): cancels what is in flight, drops
  /// pending callbacks, closes the handles. Never inside its own callbacks.
  ~MysqlConnection();
  MysqlConnection(const MysqlConnection&) = delete;
  MysqlConnection& operator=(const MysqlConnection&) = delete;

  /// Connects (once per object): TCP to `params.host:port` — resolved first,
  /// each address tried in order — or the unix socket when `params.socket` is
  /// set; utf8mb4; LOCAL INFILE enabled (see Rules). Ok, or the error of the
  /// last address tried (kDb, 2003 when the connect_timeout ran out).
  void Connect(const ConnectParams& params, ConnectCallback done);

  /// Runs one statement and reads its whole result (mysql_real_query then
  /// mysql_store_result). A failed statement leaves the connection usable;
  /// a lost connection makes broken() true.
  void Query(std::string sql, QueryCallback done);

  /// Runs `sql`, a `LOAD DATA LOCAL INFILE '<any name>' INTO TABLE …`
  /// statement, serving `data` as the file's contents from memory (see Rules).
  /// The connection holds `data` until the callback runs. affected_rows is the
  /// number of rows loaded; warnings counts values the server altered or rows
  /// it skipped (LOCAL implies IGNORE), so a careful caller checks it. If the
  /// server asks for a file when `data` has already been sent, it is refused.
  void LoadDataLocal(std::string sql, std::shared_ptr<const std::string> data, QueryCallback done);

  /// Runs one statement and streams its result set into `sink`, row by row
  /// (see Rules): OnFields, OnRow…, OnEnd. `sink` must stay valid until OnEnd
  /// or AbandonStream(). A statement without a result set gives no fields and
  /// no rows. A failed statement leaves the connection usable, as Query does.
  void StreamQuery(std::string sql, RowSink* sink, StreamOptions options = {});

  /// Continues a stream that its sink paused; rows come from a later loop
  /// turn. Nothing happens when the stream is not paused.
  void ResumeStream();

  /// Gives up on the stream in flight (see Rules): the sink gets no further
  /// call, the connection is broken(). Safe inside the sink's own callbacks.
  void AbandonStream();

  /// A stream is in flight and its sink paused it.
  bool stream_paused() const noexcept { return stream_paused_; }

  /// Says goodbye (COM_QUIT) and closes the socket without blocking. Also fine
  /// on a connection that never connected, failed or broke.
  void Close(CloseCallback done);

  /// An operation is in flight or its callback has not run yet.
  bool busy() const noexcept;
  /// Connected, and not closed or torn down (it may still be broken()).
  bool open() const noexcept;
  /// The connection is known to be dead or unusable; only Close() or
  /// destruction remain.
  bool broken() const noexcept { return broken_; }
  /// For pools, before lending an idle connection: true when it is open,
  /// idle and not broken, and the server has sent nothing since the last reply
  /// (an idle socket that reads as ready means EOF or a kill notice; then the
  /// connection is marked broken). One non-blocking poll() call.
  bool CheckIdle();
  /// The server's id for this connection (CONNECTION_ID()); 0 when not open.
  unsigned long thread_id() const noexcept;
  /// The server version string; empty when not open.
  std::string server_version() const;
  /// Adds each failed statement from now on to `counts` (null: stop); it
  /// must outlive the connection or be reset first.
  void CountErrorsInto(StatementErrorCounts* counts) noexcept { error_counts_ = counts; }
  /// The raw handle, for glue that plugs more of the C API in (a LOCAL INFILE
  /// handler). Only between operations; never call a blocking function on it.
  MYSQL* native_handle() const noexcept { return mysql_.get(); }

 private:
  enum class State {
    kNew,          ///< never connected
    kResolving,    ///< uv_getaddrinfo in flight
    kConnecting,   ///< mysql_real_connect_start/_cont
    kIdle,         ///< connected, nothing in flight
    kQuery,        ///< mysql_real_query_start/_cont
    kStoreResult,  ///< mysql_store_result_start/_cont
    kNextResult,   ///< mysql_next_result_start/_cont (extra result sets)
    kStreamQuery,  ///< StreamQuery: mysql_real_query_start/_cont
    kStreamFetch,  ///< StreamQuery: mysql_fetch_row_start/_cont, row by row
    kClosing,      ///< mysql_close_start/_cont
    kClosed,       ///< closed, failed to connect, or cancelled: nothing more
  };

  class StartScope;
  class CallbackScope;

  // The driver: runs the current state's _start (or _cont when suspended),
  // then Advance()s until a call has to wait or the operation completes.
  void Run(int ready);
  int Call(int ready);
  bool Advance();
  void Arm(int wait);
  void Disarm();
  bool CallMayCloseOrOpenSockets() const noexcept;
  void ClosePoll();
  bool SocketOpen() const noexcept;
  void Cancel();
  void FailInFlight(core::Status status);

  // Connect steps.
  void Resolve();
  void OnResolved(int status, struct addrinfo* result);
  bool PrepareAttempt();
  bool OnConnectCallDone();
  void OnConnectDeadline();
  void CancelResolve();
  void FinishConnect(core::Status status);

  // Query steps.
  void StartQuery(std::string sql, QueryCallback done);
  bool OnResultSet();
  bool AfterResult();
  bool FailQuery(core::Status status);
  void FinishQuery(core::Result<QueryResult> result);
  void CountError(const core::Status* error) noexcept;

  // Stream steps.
  bool StartStreamResult();
  bool OnStreamRow();
  bool SinkStall();
  bool AfterSinkCall(bool more);
  void TearDownStream();
  void FinishStream(core::Status status);

  void FinishClose();
  void Deliver(std::function<void()> call);

  // What the trampolines call.
  void OnIo(int status, int events);
  void OnWaitTimeout();
  void OnOpTimeout();

  // C callbacks: captureless trampolines recovering `this` from `data`.
  static void OnPollReady(uv_poll_t* handle, int status, int events) noexcept;
  static void OnWaitTimer(uv_timer_t* handle) noexcept;
  static void OnOpTimer(uv_timer_t* handle) noexcept;
  static void OnGetAddrInfo(uv_getaddrinfo_t* req, int status, struct addrinfo* result) noexcept;

  /// The in-memory file of the LoadDataLocal() in flight: the userdata of the
  /// LOCAL INFILE handler (this object's address is stable).
  struct InfileSource {
    std::shared_ptr<const std::string> data;
    size_t offset = 0;
    bool opened = false;  ///< the server asked once: a second request is refused
  };
  static int OnInfileInit(void** info, const char* filename, void* userdata) noexcept;
  static int OnInfileRead(void* info, char* buffer, unsigned int length) noexcept;
  static void OnInfileEnd(void* info) noexcept;
  static int OnInfileError(void* info, char* buffer, unsigned int length) noexcept;
  void EndInfile();

  uv_loop_t* loop_;
  MysqlPtr mysql_;
  State state_ = State::kNew;
  bool suspended_ = false;   ///< the last call returned a wait: the next is `_cont`
  int wait_ = 0;             ///< what the suspended call waits for (MYSQL_WAIT_*)
  bool broken_ = false;
  StatementErrorCounts* error_counts_ = nullptr;  ///< see CountErrorsInto
  bool starting_ = false;    ///< inside Connect/Query/Close: completions are deferred
  int callback_depth_ = 0;   ///< user callbacks on the stack (destruction check)

  UvHandle<uv_poll_t> poll_;          ///< the socket's one poll handle
  int poll_fd_ = -1;                  ///< the fd poll_ was initialised with
  bool poll_active_ = false;
  int poll_events_ = 0;               ///< UV_* events poll_ watches while active
  UvHandle<uv_timer_t> wait_timer_;   ///< MYSQL_WAIT_TIMEOUT
  UvHandle<uv_timer_t> op_timer_;     ///< connect deadline; zero-delay deferred completion
  std::function<void()> deferred_;    ///< a completion waiting for the next loop turn
  uv_getaddrinfo_t* resolve_req_ = nullptr;  ///< owned by OnGetAddrInfo, which frees it

  ConnectParams params_;
  std::vector<std::string> addresses_;  ///< numeric addresses to try ("" for the socket)
  size_t next_address_ = 0;
  std::string attempt_host_;            ///< the address of the attempt in flight
  MYSQL* connect_ret_ = nullptr;
  ConnectCallback connect_cb_;

  std::string sql_;                     ///< must outlive the query call
  QueryCallback query_cb_;
  QueryResult result_;
  bool first_result_done_ = false;
  int int_ret_ = 0;
  MYSQL_RES* res_ret_ = nullptr;

  RowSink* sink_ = nullptr;             ///< the stream's consumer; null when none
  bool streaming_ = false;              ///< a StreamQuery is in flight
  bool stream_paused_ = false;
  bool abandon_requested_ = false;      ///< AbandonStream() inside a sink call
  bool end_pending_ = false;            ///< OnEnd deferred to the next loop turn
  bool in_sink_call_ = false;
  std::uint64_t rows_since_stall_ = 0;  ///< rows delivered since the last OnStall
  MYSQL_ROW row_ret_ = nullptr;
  MysqlResPtr stream_res_;              ///< the mysql_use_result result being read

  CloseCallback close_cb_;
  InfileSource infile_;
};

}  // namespace sluice::glue
