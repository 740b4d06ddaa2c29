// libcurl multi ↔ libuv (see curl_multi_uv.hpp for the rules).
//
// Flow: Perform() builds an easy handle with a Transfer on CURLOPT_PRIVATE and
// adds it to the multi handle. curl then tells us, through OnCurlSocket, which
// sockets to watch (a uv_poll_t each) and, through OnCurlTimer, when to call
// it back (the one uv_timer_t). Readiness and timer expiry go back to curl via
// curl_multi_socket_action; after each call the completion queue is drained:
// finished handles are removed and freed first, then their callbacks run, so a
// callback never sees curl mid-call and may start new transfers.
//
// Bodies are read from memory by a read callback with a seek callback, so curl
// can rewind and resend when a pooled connection turns out to be dead. The
// status line, headers and body of the final response are collected; interim
// responses (100 Continue) reset the header list.
#include "curl/curl_multi_uv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "uv/uv_error.hpp"

namespace sluice::glue {
namespace {

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// The URL without its query string (which may carry a presigned signature).
std::string_view UrlForMessages(std::string_view url) { return url.substr(0, url.find('?')); }

core::Status CurlStatus(CURLcode code, std::string_view what, const char* detail) {
  std::string text = curl_easy_strerror(code);
  if (detail != nullptr && detail[0] != '\0') {
    text += ": ";
    text += detail;
    while (!text.empty() && text.back() == '\n') text.pop_back();
  }
  return {core::ErrorDomain::kS3, static_cast<int>(code), fmt::format("{}: {}", what, text)};
}

}  // namespace

std::optional<std::string_view> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (IEquals(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

// ---- per-transfer and per-socket state ----

struct CurlMulti::Transfer {
  CurlEasyPtr easy;
  CurlSlistPtr header_list;
  std::string what;  // "PUT http://host/bucket/key", for messages
  HttpBody body;
  size_t body_offset = 0;
  uint64_t max_response_bytes = 0;
  bool response_too_large = false;
  HttpResponse response;
  Callback done;
  char error[CURL_ERROR_SIZE] = {};

  static size_t OnRead(char* buffer, size_t size, size_t nitems, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    if (!t->body) return 0;
    const size_t left = t->body.size() - t->body_offset;
    const size_t n = std::min(left, size * nitems);
    std::memcpy(buffer, t->body.bytes.data() + t->body_offset, n);
    t->body_offset += n;
    return n;
  }

  static int OnSeek(void* userdata, curl_off_t offset, int origin) {
    auto* t = static_cast<Transfer*>(userdata);
    const size_t size = t->body.size();
    if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > size) return CURL_SEEKFUNC_CANTSEEK;
    t->body_offset = static_cast<size_t>(offset);
    return CURL_SEEKFUNC_OK;
  }

  static size_t OnHeader(char* buffer, size_t size, size_t nitems, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    const size_t n = size * nitems;
    std::string_view line(buffer, n);
    if (line.starts_with("HTTP/")) {
      t->response.headers.clear();  // a new (possibly final) response begins
    } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
      std::string name(Trim(line.substr(0, colon)));
      for (char& c : name) c = AsciiLower(c);
      t->response.headers.emplace_back(std::move(name), std::string(Trim(line.substr(colon + 1))));
    }
    return n;
  }

  static size_t OnWrite(char* data, size_t size, size_t nmemb, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    const size_t n = size * nmemb;
    if (t->max_response_bytes != 0 && t->response.body.size() + n > t->max_response_bytes) {
      t->response_too_large = true;
      return 0;  // makes curl fail the transfer with CURLE_WRITE_ERROR
    }
    t->response.body.append(data, n);
    return n;
  }
};

struct CurlMulti::Socket {
  CurlMulti* owner = nullptr;
  curl_socket_t fd = CURL_SOCKET_BAD;
  UvHandle<uv_poll_t> poll;
};

// ---- lifecycle ----

CurlMulti::CurlMulti(uv_loop_t* loop, Options options) : loop_(loop), options_(options) {}

CurlMulti::~CurlMulti() { Shutdown(); }

core::Result<std::unique_ptr<CurlMulti>> CurlMulti::Create(uv_loop_t* loop, Options options) {
  std::unique_ptr<CurlMulti> self(new CurlMulti(loop, options));  // private constructor
  if (int rc = self->timer_.Init(uv_timer_init, loop); rc != 0) return UvStatus(rc, "uv_timer_init");
  self->timer_->data = self.get();
  self->multi_.reset(curl_multi_init());
  if (!self->multi_) return core::Status{core::ErrorDomain::kS3, CURLE_FAILED_INIT, "curl_multi_init failed"};
  CURLM* m = self->multi_.get();
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &CurlMulti::OnCurlSocket);
  curl_multi_setopt(m, CURLMOPT_SOCKETDATA, self.get());
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &CurlMulti::OnCurlTimer);
  curl_multi_setopt(m, CURLMOPT_TIMERDATA, self.get());
  curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_host_connections);
  curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.max_total_connections);
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, options.max_cached_connections);
  return self;
}

