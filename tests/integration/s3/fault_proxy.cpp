// FaultProxy (see fault_proxy.hpp). Blocking sockets, one thread per client
// connection: read a request head, decide (rules, under the mutex), then
// forward or misbehave. Forwarding streams bodies in 64 KiB pieces (parts are
// megabytes), relays the response by its framing (Content-Length, chunked,
// none for HEAD/1xx/204/304, or until EOF), and keeps both connections for
// the next request unless a side closes. Stop()/Down() shut sockets down from
// outside, which returns any blocked recv() with 0 and lets the threads end.
#include "fault_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sluice::testing::s3 {
namespace {

constexpr size_t kChunk = 64 << 10;
constexpr size_t kMaxHead = 1 << 20;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
  return out;
}

// The value of header `name` (lower-case) in `head`, or "".
std::string HeaderValue(const std::string& head, std::string_view name) {
  const std::string lower = Lower(head);
  const std::string needle = "\r\n" + std::string(name) + ":";
  const size_t at = lower.find(needle);
  if (at == std::string::npos) return "";
  size_t begin = at + needle.size();
  const size_t end = head.find("\r\n", begin);
  while (begin < end && (head[begin] == ' ' || head[begin] == '\t')) ++begin;
  return head.substr(begin, end - begin);
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Appends what one recv() gives; false on EOF or error.
bool ReadMore(int fd, std::string& buf) {
  char tmp[kChunk];
  for (;;) {
    const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }
}

// Reads up to "\r\n\r\n" into `head` (leftover stays in `buf`).
bool ReadHead(int fd, std::string& buf, std::string& head) {
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (buf.size() > kMaxHead || !ReadMore(fd, buf)) return false;
  }
  head = buf.substr(0, end + 4);
  buf.erase(0, end + 4);
  return true;
}

// Moves `n` bytes from `from` (its buffered bytes first) to `to` (-1 = drop them).
bool Relay(int from, std::string& buf, int to, uint64_t n) {
  while (n > 0) {
    if (buf.empty() && !ReadMore(from, buf)) return false;
    const size_t take = static_cast<size_t>(std::min<uint64_t>(n, buf.size()));
    if (to >= 0 && !SendAll(to, std::string_view(buf).substr(0, take))) return false;
    buf.erase(0, take);
    n -= take;
  }
  return true;
}

bool ReadLine(int fd, std::string& buf, std::string& line) {
  size_t end;
  while ((end = buf.find("\r\n")) == std::string::npos) {
    if (buf.size() > kMaxHead || !ReadMore(fd, buf)) return false;
  }
  line = buf.substr(0, end + 2);
  buf.erase(0, end + 2);
  return true;
}

// Relays a chunked body, chunk by chunk, trailers included.
bool RelayChunked(int from, std::string& buf, int to) {
  for (;;) {
    std::string line;
    if (!ReadLine(from, buf, line) || !SendAll(to, line)) return false;
    const uint64_t size = std::strtoull(line.c_str(), nullptr, 16);
    if (size == 0) break;
    if (!Relay(from, buf, to, size + 2)) return false;  // data + CRLF
  }
  for (;;) {  // trailers, then the empty line
    std::string line;
    if (!ReadLine(from, buf, line) || !SendAll(to, line)) return false;
    if (line == "\r\n") return true;
  }
}

// Close with RST instead of FIN.
void ResetClose(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

std::string_view Reason(int status) {
  switch (status) {
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Injected";
  }
}

}  // namespace

FaultProxy::FaultProxy(std::string upstream_host, int upstream_port)
    : upstream_host_(std::move(upstream_host)), upstream_port_(upstream_port) {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) return;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return;
  }
  port_ = ntohs(addr.sin_port);
  listen_fd_ = fd;
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FaultProxy::~FaultProxy() {
  Stop();
  for (int fd : wake_) {
    if (fd >= 0) ::close(fd);
  }
}

std::string FaultProxy::Endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FaultProxy::AddRule(Rule rule) {
  std::lock_guard lock(mu_);
  rules_.push_back(std::move(rule));
}

void FaultProxy::RespondTo(std::string line_contains, int status, std::string code, int times) {
  Rule r;
  r.line_contains = std::move(line_contains);
  r.times = times;
  r.fault.action = Action::kRespond;
  r.fault.status = status;
  r.fault.code = std::move(code);
  AddRule(std::move(r));
}

void FaultProxy::ResetOn(std::string line_contains, int times, int64_t after_body_bytes) {
  Rule r;
  r.line_contains = std::move(line_contains);
  r.times = times;
  r.fault.action = Action::kReset;
  r.fault.reset_after_body_bytes = after_body_bytes;
  AddRule(std::move(r));
}

void FaultProxy::StallOn(std::string line_contains, int times) {
  Rule r;
  r.line_contains = std::move(line_contains);
  r.times = times;
  r.fault.action = Action::kStall;
  AddRule(std::move(r));
}

void FaultProxy::LoseAnswerTo(std::string line_contains, int times) {
  Rule r;
  r.line_contains = std::move(line_contains);
  r.times = times;
  r.fault.action = Action::kLoseAnswer;
  AddRule(std::move(r));
}

void FaultProxy::ClearRules() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

std::vector<FaultProxy::Seen> FaultProxy::seen() const {
  std::lock_guard lock(mu_);
  return seen_;
}

int FaultProxy::Count(std::string_view part) const {
  std::lock_guard lock(mu_);
  return static_cast<int>(std::count_if(seen_.begin(), seen_.end(),
                                        [&](const Seen& s) { return s.line.find(part) != std::string::npos; }));
}

