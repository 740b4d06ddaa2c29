// See connection.hpp for the behaviour; this file is the state machine.
#include "http/connection.hpp"

#include <fmt/format.h>

#include <ctime>

#include "core/ids.hpp"
#include "http/server.hpp"
#include "http/status.hpp"
#include "llhttp/llhttp_bridge.hpp"
#include "log/logger.hpp"

namespace sluice::http {
namespace {

constexpr uint64_t kLingerMillis = 2000;

/// One uv_write with the bytes it owns (head and body, freed in the callback).
}  // namespace

struct Connection::WriteReq {
  uv_write_t req{};
  Connection* connection = nullptr;
  std::string head;
  std::string body;
};

namespace {

/// Answers with a fixed error once the request body has been read (404, 405,
/// 400 for a bad target) so the connection can stay alive.
class ErrorHandler final : public Handler {
 public:
  ErrorHandler(int status, std::string code, std::string message, HeaderList headers = {})
      : status_(status), code_(std::move(code)), message_(std::move(message)), headers_(std::move(headers)) {}
  void OnBodyEnd(Exchange& exchange) override {
    exchange.RespondError(status_, code_, message_, {}, headers_);
  }

 private:
  int status_;
  std::string code_;
  std::string message_;
  HeaderList headers_;
};

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string HttpDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[64];
  size_t n = std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buffer, n);
}

std::string PeerName(const uv_tcp_t* tcp) {
  sockaddr_storage addr{};
  int len = sizeof addr;
  if (uv_tcp_getpeername(tcp, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "-";
  char ip[64] = "";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    uv_ip4_name(in, ip, sizeof ip);
    port = ntohs(in->sin_port);
    return fmt::format("{}:{}", ip, port);
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
  uv_ip6_name(in6, ip, sizeof ip);
  port = ntohs(in6->sin6_port);
  return fmt::format("[{}]:{}", ip, port);
}

}  // namespace

// ---------------------------------------------------------------- life cycle

Connection::Connection(Server& server, uint64_t id) : server_(server), id_(id) {
  llhttp_init(&parser_, HTTP_REQUEST, &Settings());
  parser_.data = this;
}

Connection::~Connection() = default;

const llhttp_settings_t& Connection::Settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = glue::LlhttpEvent<&Connection::OnMessageBegin>;
    s.on_url = glue::LlhttpData<&Connection::OnUrl>;
    s.on_header_field = glue::LlhttpData<&Connection::OnHeaderField>;
    s.on_header_field_complete = glue::LlhttpEvent<&Connection::OnHeaderFieldComplete>;
    s.on_header_value = glue::LlhttpData<&Connection::OnHeaderValue>;
    s.on_header_value_complete = glue::LlhttpEvent<&Connection::OnHeaderValueComplete>;
    s.on_headers_complete = glue::LlhttpEvent<&Connection::OnHeadersComplete>;
    s.on_body = glue::LlhttpData<&Connection::OnBody>;
    s.on_message_complete = glue::LlhttpEvent<&Connection::OnMessageComplete>;
    return s;
  }();
  return settings;
}

void Connection::Start(uv_stream_t* listener, const glue::TlsContext* tls) {
  if (tls != nullptr) tls_ = std::make_unique<glue::TlsSession>(*tls);
  uv_tcp_init(server_.loop(), &tcp_);
  tcp_.data = this;
  ++open_handles_;
  uv_timer_init(server_.loop(), &timer_);
  timer_.data = this;
  ++open_handles_;
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_)) != 0) {
    Close();
    return;
  }
  uv_tcp_nodelay(&tcp_, 1);
  peer_ = PeerName(&tcp_);
  phase_ = Phase::kIdle;
  ArmTimer();
  StartReading();
}

void Connection::StartRefused(uv_stream_t* listener, const glue::TlsContext* tls) {
  Start(listener, tls);
  if (closing_) return;
  RespondEarly(503, "too_many_connections", "the server has too many open connections; retry shortly",
               {{"Retry-After", "1"}});
}

void Connection::CloseWhenIdle() {
  close_after_response_ = true;
  if (phase_ == Phase::kIdle && pending_.empty()) Close();
}

void Connection::ForceClose() { Close(); }

