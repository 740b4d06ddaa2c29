// Test support for code that runs on a real libuv loop (CurlMulti, S3Client):
//
//  - LoopTest: a fixture owning a uv loop and a CurlMulti on it. RunUntil()
//    drives the loop until a condition holds, with a watchdog so a bug shows
//    up as a failed test rather than a hung one. TearDown shuts the CurlMulti
//    down, runs the loop dry and asserts uv_loop_close() == 0, so a leaked
//    handle fails the test (STYLE.md 3.7).
//  - LoopbackHttpServer: a tiny HTTP/1.1 server on 127.0.0.1:<ephemeral> on
//    the same loop, for tests that need exact control of the other end: it
//    answers (echoing the request body), or accepts and never answers (for
//    timeouts and cancellation). It records every request head it saw.
#pragma once

#include <gtest/gtest.h>
#include <uv.h>

#include <cctype>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "curl/curl_multi_uv.hpp"
#include "uv/uv_handle.hpp"

// Namespace s3 under sluice::testing: other areas have loop fixtures of
// their own (a same-named class in one namespace would break the ODR).
namespace sluice::testing::s3 {

/// A uv loop with a CurlMulti; checks that nothing is left open at the end.
class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    loop_ready_ = true;
    auto multi = glue::CurlMulti::Create(&loop_);
    ASSERT_TRUE(multi.has_value()) << multi.error().message();
    http_ = std::move(*multi);
  }

  void TearDown() override {
    if (!loop_ready_) return;
    BeforeLoopClose();
    if (http_) {
      http_->Shutdown();
      http_.reset();
    }
    uv_run(&loop_, UV_RUN_DEFAULT);  // close callbacks
    EXPECT_EQ(uv_loop_close(&loop_), 0) << "a uv handle was left open";
  }

  /// Derived fixtures release their loop objects here.
  virtual void BeforeLoopClose() {}

  /// Runs the loop until `done()` or `limit`; false on timeout, or when the
  /// loop has nothing left to do and `done()` is still false.
  bool RunUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    glue::UvHandle<uv_timer_t> watchdog;
    if (watchdog.Init(uv_timer_init, &loop_) != 0) return false;
    bool expired = false;
    watchdog->data = &expired;
    uv_timer_start(
        watchdog.get(),
        [](uv_timer_t* t) {
          if (t->data != nullptr) *static_cast<bool*>(t->data) = true;
        },
        static_cast<uint64_t>(limit.count()), 0);
    uv_unref(watchdog.base());  // the watchdog alone does not keep the loop running
    while (!done() && !expired) {
      if (uv_run(&loop_, UV_RUN_ONCE) == 0 && !done()) break;
    }
    return done();
  }

  /// Starts an operation that reports a Result<T> and waits for it. The
  /// result lives on the heap: after a timeout the callback may still come
  /// (e.g. cancelled at TearDown) and must not write into a dead frame.
  template <class T, class Start>
  core::Result<T> Await(Start start, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    auto out = std::make_shared<std::optional<core::Result<T>>>();
    start([out](core::Result<T> r) { out->emplace(std::move(r)); });
    if (!RunUntil([&out] { return out->has_value(); }, limit)) {
      return core::Status::Internal("timed out waiting for the callback");
    }
    return std::move(**out);
  }

  /// The same for an operation that reports a Status.
  template <class Start>
  core::Status AwaitStatus(Start start, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    auto out = std::make_shared<std::optional<core::Status>>();
    start([out](core::Status s) { out->emplace(std::move(s)); });
    if (!RunUntil([&out] { return out->has_value(); }, limit)) {
      return core::Status::Internal("timed out waiting for the callback");
    }
    return std::move(**out);
  }

  uv_loop_t loop_{};
  bool loop_ready_ = false;
  std::unique_ptr<glue::CurlMulti> http_;
};

/// A minimal HTTP/1.1 server on the test's loop (keep-alive, Content-Length
/// bodies only). Paths: "/status/<N>" answers with status N and an S3-style
/// error body; "/big" answers 1 MiB; anything else answers 200 with the request
/// body (or "hello from loopback" when there is none). X-Request-Line echoes
/// the request line, X-Got-Bytes the body length. FailNext() injects errors.
class LoopbackHttpServer {
 public:
  enum class Mode { kRespond, kStall };