void CurlMulti::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  std::vector<std::pair<Callback, std::string>> cancelled;
  cancelled.reserve(transfers_.size());
  for (auto& [raw, transfer] : transfers_) {
    curl_multi_remove_handle(multi_.get(), transfer->easy.get());
    cancelled.emplace_back(std::move(transfer->done), std::move(transfer->what));
  }
  transfers_.clear();  // frees the easy handles
  multi_.reset();      // closes pooled connections; may report CURL_POLL_REMOVE
  sockets_.clear();    // closes any uv_poll_t curl did not remove
  timer_.Close();
  for (auto& [done, what] : cancelled) {
    if (done) {
      done(core::Status{core::ErrorDomain::kS3, CURLE_ABORTED_BY_CALLBACK,
                        fmt::format("{}: cancelled: HTTP client shut down", what)});
    }
  }
}

// ---- requests ----

void CurlMulti::Perform(HttpRequest request, Callback done) {
  const std::string what = fmt::format("{} {}", request.method, UrlForMessages(request.url));
  if (shut_down_) {
    done(core::Status{core::ErrorDomain::kS3, CURLE_FAILED_INIT, what + ": HTTP client is shut down"});
    return;
  }
  auto t = std::make_unique<Transfer>();
  t->what = what;
  t->easy.reset(curl_easy_init());
  if (!t->easy) {
    done(core::Status{core::ErrorDomain::kS3, CURLE_FAILED_INIT, what + ": curl_easy_init failed"});
    return;
  }
  t->body = std::move(request.body);
  t->max_response_bytes = request.max_response_bytes;
  t->done = std::move(done);
  CURL* e = t->easy.get();
  Transfer* raw = t.get();

  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_PRIVATE, raw);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, raw->error);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, raw);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Transfer::OnWrite);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, raw);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  if (options_.verbose) curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);

  const curl_off_t body_size = static_cast<curl_off_t>(raw->body.size());
  const std::string& m = request.method;
  if (m == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (m == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (m == "POST") {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, body_size);
  } else if (m == "PUT" || raw->body) {
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, body_size);
    if (m != "PUT") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m.c_str());
  } else {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m.c_str());  // DELETE, ...
  }
  if (m == "POST" || m == "PUT" || raw->body) {
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &Transfer::OnRead);
    curl_easy_setopt(e, CURLOPT_READDATA, raw);
    curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, &Transfer::OnSeek);
    curl_easy_setopt(e, CURLOPT_SEEKDATA, raw);
  }

  // Headers as given. "Name;" is curl's syntax for a header with an empty value;
  // "Name:" removes one curl would add by itself.
  bool has_accept = false, has_content_type = false, has_expect = false;
  curl_slist* list = nullptr;
  auto append = [&list](const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next != nullptr) list = next;
    return next != nullptr;
  };
  bool headers_ok = true;
  for (const auto& [name, value] : request.headers) {
    has_accept |= IEquals(name, "accept");
    has_content_type |= IEquals(name, "content-type");
    has_expect |= IEquals(name, "expect");
    headers_ok &= append(value.empty() ? name + ";" : name + ": " + value);
  }
  if (!has_accept) headers_ok &= append("Accept:");
  if (!has_content_type) headers_ok &= append("Content-Type:");  // no form type on POST
  if (!has_expect) headers_ok &= append("Expect:");              // no 100-continue round trip
  t->header_list.reset(list);
  if (!headers_ok) {
    auto cb = std::move(t->done);
    cb(core::Status{core::ErrorDomain::kS3, CURLE_OUT_OF_MEMORY, what + ": curl_slist_append failed"});
    return;
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list.get());

  transfers_.emplace(raw, std::move(t));
  if (CURLMcode rc = curl_multi_add_handle(multi_.get(), e); rc != CURLM_OK) {
    auto node = transfers_.extract(raw);
    auto cb = std::move(node.mapped()->done);
    node.mapped().reset();
    cb(core::Status{core::ErrorDomain::kS3, CURLE_FAILED_INIT,
                    fmt::format("{}: curl_multi_add_handle: {}", what, curl_multi_strerror(rc))});
  }
}

// ---- curl → uv ----