void Connection::Close() {
  if (closing_) return;
  closing_ = true;
  phase_ = Phase::kClosing;
  if (exchange_) {
    auto exchange = std::move(exchange_);
    if (!exchange->finished()) {
      exchange->connection_ = nullptr;
      if (exchange->handler_) exchange->handler_->OnAbort(*exchange);
    }
    exchange->connection_ = nullptr;
    server_.ReleaseLater(std::move(exchange));  // never destroy a handler inside its own call
  }
  if (reading_) uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  reading_ = false;
  uv_timer_stop(&timer_);
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), OnHandleClosed);
  }
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&timer_))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), OnHandleClosed);
  }
}

void Connection::OnHandleClosed(uv_handle_t* handle) {
  auto* self = static_cast<Connection*>(handle->data);
  if (--self->open_handles_ == 0) self->server_.OnConnectionClosed(self->id_);  // frees self
}

// ---------------------------------------------------------------- reading

void Connection::StartReading() {
  if (reading_ || closing_) return;
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), OnAlloc, OnRead) == 0) reading_ = true;
}

void Connection::StopReading() {
  if (!reading_) return;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  reading_ = false;
}

void Connection::OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(handle->data);
  *buf = uv_buf_init(self->read_buffer_, sizeof self->read_buffer_);
}

void Connection::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* self = static_cast<Connection*>(stream->data);
  if (nread == 0 || self->closing_) return;
  if (nread < 0) {
    self->peer_eof_ = true;
    // Whatever the phase, the client is gone or done sending: an unfinished
    // request cannot complete, and nothing waits for more input.
    self->Close();
    return;
  }
  if (!self->tls_) {
    self->HandleInput(self->read_buffer_, static_cast<size_t>(nread));
    return;
  }
  std::string plaintext;
  auto status = self->tls_->FeedCiphertext(self->read_buffer_, static_cast<size_t>(nread), plaintext);
  std::string ciphertext;  // handshake records to send back
  self->tls_->TakeCiphertext(ciphertext);
  if (!ciphertext.empty()) {
    self->encrypted_write_ = true;
    self->WriteRaw(std::move(ciphertext), {});
    self->encrypted_write_ = false;
  }
  if (status == glue::TlsSession::ReadStatus::kError) {
    log::Get("http")->debug("TLS error from {}: {}", self->peer_, self->tls_->error());
    self->Close();
    return;
  }
  if (!plaintext.empty()) self->HandleInput(plaintext.data(), plaintext.size());
  if (status == glue::TlsSession::ReadStatus::kClosed && !self->closing_) self->Close();
}

void Connection::HandleInput(const char* data, size_t length) {
  if (closing_ || phase_ == Phase::kLingering) return;  // discard until EOF
  if (phase_ == Phase::kBody) ArmTimer();
  if (parser_paused_) {  // only reached if a read was already queued
    pending_.append(data, length);
    StopReading();
    return;
  }
  Execute(data, length);
}

void Connection::Execute(const char* data, size_t length) {
  in_execute_ = true;
  llhttp_errno_t rc = llhttp_execute(&parser_, data, length);
  in_execute_ = false;
  pause_requested_ = false;  // only meaningful inside one execute; reading is stopped anyway
  if (closing_ || phase_ == Phase::kLingering) return;
  if (rc == HPE_OK) return;
  if (rc == HPE_PAUSED || rc == HPE_PAUSED_UPGRADE) {
    if (rc == HPE_PAUSED_UPGRADE) llhttp_resume_after_upgrade(&parser_);  // no upgrades: plain HTTP
    const char* stop = llhttp_get_error_pos(&parser_);
    size_t consumed = stop != nullptr ? static_cast<size_t>(stop - data) : length;
    std::string rest(data + consumed, length - consumed);
    pending_ = std::move(rest);
    parser_paused_ = true;
    StopReading();
    return;
  }
  if (limit_error_) {
    auto error = *limit_error_;
    FailRequest(error.status, error.code, error.message);
    return;
  }
  const char* reason = llhttp_get_error_reason(&parser_);
  FailRequest(400, "bad_request",
              fmt::format("malformed HTTP request: {}", reason != nullptr ? reason : llhttp_errno_name(rc)));
}

void Connection::ResumeParsing() {
  if (closing_) return;
  if (parser_paused_) {
    parser_paused_ = false;
    llhttp_resume(&parser_);
    std::string data = std::move(pending_);
    pending_.clear();
    // Even with no bytes left: a parser paused inside on_body still owes
    // on_message_complete, which an empty execute delivers.
    Execute(data.data(), data.size());
  }
  if (!parser_paused_ && !closing_ && !body_paused_ && phase_ != Phase::kAwaitResponse) StartReading();
}

