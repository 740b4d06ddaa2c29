// See server.hpp.
#include "http/server.hpp"

#include <fmt/format.h>

#include "http/connection.hpp"
#include "log/logger.hpp"
#include "uv/uv_error.hpp"

namespace sluice::http {

ServerOptions ServerOptions::FromConfig(const config::ServerConfig& server) {
  ServerOptions options;
  options.limits.max_url_bytes = server.max_url_bytes;
  options.limits.max_header_bytes = server.max_header_bytes;
  options.limits.max_headers = server.max_headers;
  options.limits.max_body_bytes = server.max_body_bytes;
  options.max_upload_bytes = server.max_upload_bytes;
  options.header_timeout = server.header_timeout;
  options.idle_timeout = server.idle_timeout;
  options.max_connections = server.max_connections;
  return options;
}

Server::Server(uv_loop_t* loop, const Router& router, ServerOptions options)
    : loop_(loop), router_(router), options_(options) {
  defer_timer_.Init(uv_timer_init, loop_);
  defer_timer_->data = this;
  grace_timer_.Init(uv_timer_init, loop_);
  grace_timer_->data = this;
}

Server::~Server() {
  // Connections must be gone (Shutdown) before the Server is destroyed; the
  // handles below close through UvHandle.
  for (auto& [id, connection] : connections_) connection->ForceClose();
}

core::Status Server::Listen(const std::vector<config::ListenAddress>& addresses, std::vector<std::string>* bound,
                           const glue::TlsContext* tls) {
  for (const auto& address : addresses) {
    sockaddr_storage storage{};
    std::string host = address.host == "localhost" ? "127.0.0.1" : address.host;
    int rc = host.find(':') != std::string::npos
                 ? uv_ip6_addr(host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(&storage))
                 : uv_ip4_addr(host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(&storage));
    if (rc != 0) return glue::UvStatus(rc, fmt::format("listen address {}:{}", address.host, address.port));
    auto listener = std::make_unique<Listener>();
    listener->server = this;
    listener->tls = tls;
    listener->tcp.Init(uv_tcp_init, loop_);
    listener->tcp->data = listener.get();
    rc = uv_tcp_bind(listener->tcp.get(), reinterpret_cast<sockaddr*>(&storage), 0);
    if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener->tcp.get()), 511, OnNewConnection);
    if (rc != 0) return glue::UvStatus(rc, fmt::format("listen on {}:{}", address.host, address.port));
    sockaddr_storage actual{};
    int len = sizeof actual;
    uv_tcp_getsockname(listener->tcp.get(), reinterpret_cast<sockaddr*>(&actual), &len);
    char ip[64] = "";
    std::string scheme = tls != nullptr ? "https://" : "";
    if (actual.ss_family == AF_INET6) {
      uv_ip6_name(reinterpret_cast<sockaddr_in6*>(&actual), ip, sizeof ip);
      int port = ntohs(reinterpret_cast<sockaddr_in6*>(&actual)->sin6_port);
      if (bound != nullptr) bound->push_back(fmt::format("{}[{}]:{}", scheme, ip, port));
    } else {
      uv_ip4_name(reinterpret_cast<sockaddr_in*>(&actual), ip, sizeof ip);
      int port = ntohs(reinterpret_cast<sockaddr_in*>(&actual)->sin_port);
      if (bound != nullptr) bound->push_back(fmt::format("{}{}:{}", scheme, ip, port));
    }
    listeners_.push_back(std::move(listener));
  }
  return core::Status::Ok();
}

void Server::OnNewConnection(uv_stream_t* stream, int status) {
  auto* listener = static_cast<Listener*>(stream->data);
  if (status < 0) {
    log::Get("http")->warn("accept failed: {}", uv_strerror(status));
    return;
  }
  listener->server->Accept(*listener);
}

void Server::Accept(Listener& listener) {
  uint64_t id = next_connection_id_++;
  auto connection = std::make_unique<Connection>(*this, id);
  Connection* raw = connection.get();
  connections_.emplace(id, std::move(connection));
  auto* stream = reinterpret_cast<uv_stream_t*>(listener.tcp.get());
  if (shutting_down_ || static_cast<int>(connections_.size()) > options_.max_connections) {
    raw->StartRefused(stream, listener.tls);
  } else {
    raw->Start(stream, listener.tls);
  }
}

void Server::OnConnectionClosed(uint64_t connection_id) {
  connections_.erase(connection_id);
  if (shutting_down_) MaybeFinishShutdown();
}

void Server::Defer(uint64_t connection_id, std::function<void(Connection&)> step) {
  deferred_.emplace_back(connection_id, std::move(step));
  ScheduleDeferred();
}

void Server::ReleaseLater(std::shared_ptr<void> object) {
  release_later_.push_back(std::move(object));
  ScheduleDeferred();
}

void Server::ScheduleDeferred() {
  if (defer_timer_.initialized() && !uv_is_active(defer_timer_.base())) {
    uv_timer_start(defer_timer_.get(), OnDeferTimer, 0, 0);
  }
}

void Server::OnDeferTimer(uv_timer_t* timer) {
  auto* self = static_cast<Server*>(timer->data);
  auto steps = std::move(self->deferred_);
  self->deferred_.clear();
  auto releases = std::move(self->release_later_);
  self->release_later_.clear();
  for (auto& [id, step] : steps) {
    auto it = self->connections_.find(id);
    if (it != self->connections_.end()) step(*it->second);
  }
  releases.clear();  // handlers die here, outside their own stacks
}

void Server::Shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
  if (shutting_down_) return;
  shutting_down_ = true;
  shutdown_done_ = std::move(done);
  listeners_.clear();  // closes the listening sockets
  std::vector<Connection*> open;
  for (auto& [id, connection] : connections_) open.push_back(connection.get());
  for (Connection* connection : open) connection->CloseWhenIdle();
  if (!connections_.empty()) {
    log::Get("http")->info("shutdown: waiting up to {} ms for {} connection(s)", grace.count(), connections_.size());
    uv_timer_start(grace_timer_.get(), OnGraceTimer, static_cast<uint64_t>(grace.count()), 0);
  }
  MaybeFinishShutdown();
}

void Server::OnGraceTimer(uv_timer_t* timer) {
  auto* self = static_cast<Server*>(timer->data);
  log::Get("http")->warn("shutdown: grace period over, closing {} connection(s)", self->connections_.size());
  std::vector<Connection*> open;
  for (auto& [id, connection] : self->connections_) open.push_back(connection.get());
  for (Connection* connection : open) connection->ForceClose();
}

void Server::MaybeFinishShutdown() {
  if (!connections_.empty() || !shutdown_done_) return;
  uv_timer_stop(grace_timer_.get());
  auto done = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  done();
}

}  // namespace sluice::http
