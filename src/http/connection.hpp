// Connection: one client socket, HTTP/1.1 over llhttp. Owns the uv_tcp_t and
// one timer, parses requests, routes them, drives the handler (see
// exchange.hpp), and writes responses.
//
// Behaviour:
//  - Keep-alive; pipelined requests are answered in order, one at a time: the
//    parser pauses after each complete request and resumes on the bytes
//    already read once the response is done.
//  - Backpressure: a paused body or a parser waiting for a response stops
//    reading the socket (uv_read_stop); it starts again when the handler
//    resumes or the response ends.
//  - Limits (RequestLimits) answer 414/431/413; a malformed request gets 400;
//    each then closes the connection after a short lingering read, so the
//    client sees the answer instead of a reset.
//  - Timeouts on one timer: headers must arrive within header_timeout of the
//    first byte (408); a body or a slow reader stalled for idle_timeout gets
//    408/closed; an idle keep-alive connection is closed after idle_timeout.
//  - Expect: 100-continue is answered once the route and limits accept the
//    request (and the handler has not answered already).
//
// Rules: the Connection is freed by the Server in the close callback of its
// last handle, never earlier; handler destruction is deferred to the next
// loop turn so a handler never dies inside its own callback.
#pragma once

#include <llhttp.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/exchange.hpp"
#include "http/request_limits.hpp"
#include "tls/tls_session.hpp"

namespace sluice::http {

class Server;

class Connection {
 public:
  Connection(Server& server, uint64_t id);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Accepts from `listener` and starts reading; `tls` (may be null) makes it
  /// an HTTPS connection. On failure the connection closes itself.
  void Start(uv_stream_t* listener, const glue::TlsContext* tls);
  /// Answers 503 and closes (used past max_connections).
  void StartRefused(uv_stream_t* listener, const glue::TlsContext* tls);
  /// Graceful shutdown: close now if idle, else after the current response.
  void CloseWhenIdle();
  /// Closes the socket at once (end of the grace period).
  void ForceClose();
  uint64_t id() const { return id_; }

  // --- used by Exchange ---
  void PauseBody();
  void ResumeBody();
  void SendContinue();
  void SendResponse(Exchange& exchange, int status, std::string_view content_type, HeaderList headers,
                    std::string body);
  void BeginStream(Exchange& exchange, int status, std::string_view content_type, HeaderList headers);
  bool WriteChunk(Exchange& exchange, std::string_view data);
  void EndStream(Exchange& exchange);
  void AbortStream(Exchange& exchange);

 private:
  enum class Phase {
    kIdle,           ///< between requests
    kHead,           ///< reading request line and headers
    kBody,           ///< reading the body
    kAwaitResponse,  ///< request read; the handler is answering
    kLingering,      ///< final answer sent; draining input until EOF or timeout
    kClosing,
  };
  struct WriteReq;

  // libuv callbacks
  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void OnWriteDone(uv_write_t* req, int status);
  static void OnShutdownDone(uv_shutdown_t* req, int status);
  static void OnTimer(uv_timer_t* timer);
  static void OnHandleClosed(uv_handle_t* handle);

  // llhttp callbacks
  int OnMessageBegin();
  int OnUrl(std::string_view data);
  int OnHeaderField(std::string_view data);
  int OnHeaderFieldComplete();
  int OnHeaderValue(std::string_view data);
  int OnHeaderValueComplete();
  int OnHeadersComplete();
  int OnBody(std::string_view data);
  int OnMessageComplete();
  static const llhttp_settings_t& Settings();

  void HandleInput(const char* data, size_t length);
  void Execute(const char* data, size_t length);
  void ResumeParsing();
  void StartReading();
  void StopReading();
  void ArmTimer();
  void FailRequest(int status, std::string_view code, std::string message, std::string_view param = {});
  void RespondEarly(int status, std::string_view code, std::string message, HeaderList headers = {});
  void WriteRaw(std::string head, std::string body);
  void FinishResponse(Exchange& exchange);
  void AfterResponse();
  void BeginLingeringClose();
  void Close();
  std::string ResponseHead(Exchange* exchange, int status, std::string_view content_type,
                           const HeaderList& headers, std::optional<uint64_t> content_length);
  void LogAccess(const Exchange& exchange);

  Server& server_;
  uint64_t id_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  int open_handles_ = 0;
  llhttp_t parser_{};
  Phase phase_ = Phase::kIdle;
  bool reading_ = false;
  bool parser_paused_ = false;      ///< llhttp returned HPE_PAUSED; pending_ holds the rest
  bool in_execute_ = false;
  bool pause_requested_ = false;    ///< PauseBody() inside OnBody: pause the parser
  bool body_paused_ = false;        ///< the handler asked to stop the body
  bool close_after_response_ = false;
  bool message_complete_ = false;
  bool peer_eof_ = false;
  bool closing_ = false;
  std::string pending_;             ///< input read but not parsed yet
  std::unique_ptr<glue::TlsSession> tls_;  ///< set on HTTPS connections
  bool encrypted_write_ = false;           ///< WriteRaw's bytes are TLS records already
  char read_buffer_[65536];
  std::string peer_;

  // the request being read
  std::string url_;
  std::string header_field_;
  std::string header_value_;
  HeaderList headers_;
  std::optional<LimitTracker> tracker_;
  std::optional<LimitError> limit_error_;
  uint64_t request_start_ns_ = 0;

  // the current exchange and its response
  std::shared_ptr<Exchange> exchange_;
  size_t queued_write_bytes_ = 0;
  uint64_t response_bytes_ = 0;
  bool waiting_for_drain_ = false;
  bool head_only_ = false;
};

}  // namespace sluice::http