// ---------------------------------------------------------------- llhttp events

int Connection::OnMessageBegin() {
  phase_ = Phase::kHead;
  url_.clear();
  header_field_.clear();
  header_value_.clear();
  headers_.clear();
  limit_error_.reset();
  tracker_.emplace(server_.options().limits);
  message_complete_ = false;
  request_start_ns_ = uv_hrtime();
  ArmTimer();
  return HPE_OK;
}

int Connection::OnUrl(std::string_view data) {
  if (auto error = tracker_->OnUrlBytes(data.size())) {
    limit_error_ = error;
    return HPE_USER;
  }
  url_.append(data);
  return HPE_OK;
}

int Connection::OnHeaderField(std::string_view data) {
  if (auto error = tracker_->OnHeaderBytes(data.size())) {
    limit_error_ = error;
    return HPE_USER;
  }
  header_field_.append(data);
  return HPE_OK;
}

int Connection::OnHeaderFieldComplete() {
  if (auto error = tracker_->OnHeaderFieldStart()) {
    limit_error_ = error;
    return HPE_USER;
  }
  return HPE_OK;
}

int Connection::OnHeaderValue(std::string_view data) {
  if (auto error = tracker_->OnHeaderBytes(data.size())) {
    limit_error_ = error;
    return HPE_USER;
  }
  header_value_.append(data);
  return HPE_OK;
}

int Connection::OnHeaderValueComplete() {
  headers_.emplace_back(std::move(header_field_), std::move(header_value_));
  header_field_.clear();
  header_value_.clear();
  return HPE_OK;
}

int Connection::OnHeadersComplete() {
  Request request;
  request.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(&parser_)));
  request.target = std::move(url_);
  request.headers = std::move(headers_);
  request.http_major = llhttp_get_http_major(&parser_);
  request.http_minor = llhttp_get_http_minor(&parser_);
  request.peer = peer_;
  if ((parser_.flags & F_CONTENT_LENGTH) != 0) request.content_length = parser_.content_length;
  request.chunked = (parser_.flags & F_CHUNKED) != 0;
  auto sent_id = request.Header("X-Request-Id");
  request.id = (sent_id && IsValidRequestId(*sent_id)) ? std::string(*sent_id) : core::NewUlid();

  std::unique_ptr<Handler> handler;
  bool refuse_early = false;
  std::string route_name = "none";
  uint64_t body_limit = server_.options().limits.max_body_bytes;
  std::string_view target = request.target;
  size_t question = target.find('?');
  std::string_view raw_path = target.substr(0, question);
  if (question != std::string_view::npos) request.raw_query = std::string(target.substr(question + 1));
  if (raw_path.empty() || raw_path.front() != '/' || !PercentDecode(raw_path, request.path, false)) {
    handler = std::make_unique<ErrorHandler>(400, "bad_request", "the request target is not a valid path");
  } else if (!ParseQueryString(request.raw_query, request.query)) {
    handler = std::make_unique<ErrorHandler>(400, "bad_request", "the query string has a malformed %-escape");
  } else {
    RouteMatch match = server_.router().Match(request.method, request.path);
    if (match.kind == RouteMatch::Kind::kFound) {
      request.path_params = std::move(match.params);
      route_name = match.route->name;
      if (match.route->body_limit == BodyLimit::kUpload) body_limit = server_.options().max_upload_bytes;
      AccessDecision access;
      if (server_.access_policy()) access = server_.access_policy()(request, static_cast<int>(match.route->role));
      if (access.allowed) {
        request.caller_role = access.role;
        request.caller = std::move(access.caller);
        handler = match.route->factory();
      } else {
        HeaderList headers;
        if (access.status == 401) headers.emplace_back("WWW-Authenticate", "Bearer");
        handler = std::make_unique<ErrorHandler>(access.status, access.code, access.message, std::move(headers));
        // A refused upload is answered at once rather than after its whole body.
        if (match.route->body_limit == BodyLimit::kUpload) refuse_early = true;
      }
    } else if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
      handler = std::make_unique<ErrorHandler>(
          405, "method_not_allowed", fmt::format("{} is not allowed on {}", request.method, request.path),
          HeaderList{{"Allow", match.allow}});
    } else {
      handler = std::make_unique<ErrorHandler>(404, "not_found", fmt::format("no route for {}", request.path));
    }
  }

  exchange_ = std::make_shared<Exchange>(this, std::move(request));
  exchange_->handler_ = std::move(handler);
  exchange_->route_name_ = std::move(route_name);
  head_only_ = exchange_->request().IsHead();
  response_bytes_ = 0;

  if (auto error = tracker_->OnHeadersComplete(exchange_->request().content_length, body_limit)) {
    limit_error_ = error;
    return HPE_USER;
  }
  auto expect = exchange_->request().Header("Expect");
  if (expect && !EqualsIgnoreCase(*expect, "100-continue")) {
    RespondEarly(417, "expectation_failed", fmt::format("unsupported Expect: {}", *expect));
    return HPE_USER;
  }

  phase_ = Phase::kBody;
  ArmTimer();
  auto exchange = exchange_;  // keep alive across the handler call
  if (refuse_early) {
    exchange->handler_->OnBodyEnd(*exchange);  // the ErrorHandler answers now; the body is not read
    return HPE_OK;
  }
  exchange->handler_->OnRequest(*exchange);
  if (closing_ || phase_ == Phase::kLingering) return HPE_USER;
  if (expect && !exchange->responded() && exchange_->request().http_minor >= 1) {
    if (exchange->hold_continue_) {
      exchange->continue_pending_ = true;  // the handler calls Continue() when it wants the body
    } else {
      WriteRaw("HTTP/1.1 100 Continue\r\n\r\n", {});
    }
  }
  return HPE_OK;
}

