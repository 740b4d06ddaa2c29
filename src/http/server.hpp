// Server: the listening sockets and the set of live connections. Accepts
// clients (refusing past max_connections with a 503), hands each to a
// Connection, and runs graceful shutdown: stop accepting, close idle
// connections, let in-flight requests finish within the grace period, then
// close what is left. Also runs "deferred" steps for connections — work that
// must not happen inside the caller's own stack (destroying a handler from
// within its own callback).
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/status.hpp"
#include "http/request_limits.hpp"
#include "http/router.hpp"
#include "tls/tls_session.hpp"
#include "uv/uv_handle.hpp"

namespace sluice::http {

class Connection;

/// Outcome of the access check a Server runs on every routed request.
struct AccessDecision {
  bool allowed = true;
  int role = 0;              ///< auth::Role of the caller when allowed
  std::string caller;
  int status = 0;            ///< 401 or 403 when refused
  std::string code;
  std::string message;
};
/// Decides whether `request` may use a route needing `role` (auth::Role).
using AccessPolicy = std::function<AccessDecision(const Request& request, int role)>;

/// One finished request, for metrics.
struct RequestRecord {
  std::string_view route;    ///< route name, "none" when unrouted
  std::string_view method;
  int status = 0;
  uint64_t bytes = 0;        ///< response body bytes
  double seconds = 0;        ///< first byte of the request → response queued
};
using RequestObserver = std::function<void(const RequestRecord&)>;

struct ServerOptions {
  RequestLimits limits;                 ///< max_body_bytes applies to BodyLimit::kSmall routes
  uint64_t max_upload_bytes = 0;        ///< BodyLimit::kUpload routes; 0 = no limit
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
  int max_connections = 1024;
  size_t write_high_water = 1 << 20;    ///< Write() returns false past this many queued bytes

  static ServerOptions FromConfig(const config::ServerConfig& server);
};

class Server {
 public:
  Server(uv_loop_t* loop, const Router& router, ServerOptions options);
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  /// Binds and listens on every address. `bound` receives "host:port" with the
  /// real port (useful with port 0). With `tls` (which must outlive the
  /// server) these listeners serve HTTPS.
  core::Status Listen(const std::vector<config::ListenAddress>& addresses, std::vector<std::string>* bound,
                      const glue::TlsContext* tls = nullptr);
  /// New limits and timeouts for requests that start from now on (SIGHUP).
  void UpdateOptions(const ServerOptions& options) { options_ = options; }
  /// Installs the access check (none = everything allowed).
  void SetAccessPolicy(AccessPolicy policy) { access_policy_ = std::move(policy); }
  const AccessPolicy& access_policy() const { return access_policy_; }
  /// Installs the per-request observer (metrics).
  void SetRequestObserver(RequestObserver observer) { request_observer_ = std::move(observer); }
  void ObserveRequest(const RequestRecord& record) const {
    if (request_observer_) request_observer_(record);
  }
  /// Connections accepted since start.
  uint64_t connections_accepted() const { return next_connection_id_ - 1; }
  /// Graceful stop; `done` runs once every connection is closed.
  void Shutdown(std::chrono::milliseconds grace, std::function<void()> done);

  size_t connection_count() const { return connections_.size(); }
  bool shutting_down() const { return shutting_down_; }
  const ServerOptions& options() const { return options_; }
  const Router& router() const { return router_; }
  uv_loop_t* loop() const { return loop_; }

  /// Runs `step` on the next loop iteration if the connection still exists.
  void Defer(uint64_t connection_id, std::function<void(Connection&)> step);
  /// Keeps `object` alive until the next loop iteration (a handler must not be
  /// destroyed inside its own call stack).
  void ReleaseLater(std::shared_ptr<void> object);
  /// Called by a Connection from its close callback; frees it.
  void OnConnectionClosed(uint64_t connection_id);

 private:
  static void OnNewConnection(uv_stream_t* listener, int status);
  static void OnDeferTimer(uv_timer_t* timer);
  static void OnGraceTimer(uv_timer_t* timer);
  struct Listener {
    Server* server = nullptr;
    const glue::TlsContext* tls = nullptr;
    glue::UvHandle<uv_tcp_t> tcp;
  };
  void Accept(Listener& listener);
  void MaybeFinishShutdown();

  uv_loop_t* loop_;
  const Router& router_;
  ServerOptions options_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  uint64_t next_connection_id_ = 1;
  glue::UvHandle<uv_timer_t> defer_timer_;
  std::deque<std::pair<uint64_t, std::function<void(Connection&)>>> deferred_;
  std::vector<std::shared_ptr<void>> release_later_;
  void ScheduleDeferred();
  glue::UvHandle<uv_timer_t> grace_timer_;
  bool shutting_down_ = false;
  std::function<void()> shutdown_done_;
  AccessPolicy access_policy_;
  RequestObserver request_observer_;
};

}  // namespace sluice::http