int FaultProxy::CountPassed(std::string_view part) const {
  std::lock_guard lock(mu_);
  return static_cast<int>(std::count_if(seen_.begin(), seen_.end(), [&](const Seen& s) {
    return s.action == Action::kPass && s.line.find(part) != std::string::npos;
  }));
}

bool FaultProxy::Decide(const std::string& line, Fault& fault, int& number) {
  std::lock_guard lock(mu_);
  number = next_number_++;
  fault = Fault{};
  for (Rule& rule : rules_) {
    if (rule.times == 0) continue;
    if (rule.request_number != 0 && rule.request_number != number) continue;
    if (!rule.line_contains.empty() && line.find(rule.line_contains) == std::string::npos) continue;
    if (rule.times > 0) --rule.times;
    fault = rule.fault;
    break;
  }
  seen_.push_back(Seen{number, line, fault.action, std::chrono::steady_clock::now()});
  return true;
}

void FaultProxy::Track(int fd) {
  std::lock_guard lock(mu_);
  open_fds_.insert(fd);
}

void FaultProxy::Untrack(int fd) {
  std::lock_guard lock(mu_);
  open_fds_.erase(fd);
}

void FaultProxy::ResetAll() {
  std::lock_guard lock(mu_);
  for (int fd : open_fds_) {
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);  // the owner's close() then sends RST
    ::shutdown(fd, SHUT_RDWR);                                // wakes the owner's recv()
  }
}

void FaultProxy::Down() {
  down_ = true;
  const char c = 'd';
  [[maybe_unused]] ssize_t n = ::write(wake_[1], &c, 1);
  ResetAll();
}

void FaultProxy::Stop() {
  if (stopping_.exchange(true)) return;
  const char c = 's';
  [[maybe_unused]] ssize_t n = ::write(wake_[1], &c, 1);
  if (acceptor_.joinable()) acceptor_.join();
  ResetAll();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

void FaultProxy::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (stopping_ || down_) break;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Track(client);
    std::lock_guard lock(mu_);
    workers_.emplace_back([this, client] { Serve(client); });
  }
  ::close(listen_fd_);  // new connections are refused from now on
}

void FaultProxy::Serve(int client) {
  int up = -1;
  bool reset = false;
  std::string cbuf;  // bytes read from the client, not yet handled
  std::string ubuf;  // bytes read from upstream, not yet handled
  for (;;) {
    std::string head;
    if (stopping_ || down_ || !ReadHead(client, cbuf, head)) break;
    const std::string line = head.substr(0, head.find("\r\n"));
    const std::string method = line.substr(0, line.find(' '));
    const uint64_t length = std::strtoull(HeaderValue(head, "content-length").c_str(), nullptr, 10);
    Fault fault;
    int number = 0;
    Decide(line, fault, number);

    if (fault.action == Action::kRespond) {
      if (!Relay(client, cbuf, -1, length)) break;
      const std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + fault.code +
                               "</Code><Message>" + fault.message + "</Message><RequestId>proxy-" +
                               std::to_string(number) + "</RequestId></Error>";
      std::string out = "HTTP/1.1 " + std::to_string(fault.status) + " " + std::string(Reason(fault.status)) +
                        "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\n\r\n";
      if (method != "HEAD") out += body;
      if (!SendAll(client, out)) break;
      continue;
    }
    if (fault.action == Action::kReset) {
      const uint64_t take = fault.reset_after_body_bytes < 0
                                ? length
                                : std::min<uint64_t>(length, static_cast<uint64_t>(fault.reset_after_body_bytes));
      Relay(client, cbuf, -1, take);
      reset = true;
      break;
    }
    if (fault.action == Action::kStall) {
      Relay(client, cbuf, -1, length);
      std::string ignored;
      while (!stopping_ && !down_ && ReadMore(client, ignored)) ignored.clear();  // until the client gives up
      break;
    }

    // kPass and kLoseAnswer
    if (up < 0) {
      up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
      ::inet_pton(AF_INET, upstream_host_.c_str(), &addr.sin_addr);
      if (up < 0 || ::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (up >= 0) ::close(up);
        up = -1;
        reset = true;  // upstream down: the client sees a reset
        break;
      }
      const int one = 1;
      ::setsockopt(up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      Track(up);
    }
    if (!SendAll(up, head) || !Relay(client, cbuf, up, length)) break;
    std::string rhead;
    if (!ReadHead(up, ubuf, rhead)) break;
    if (fault.action == Action::kLoseAnswer) {  // the server did the work; the client never hears of it
      reset = true;
      break;
    }
    if (!SendAll(client, rhead)) break;
    const int status = std::atoi(rhead.c_str() + rhead.find(' ') + 1);
    const std::string te = Lower(HeaderValue(rhead, "transfer-encoding"));
    const std::string cl = HeaderValue(rhead, "content-length");
    bool ok = true;
    bool close_after = Lower(HeaderValue(rhead, "connection")) == "close";
    if (method == "HEAD" || status < 200 || status == 204 || status == 304) {
      // no body
    } else if (te.find("chunked") != std::string::npos) {
      ok = RelayChunked(up, ubuf, client);
    } else if (!cl.empty()) {
      ok = Relay(up, ubuf, client, std::strtoull(cl.c_str(), nullptr, 10));
    } else {  // until EOF
      if (!ubuf.empty()) ok = SendAll(client, ubuf);
      ubuf.clear();
      while (ok && ReadMore(up, ubuf)) {
        ok = SendAll(client, ubuf);
        ubuf.clear();
      }
      close_after = true;
    }
    if (!ok || close_after) break;
  }
  if (up >= 0) {
    Untrack(up);
    if (reset) {
      ResetClose(up);
    } else {
      ::close(up);
    }
  }
  Untrack(client);
  if (reset) {
    ResetClose(client);
  } else {
    ::close(client);
  }
}

}  // namespace sluice::testing::s3