int Connection::OnBody(std::string_view data) {
  if (auto error = tracker_->OnBodyBytes(data.size())) {
    limit_error_ = error;
    return HPE_USER;
  }
  if (!exchange_ || exchange_->finished()) return HPE_OK;  // answered early: discard
  auto exchange = exchange_;
  exchange->handler_->OnBody(*exchange, data);
  if (closing_ || phase_ == Phase::kLingering) return HPE_USER;
  if (pause_requested_) {
    pause_requested_ = false;
    return HPE_PAUSED;
  }
  return HPE_OK;
}

int Connection::OnMessageComplete() {
  message_complete_ = true;
  phase_ = Phase::kAwaitResponse;
  ArmTimer();
  if (exchange_ && !exchange_->finished()) {
    auto exchange = exchange_;
    exchange->handler_->OnBodyEnd(*exchange);
    if (closing_ || phase_ == Phase::kLingering) return HPE_USER;
  }
  return HPE_PAUSED;  // one request at a time: the next waits for this response
}

// ---------------------------------------------------------------- body flow

void Connection::PauseBody() {
  body_paused_ = true;
  if (in_execute_) pause_requested_ = true;
  StopReading();
  ArmTimer();
}

void Connection::ResumeBody() {
  if (!body_paused_) return;
  body_paused_ = false;
  pause_requested_ = false;
  if (in_execute_) return;
  ArmTimer();
  if (phase_ == Phase::kBody) ResumeParsing();
}

// ---------------------------------------------------------------- timers

void Connection::ArmTimer() {
  if (closing_) return;
  const auto& options = server_.options();
  uint64_t timeout = 0;
  switch (phase_) {
    case Phase::kIdle: timeout = static_cast<uint64_t>(options.idle_timeout.count()); break;
    case Phase::kHead: {
      uint64_t elapsed = (uv_hrtime() - request_start_ns_) / 1000000;
      uint64_t limit = static_cast<uint64_t>(options.header_timeout.count());
      timeout = elapsed >= limit ? 1 : limit - elapsed;
      break;
    }
    case Phase::kBody:
      timeout = body_paused_ && queued_write_bytes_ == 0 ? 0 : static_cast<uint64_t>(options.idle_timeout.count());
      break;
    case Phase::kAwaitResponse:
      timeout = queued_write_bytes_ > 0 ? static_cast<uint64_t>(options.idle_timeout.count()) : 0;
      break;
    case Phase::kLingering: timeout = kLingerMillis; break;
    case Phase::kClosing: timeout = 0; break;
  }
  if (timeout == 0) {
    uv_timer_stop(&timer_);
  } else {
    uv_timer_start(&timer_, OnTimer, timeout, 0);
  }
}

