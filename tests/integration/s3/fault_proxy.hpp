// FaultProxy: a fault-injecting HTTP/1.1 proxy for the S3 integration tests.
// It listens on 127.0.0.1:<ephemeral> and forwards each request to a real S3
// server (Ceph RGW, s3rver) — unless a rule says otherwise for that request:
// answer 500 / 503 SlowDown / 429 itself, reset the connection, stall (read
// the request and never answer, so the client's timeout fires), or forward
// the request and lose the server's answer (the work is done, the client
// never hears of it). It can
// also go down as a whole (refuse new connections and reset the open ones),
// which is "the endpoint was killed" without killing a shared server.
//
// Why its own: AWS's transient errors do not happen on demand on loopback,
// and s3rver/RGW never send them. The proxy is request-aware (it parses
// request and response framing: Content-Length, chunked, HEAD, 204/304), so
// keep-alive connections work as with the real server and rules can match
// "the 2nd attempt at part 3".
//
// Threads: one acceptor thread (poll() on the listener and a wake pipe) and
// one thread per client connection with blocking I/O; Stop() (also the
// destructor) shuts every socket down, which unblocks them, and joins them.
// The test's uv loop never waits on the proxy. Requests are numbered from 1
// in the order the proxy read their heads; every request is recorded with the
// action taken and when.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sluice::testing::s3 {

class FaultProxy {
 public:
  /// What the proxy does with one request.
  enum class Action {
    kPass,     ///< forward to the upstream server and its answer back
    kRespond,  ///< answer `status` with an S3 <Error> body itself (the request body is read first)
    kReset,    ///< read the head (and `reset_after_body_bytes` of the body), then RST both connections
    kStall,    ///< read the request, never answer; hold the connection until the client gives up
    kLoseAnswer,  ///< forward the request, swallow the server's answer, RST the client (a lost response)
  };

  /// One fault, applied to the requests a rule matches.
  struct Fault {
    Action action = Action::kPass;
    int status = 500;                     ///< kRespond
    std::string code = "InternalError";   ///< kRespond: <Code>
    std::string message = "injected by FaultProxy";  ///< kRespond: <Message>
    int64_t reset_after_body_bytes = -1;  ///< kReset: -1 = after the whole body
  };

  /// Which requests get a fault: by number (1-based, 0 = any) and/or by a
  /// substring of the request line ("" = any). `times` < 0: every match.
  struct Rule {
    int request_number = 0;
    std::string line_contains;
    int times = 1;
    Fault fault;
  };

  /// One request as the proxy saw it.
  struct Seen {
    int number = 0;
    std::string line;  ///< "PUT /bucket/key?partNumber=1&uploadId=... HTTP/1.1"
    Action action = Action::kPass;
    std::chrono::steady_clock::time_point at;
  };

  /// Starts listening; upstream is the real server on 127.0.0.1.
  FaultProxy(std::string upstream_host, int upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  /// True when the listener is up.
  bool ok() const { return listen_fd_ >= 0; }
  /// The port it listens on.
  int port() const { return port_; }
  /// "http://127.0.0.1:<port>", the endpoint to give the client.
  std::string Endpoint() const;

  /// Adds a rule; rules are tried in the order added, the first live match wins.
  void AddRule(Rule rule);
  /// Shorthands.
  void RespondTo(std::string line_contains, int status, std::string code, int times = 1);
  void ResetOn(std::string line_contains, int times = 1, int64_t after_body_bytes = -1);
  void StallOn(std::string line_contains, int times = 1);
  void LoseAnswerTo(std::string line_contains, int times = 1);
  void ClearRules();

  /// Every request so far.
  std::vector<Seen> seen() const;
  /// Requests whose line contains `part` (all of them for "").
  int Count(std::string_view part) const;
  /// Requests whose line contains `part` and that were forwarded.
  int CountPassed(std::string_view part) const;

  /// Goes down for good: closes the listener (new connections are refused)
  /// and resets every open connection.
  void Down();
  /// Stops everything and joins the threads. Idempotent.
  void Stop();

 private:
  void AcceptLoop();
  void Serve(int client_fd);
  bool Decide(const std::string& line, Fault& fault, int& number);
  void Track(int fd);
  void Untrack(int fd);
  void ResetAll();

  std::string upstream_host_;
  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> down_{false};
  std::thread acceptor_;

  mutable std::mutex mu_;  // guards everything below
  std::vector<Rule> rules_;
  std::vector<Seen> seen_;
  std::vector<std::thread> workers_;
  std::set<int> open_fds_;
  int next_number_ = 1;
};

}  // namespace sluice::testing::s3
