// CurlMulti: libcurl's multi interface driven by the libuv loop, so HTTP
// requests (S3 traffic) run on the loop thread without blocking it
// (curl docs/examples/multi-uv.c, STYLE.md 3.4).
//
// Rules:
//  - One uv_poll_t per curl socket, created on CURL_POLL_IN/OUT and attached
//    with curl_multi_assign; closed on CURL_POLL_REMOVE (before curl closes
//    the fd, so no fd is ever polled after close).
//  - One uv_timer_t for curl's timeout. A zero timeout is deferred to the
//    next loop iteration: CURLMOPT_TIMERFUNCTION must not call back into
//    curl_multi_socket_action.
//  - curl_multi_info_read is drained after every socket_action; completed
//    transfers are removed from the multi handle first and their callbacks run
//    after, outside any curl callback, so a callback may start new requests.
//  - Per-transfer state rides on CURLOPT_PRIVATE; curl callbacks are static,
//    captureless trampolines.
//  - Every Perform callback runs exactly once: on completion, on failure, or
//    with a cancelled status from Shutdown(). If the request cannot even start
//    (after Shutdown, or curl refuses it) it runs before Perform returns.
//  - Shutdown() (also run by the destructor) cancels in-flight transfers,
//    frees the multi handle and closes every uv handle it opened, so the loop
//    can run to completion and uv_loop_close() succeed. Do not destroy a
//    CurlMulti from inside one of its own callbacks; call Shutdown() there
//    and destroy it later.
//  - Loop thread only.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "curl/curl_ptr.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::glue {

/// Request body bytes and whatever keeps them alive: a shared std::string
/// (implicitly), or any other owner of memory (a page-mapped part buffer) —
/// shared so a retry, or the caller, keeps it without a copy. Empty owner =
/// no body.
struct HttpBody {
  std::shared_ptr<const void> owner;
  std::string_view bytes;

  HttpBody() = default;
  /// A body held in a std::string (implicit: the common case).
  HttpBody(std::shared_ptr<const std::string> text)  // NOLINT(google-explicit-constructor)
      : owner(text), bytes(text ? std::string_view(*text) : std::string_view()) {}
  /// `bytes` that stay valid while `owner` lives.
  HttpBody(std::shared_ptr<const void> owner_in, std::string_view bytes_in)
      : owner(std::move(owner_in)), bytes(bytes_in) {}

  explicit operator bool() const noexcept { return owner != nullptr; }
  size_t size() const noexcept { return bytes.size(); }
};

/// One HTTP request. Headers are sent as given (a "Host" header overrides the
/// one curl derives from the URL, so a signed Host is the sent Host).
struct HttpRequest {
  std::string method = "GET";  ///< GET, HEAD, PUT, POST, DELETE, ...
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  /// The body, read from memory by curl's read callback. Empty = no body.
  HttpBody body;
  std::chrono::milliseconds timeout{60000};          ///< whole transfer; 0 = none
  std::chrono::milliseconds connect_timeout{10000};  ///< TCP (+TLS) connect
  /// Abort with an error if the response body grows past this; 0 = no limit.
  uint64_t max_response_bytes = 0;
};

/// A response: any HTTP status is a response, not an error.
struct HttpResponse {
  long status = 0;  ///< HTTP status code
  /// Response headers of the final response, names lower-cased, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// New connections this transfer opened (0 = it reused a pooled one).
  long new_connections = 0;
  double total_seconds = 0;  ///< curl's CURLINFO_TOTAL_TIME

  /// The first header named `name` (lower-case), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
};

/// libcurl multi on a uv loop. Owns its uv handles and in-flight transfers.
class CurlMulti {
 public:
  /// Called once per request, on the loop thread.
  using Callback = std::function<void(core::Result<HttpResponse>)>;

  /// Connection-pool limits and debugging.
  struct Options {
    long max_host_connections = 16;   ///< CURLMOPT_MAX_HOST_CONNECTIONS; 0 = no limit
    long max_total_connections = 64;  ///< CURLMOPT_MAX_TOTAL_CONNECTIONS; 0 = no limit
    long max_cached_connections = 32; ///< CURLMOPT_MAXCONNECTS (idle pool)
    bool verbose = false;             ///< CURLOPT_VERBOSE on every transfer (stderr)
  };

  /// Creates the multi handle and its timer on `loop`. Errors are kUv/kS3.
  static core::Result<std::unique_ptr<CurlMulti>> Create(uv_loop_t* loop, Options options);
  static core::Result<std::unique_ptr<CurlMulti>> Create(uv_loop_t* loop) { return Create(loop, Options{}); }

  CurlMulti(const CurlMulti&) = delete;
  CurlMulti& operator=(const CurlMulti&) = delete;
  ~CurlMulti();

  /// Starts `request`; `done` gets the response (any status) or a transport
  /// error as Status{kS3, CURLcode, "<curl text>: <detail>"}.
  void Perform(HttpRequest request, Callback done);

  /// Cancels in-flight transfers (their callbacks get Status{kS3,
  /// CURLE_ABORTED_BY_CALLBACK, "cancelled: ..."}) and closes every handle.
  /// Idempotent.
  void Shutdown();

  /// The loop this runs on.
  uv_loop_t* loop() const noexcept { return loop_; }
  /// Transfers started and not yet completed.
  size_t in_flight() const noexcept { return transfers_.size(); }
  /// uv_poll_t handles open right now (one per curl socket).
  size_t open_sockets() const noexcept { return sockets_.size(); }

 private:
  struct Transfer;
  struct Socket;

  CurlMulti(uv_loop_t* loop, Options options);

  // curl → us (static trampolines; userp is the CurlMulti).
  static int OnCurlSocket(CURL* easy, curl_socket_t s, int what, void* userp, void* socketp);
  static int OnCurlTimer(CURLM* multi, long timeout_ms, void* userp);
  // uv → us.
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);

  void SocketAction(curl_socket_t s, int ev_bitmask);
  void DrainCompleted();
  void CloseSocket(curl_socket_t s);

  uv_loop_t* loop_;
  Options options_;
  CurlMultiPtr multi_;
  UvHandle<uv_timer_t> timer_;
  std::unordered_map<Transfer*, std::unique_ptr<Transfer>> transfers_;
  std::unordered_map<curl_socket_t, std::unique_ptr<Socket>> sockets_;
  bool shut_down_ = false;
};

}  // namespace sluice::glue