void Connection::OnTimer(uv_timer_t* timer) {
  auto* self = static_cast<Connection*>(timer->data);
  const auto& options = self->server_.options();
  switch (self->phase_) {
    case Phase::kHead:
      self->FailRequest(408, "request_timeout",
                        fmt::format("the request head did not arrive within {} ms", options.header_timeout.count()));
      break;
    case Phase::kBody:
      if (self->exchange_ && !self->exchange_->responded() && self->queued_write_bytes_ == 0) {
        self->FailRequest(408, "request_timeout",
                          fmt::format("the request body stalled for {} ms", options.idle_timeout.count()));
      } else {
        self->Close();
      }
      break;
    default:  // idle keep-alive, a reader that stopped reading, the end of lingering
      self->Close();
  }
}

// ---------------------------------------------------------------- responses

std::string Connection::ResponseHead(Exchange* exchange, int status, std::string_view content_type,
                                     const HeaderList& headers, std::optional<uint64_t> content_length) {
  std::string head = fmt::format("HTTP/1.1 {} {}\r\nDate: {}\r\nServer: sluice/" SLUICE_VERSION "\r\n", status,
                                 ReasonPhrase(status), HttpDate());
  if (exchange != nullptr) head += fmt::format("X-Request-Id: {}\r\n", exchange->request().id);
  if (!content_type.empty()) head += fmt::format("Content-Type: {}\r\n", content_type);
  if (status == 204 || status == 304) {
    // No body and no length (RFC 9110 8.6: a 204 never has Content-Length; a
    // 304's would have to be the 200's, which the caller does not pass).
  } else if (content_length) {
    head += fmt::format("Content-Length: {}\r\n", *content_length);
  } else {
    head += "Transfer-Encoding: chunked\r\n";
  }
  bool http10 = exchange != nullptr && exchange->request().http_minor == 0;
  if (close_after_response_) {
    head += "Connection: close\r\n";
  } else if (http10) {
    head += "Connection: keep-alive\r\n";
  }
  for (const auto& [name, value] : headers) head += fmt::format("{}: {}\r\n", name, value);
  head += "\r\n";
  return head;
}

void Connection::SendResponse(Exchange& exchange, int status, std::string_view content_type, HeaderList headers,
                              std::string body) {
  if (closing_ || exchange.response_started_) return;
  exchange.response_started_ = true;
  exchange.status_ = status;
  if (!message_complete_ || !llhttp_should_keep_alive(&parser_) || server_.shutting_down() || peer_eof_) {
    close_after_response_ = true;
  }
  std::string head = ResponseHead(&exchange, status, content_type, headers, body.size());
  if (head_only_ || status == 204 || status == 304) body.clear();
  response_bytes_ += body.size();
  WriteRaw(std::move(head), std::move(body));
  FinishResponse(exchange);
}

void Connection::BeginStream(Exchange& exchange, int status, std::string_view content_type, HeaderList headers) {
  if (closing_ || exchange.response_started_) return;
  exchange.response_started_ = true;
  exchange.streaming_ = true;
  exchange.status_ = status;
  if (!llhttp_should_keep_alive(&parser_) || server_.shutting_down() || peer_eof_) close_after_response_ = true;
  WriteRaw(ResponseHead(&exchange, status, content_type, headers, std::nullopt), {});
}

bool Connection::WriteChunk(Exchange& exchange, std::string_view data) {
  if (closing_ || !exchange.streaming_ || exchange.response_finished_) return false;
  if (data.empty() || head_only_) return true;
  std::string body;
  body.reserve(data.size() + 2);
  body.append(data);
  body.append("\r\n");
  response_bytes_ += data.size();
  WriteRaw(fmt::format("{:x}\r\n", data.size()), std::move(body));
  if (queued_write_bytes_ >= server_.options().write_high_water) {
    waiting_for_drain_ = true;
    ArmTimer();
    return false;
  }
  return true;
}

void Connection::EndStream(Exchange& exchange) {
  if (closing_ || !exchange.streaming_ || exchange.response_finished_) return;
  if (!head_only_) WriteRaw("0\r\n\r\n", {});
  if (!message_complete_) close_after_response_ = true;
  FinishResponse(exchange);
}

void Connection::AbortStream(Exchange& exchange) {
  if (closing_ || !exchange.streaming_ || exchange.response_finished_) return;
  exchange.response_finished_ = true;  // so Close() does not call OnAbort
  LogAccess(exchange);
  Close();
}