  LoopbackHttpServer(uv_loop_t* loop, Mode mode) : mode_(mode) {
    EXPECT_EQ(listener_.Init(uv_tcp_init, loop), 0);
    listener_->data = this;
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    EXPECT_EQ(uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&addr), 0), 0);
    EXPECT_EQ(uv_listen(reinterpret_cast<uv_stream_t*>(listener_.get()), 64, &OnConnection), 0);
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
    port_ = ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }
  ~LoopbackHttpServer() { Close(); }

  int port() const { return port_; }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int connections() const { return connections_; }
  /// The next `n` requests get `status` with an S3 <Error> body of `code`.
  void FailNext(int n, int status, std::string code) {
    fail_next_ = n;
    fail_status_ = status;
    fail_code_ = std::move(code);
  }
  const std::vector<std::string>& request_heads() const { return heads_; }

  /// Closes the listener and every connection (memory freed in close callbacks).
  void Close() {
    listener_.Close();
    conns_.clear();
  }

 private:
  struct Conn {
    LoopbackHttpServer* server = nullptr;
    glue::UvHandle<uv_tcp_t> tcp;
    std::string buffer;
    char scratch[65536];
  };
  struct Write {
    uv_write_t req{};
    std::string data;
  };

  static void OnConnection(uv_stream_t* listener, int status) {
    auto* self = static_cast<LoopbackHttpServer*>(listener->data);
    if (self == nullptr || status < 0) return;
    auto conn = std::make_unique<Conn>();
    conn->server = self;
    if (conn->tcp.Init(uv_tcp_init, listener->loop) != 0) return;
    conn->tcp->data = conn.get();
    if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(conn->tcp.get())) != 0) return;
    ++self->connections_;
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(conn->tcp.get()),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* c = static_cast<Conn*>(h->data);
          *buf = uv_buf_init(c->scratch, sizeof c->scratch);
        },
        &OnRead);
    self->conns_.push_back(std::move(conn));
  }

  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* conn = static_cast<Conn*>(stream->data);
    if (conn == nullptr) return;
    LoopbackHttpServer* self = conn->server;
    if (nread < 0) {  // EOF or error: drop the connection
      for (auto it = self->conns_.begin(); it != self->conns_.end(); ++it) {
        if (it->get() == conn) {
          self->conns_.erase(it);
          break;
        }
      }
      return;
    }
    conn->buffer.append(buf->base, static_cast<size_t>(nread));
    self->Process(*conn);
  }

  void Process(Conn& conn) {
    for (;;) {
      const size_t head_end = conn.buffer.find("\r\n\r\n");
      if (head_end == std::string::npos) return;
      const std::string head = conn.buffer.substr(0, head_end);
      size_t length = 0;
      std::string lower = head;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (size_t at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
        length = std::stoul(head.substr(at + 17));
      }
      if (conn.buffer.size() < head_end + 4 + length) return;
      const std::string body = conn.buffer.substr(head_end + 4, length);
      conn.buffer.erase(0, head_end + 4 + length);
      heads_.push_back(head);
      if (mode_ == Mode::kStall) continue;  // seen, never answered

      const std::string line = head.substr(0, head.find("\r\n"));
      const std::string method = line.substr(0, line.find(' '));
      const size_t path_begin = line.find(' ') + 1;
      const std::string path = line.substr(path_begin, line.rfind(' ') - path_begin);
      int status = 200;
      std::string out = body.empty() ? "hello from loopback" : body;
      if (fail_next_ > 0) {
        --fail_next_;
        status = fail_status_;
        out = "<Error><Code>" + fail_code_ + "</Code><Message>injected</Message></Error>";
      } else if (path.rfind("/status/", 0) == 0) {
        status = std::stoi(path.substr(8));
        out = "<Error><Code>Test" + std::to_string(status) + "</Code><Message>as asked</Message></Error>";
      } else if (path == "/big") {
        out.assign(1 << 20, 'x');
      }
      auto w = std::make_unique<Write>();
      w->data = "HTTP/1.1 " + std::to_string(status) + " Whatever\r\nContent-Length: " + std::to_string(out.size()) +
                "\r\nETag: \"e1\"\r\nX-Request-Line: " + line + "\r\nX-Got-Bytes: " + std::to_string(body.size()) +
                "\r\n\r\n";
      if (method != "HEAD") w->data += out;
      uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
      w->req.data = w.get();
      if (uv_write(&w->req, reinterpret_cast<uv_stream_t*>(conn.tcp.get()), &b, 1,
                   [](uv_write_t* req, int) { std::unique_ptr<Write> done(static_cast<Write*>(req->data)); }) == 0) {
        w.release();  // reclaimed in the write callback
      }
    }
  }

  Mode mode_;
  glue::UvHandle<uv_tcp_t> listener_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<std::string> heads_;
  int port_ = 0;
  int connections_ = 0;
  int fail_next_ = 0;
  int fail_status_ = 0;
  std::string fail_code_;
};

/// A TCP port on 127.0.0.1 with nothing listening (bound once, then released).
inline int ClosedLoopbackPort(uv_loop_t* loop) {
  glue::UvHandle<uv_tcp_t> tcp;
  if (tcp.Init(uv_tcp_init, loop) != 0) return 0;
  sockaddr_in addr{};
  uv_ip4_addr("127.0.0.1", 0, &addr);
  if (uv_tcp_bind(tcp.get(), reinterpret_cast<const sockaddr*>(&addr), 0) != 0) return 0;
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(tcp.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  return ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

}  // namespace sluice::testing::s3