int CurlMulti::OnCurlSocket(CURL* /*easy*/, curl_socket_t s, int what, void* userp, void* socketp) {
  auto* self = static_cast<CurlMulti*>(userp);
  if (what == CURL_POLL_REMOVE) {
    self->CloseSocket(s);
    return 0;
  }
  auto* sock = static_cast<Socket*>(socketp);
  if (sock == nullptr) {
    auto it = self->sockets_.find(s);
    if (it == self->sockets_.end()) {
      auto fresh = std::make_unique<Socket>();
      fresh->owner = self;
      fresh->fd = s;
      if (fresh->poll.Init(uv_poll_init_socket, self->loop_, s) != 0) return -1;  // curl fails the transfer
      fresh->poll->data = fresh.get();
      it = self->sockets_.emplace(s, std::move(fresh)).first;
    }
    sock = it->second.get();
    if (self->multi_) curl_multi_assign(self->multi_.get(), s, sock);
  }
  int events = 0;
  if ((what & CURL_POLL_IN) != 0) events |= UV_READABLE;
  if ((what & CURL_POLL_OUT) != 0) events |= UV_WRITABLE;
  if (uv_poll_start(sock->poll.get(), events, &CurlMulti::OnPoll) != 0) return -1;
  return 0;
}

int CurlMulti::OnCurlTimer(CURLM* /*multi*/, long timeout_ms, void* userp) {
  auto* self = static_cast<CurlMulti*>(userp);
  if (!self->timer_.initialized()) return 0;  // shutting down
  if (timeout_ms < 0) {
    uv_timer_stop(self->timer_.get());
    return 0;
  }
  // A zero timeout also goes through the timer: curl must not be re-entered
  // from its own timer callback, and the timer runs it on the next iteration.
  return uv_timer_start(self->timer_.get(), &CurlMulti::OnTimer, static_cast<uint64_t>(timeout_ms), 0) == 0 ? 0
                                                                                                          : -1;
}

void CurlMulti::CloseSocket(curl_socket_t s) {
  // Erasing destroys the Socket; its UvHandle stops polling now (so curl may
  // close the fd right after) and frees the uv_poll_t in the close callback.
  sockets_.erase(s);
}

// ---- uv → curl ----

void CurlMulti::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* sock = static_cast<Socket*>(handle->data);
  if (sock == nullptr) return;  // closing
  int flags = 0;
  if (status < 0) {
    flags = CURL_CSELECT_ERR;
  } else {
    if ((events & UV_READABLE) != 0) flags |= CURL_CSELECT_IN;
    if ((events & UV_WRITABLE) != 0) flags |= CURL_CSELECT_OUT;
  }
  // `sock` may be destroyed inside SocketAction (CURL_POLL_REMOVE): copy first.
  CurlMulti* owner = sock->owner;
  const curl_socket_t fd = sock->fd;
  owner->SocketAction(fd, flags);
}

void CurlMulti::OnTimer(uv_timer_t* handle) {
  auto* self = static_cast<CurlMulti*>(handle->data);
  if (self == nullptr) return;
  self->SocketAction(CURL_SOCKET_TIMEOUT, 0);
}

void CurlMulti::SocketAction(curl_socket_t s, int ev_bitmask) {
  if (!multi_) return;
  int running = 0;
  curl_multi_socket_action(multi_.get(), s, ev_bitmask, &running);
  DrainCompleted();
}

void CurlMulti::DrainCompleted() {
  std::vector<std::pair<Callback, core::Result<HttpResponse>>> finished;
  int pending = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &pending)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode result = msg->data.result;  // msg is invalid after remove_handle
    Transfer* raw = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
    curl_multi_remove_handle(multi_.get(), easy);
    auto node = transfers_.extract(raw);
    if (node.empty()) continue;  // not ours: cannot happen
    std::unique_ptr<Transfer> t = std::move(node.mapped());
    if (result == CURLE_OK) {
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &t->response.status);
      curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &t->response.new_connections);
      curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &t->response.total_seconds);
      finished.emplace_back(std::move(t->done), std::move(t->response));
    } else if (t->response_too_large) {
      finished.emplace_back(std::move(t->done),
                            core::Status{core::ErrorDomain::kS3, CURLE_WRITE_ERROR,
                                         fmt::format("{}: response body larger than {} bytes", t->what,
                                                     t->max_response_bytes)});
    } else {
      finished.emplace_back(std::move(t->done), CurlStatus(result, t->what, t->error));
    }
  }  // each Transfer (and its easy handle) is freed here, before any callback
  for (auto& [done, result] : finished) {
    if (done) done(std::move(result));
  }
}

}  // namespace sluice::glue