void Connection::FinishResponse(Exchange& exchange) {
  exchange.response_finished_ = true;
  LogAccess(exchange);
  server_.Defer(id_, [](Connection& connection) { connection.AfterResponse(); });
}

void Connection::AfterResponse() {
  if (closing_ || phase_ == Phase::kLingering) return;
  if (exchange_ && !exchange_->finished()) return;  // a newer exchange is running
  if (exchange_) {
    exchange_->connection_ = nullptr;
    server_.ReleaseLater(std::move(exchange_));
    exchange_.reset();
  }
  waiting_for_drain_ = false;
  body_paused_ = false;
  if (close_after_response_ || !message_complete_) {
    BeginLingeringClose();
    return;
  }
  phase_ = Phase::kIdle;
  message_complete_ = false;
  ArmTimer();
  ResumeParsing();
}

void Connection::RespondEarly(int status, std::string_view code, std::string message, HeaderList headers) {
  close_after_response_ = true;
  std::string body = ErrorBody(code, message);
  Exchange* exchange = exchange_.get();
  if (exchange != nullptr && exchange->responded()) {  // cannot answer twice: just go
    Close();
    return;
  }
  if (exchange != nullptr) {
    exchange->response_started_ = true;
    exchange->response_finished_ = true;
    exchange->status_ = status;
    if (exchange->handler_) {
      auto keep = exchange_;
      keep->handler_->OnAbort(*keep);
    }
  }
  std::string head = ResponseHead(exchange, status, kJsonType, headers, body.size());
  response_bytes_ = body.size();
  WriteRaw(std::move(head), std::move(body));
  if (exchange != nullptr) {
    LogAccess(*exchange);
  } else {
    log::Get("access")->info("- {} {} {}B 0ms peer={} ({})", url_.empty() ? "-" : url_, status, response_bytes_,
                             peer_, code);
    server_.ObserveRequest({"none", "-", status, response_bytes_, 0});
  }
  BeginLingeringClose();
}

void Connection::FailRequest(int status, std::string_view code, std::string message, std::string_view) {
  RespondEarly(status, code, std::move(message));
}

void Connection::BeginLingeringClose() {
  if (closing_ || phase_ == Phase::kLingering) return;
  phase_ = Phase::kLingering;
  pending_.clear();
  parser_paused_ = false;
  ArmTimer();
  StartReading();  // drain what the client still sends, so it reads our answer instead of a reset
  if (tls_) {
    tls_->Shutdown();  // close_notify
    std::string ciphertext;
    tls_->TakeCiphertext(ciphertext);
    encrypted_write_ = true;
    WriteRaw(std::move(ciphertext), {});
    encrypted_write_ = false;
  }
  if (queued_write_bytes_ == 0) {
    auto* req = new uv_shutdown_t;  // freed in OnShutdownDone
    req->data = this;
    if (uv_shutdown(req, reinterpret_cast<uv_stream_t*>(&tcp_), OnShutdownDone) != 0) {
      delete req;
      Close();
    }
  }
}

void Connection::OnShutdownDone(uv_shutdown_t* req, int status) {
  auto* self = static_cast<Connection*>(req->data);
  delete req;
  if (status < 0 && status != UV_ECANCELED) self->Close();
}

void Connection::WriteRaw(std::string head, std::string body) {
  if (closing_) return;
  if (tls_ && !encrypted_write_) {
    // Plaintext in, ciphertext out: what goes on the wire is the TLS records.
    if (!tls_->WritePlaintext(head) || !tls_->WritePlaintext(body)) {
      log::Get("http")->debug("TLS write to {} failed: {}", peer_, tls_->error());
      Close();
      return;
    }
    std::string ciphertext;
    tls_->TakeCiphertext(ciphertext);
    encrypted_write_ = true;
    WriteRaw(std::move(ciphertext), {});
    encrypted_write_ = false;
    return;
  }
  auto req = std::make_unique<WriteReq>();
  req->connection = this;
  req->head = std::move(head);
  req->body = std::move(body);
  req->req.data = req.get();
  uv_buf_t bufs[2];
  unsigned count = 0;
  if (!req->head.empty()) bufs[count++] = uv_buf_init(req->head.data(), static_cast<unsigned>(req->head.size()));
  if (!req->body.empty()) bufs[count++] = uv_buf_init(req->body.data(), static_cast<unsigned>(req->body.size()));
  if (count == 0) return;
  size_t bytes = req->head.size() + req->body.size();
  int rc = uv_write(&req->req, reinterpret_cast<uv_stream_t*>(&tcp_), bufs, count, OnWriteDone);
  if (rc != 0) {
    Close();
    return;
  }
  queued_write_bytes_ += bytes;
  req.release();  // owned by libuv until OnWriteDone
}

void Connection::OnWriteDone(uv_write_t* raw, int status) {
  std::unique_ptr<WriteReq> req(static_cast<WriteReq*>(raw->data));
  Connection* self = req->connection;
  self->queued_write_bytes_ -= req->head.size() + req->body.size();
  if (status < 0) {
    self->Close();
    return;
  }
  if (self->closing_) return;
  if (self->phase_ == Phase::kLingering) {
    if (self->queued_write_bytes_ == 0) {
      auto* shutdown = new uv_shutdown_t;
      shutdown->data = self;
      if (uv_shutdown(shutdown, reinterpret_cast<uv_stream_t*>(&self->tcp_), OnShutdownDone) != 0) {
        delete shutdown;
        self->Close();
      }
    }
    return;
  }
  self->ArmTimer();  // progress resets the slow-reader clock
  if (self->waiting_for_drain_ && self->queued_write_bytes_ <= self->server_.options().write_high_water / 2) {
    self->waiting_for_drain_ = false;
    if (self->exchange_ && !self->exchange_->finished() && self->exchange_->handler_) {
      auto exchange = self->exchange_;
      exchange->handler_->OnDrain(*exchange);
    }
  }
}

void Connection::LogAccess(const Exchange& exchange) {
  const Request& request = exchange.request();
  double millis = static_cast<double>(uv_hrtime() - request_start_ns_) / 1e6;
  std::string_view target = request.target;
  if (target.size() > 512) target = target.substr(0, 512);
  log::Get("access")->info("{} {} {} {}B {:.2f}ms req={} route={} peer={}", request.method, target,
                           exchange.status(), response_bytes_, millis, request.id, exchange.route_name_, peer_);
  server_.ObserveRequest({exchange.route_name_, request.method, exchange.status(), response_bytes_, millis / 1000});
}

// ---------------------------------------------------------------- Exchange

void Exchange::PauseBody() {
  if (connection_ != nullptr) connection_->PauseBody();
}

void Exchange::ResumeBody() {
  if (connection_ != nullptr) connection_->ResumeBody();
}

void Exchange::Continue() {
  if (connection_ == nullptr || !continue_pending_ || response_started_) return;
  continue_pending_ = false;
  connection_->SendContinue();
}

void Connection::SendContinue() { WriteRaw("HTTP/1.1 100 Continue\r\n\r\n", {}); }

void Exchange::Respond(int status, std::string body, std::string_view content_type, HeaderList headers) {
  if (connection_ == nullptr || response_started_) return;
  connection_->SendResponse(*this, status, content_type, std::move(headers), std::move(body));
}

void Exchange::RespondError(int status, std::string_view code, std::string_view message, std::string_view param,
                            HeaderList headers) {
  std::string error_id;
  if (status >= 500) {
    error_id = request_.id;
    // A 503 is the documented "saturated, retry" answer (it carries Retry-After):
    // worth a warning, not an error that pages someone. A 500 is a defect.
    if (status == 503) {
      log::Get("http")->warn("req={} {} {}: {}", request_.id, status, code, message);
    } else {
      log::Get("http")->error("req={} {} {}: {}", request_.id, status, code, message);
    }
  }
  Respond(status, ErrorBody(code, message, param, error_id), kJsonType, std::move(headers));
}

void Exchange::BeginStream(int status, std::string_view content_type, HeaderList headers) {
  if (connection_ == nullptr || response_started_) return;
  connection_->BeginStream(*this, status, content_type, std::move(headers));
}

bool Exchange::Write(std::string_view data) {
  if (connection_ == nullptr) return false;
  return connection_->WriteChunk(*this, data);
}

void Exchange::EndStream() {
  if (connection_ == nullptr) return;
  connection_->EndStream(*this);
}

void Exchange::AbortStream() {
  if (connection_ == nullptr) return;
  connection_->AbortStream(*this);
}

}  // namespace sluice::http
