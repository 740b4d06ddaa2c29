// See upload_driver.hpp.
#include "faults/upload_driver.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace sluice::testing {

uint64_t GeneratedCsv::size() const { return std::strlen(kHeader) + rows * kRowBytes; }

GeneratedCsv GeneratedCsv::OfSize(uint64_t bytes) { return GeneratedCsv{std::max<uint64_t>(1, bytes / kRowBytes)}; }

void GeneratedCsv::Read(uint64_t offset, char* out, uint64_t n) const {
  const uint64_t header = std::strlen(kHeader);
  char row[64];  // a row is kRowBytes; room for what the compiler cannot rule out
  while (n > 0) {
    if (offset < header) {
      uint64_t take = std::min(n, header - offset);
      std::memcpy(out, kHeader + offset, take);
      out += take, offset += take, n -= take;
      continue;
    }
    uint64_t index = (offset - header) / kRowBytes;
    uint64_t within = (offset - header) % kRowBytes;
    // 10 + 1 + 20 + 1 + 8 + 1 = 41 bytes.
    std::snprintf(row, sizeof row, "%010llu,name-%015llu,%08llu\n", static_cast<unsigned long long>(index + 1),
                  static_cast<unsigned long long>((index * 7919) % 1000000007ULL),
                  static_cast<unsigned long long>((index * 104729) % 100000000ULL));
    uint64_t take = std::min(n, kRowBytes - within);
    std::memcpy(out, row + within, take);
    out += take, offset += take, n -= take;
  }
}

UploadDriver::UploadDriver(int port, const std::string& target, GeneratedCsv file) : file_(file) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Close();
    return;
  }
  std::string head = "POST " + target + " HTTP/1.1\r\nHost: sluice\r\nContent-Type: text/csv\r\nContent-Length: " +
                     std::to_string(file_.size()) + "\r\n\r\n";
  if (::send(fd_, head.data(), head.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(head.size())) Close();
  if (fd_ >= 0) ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

UploadDriver::~UploadDriver() { Close(); }

void UploadDriver::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool UploadDriver::AnswerComplete() const {
  auto end = received_.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string head = received_.substr(0, end);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (head.rfind("http/1.1 100", 0) == 0) return false;  // an interim answer
  auto length_at = head.find("content-length:");
  if (length_at != std::string::npos) {
    return received_.size() >= end + 4 + std::stoull(head.substr(length_at + 15));
  }
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    return received_.find("\r\n0\r\n\r\n", end) != std::string::npos;
  }
  return eof_;
}

bool UploadDriver::Pump(uint64_t until, std::chrono::steady_clock::time_point deadline, bool read_answer) {
  std::vector<char> buffer(1 << 18);
  while (fd_ >= 0) {
    if (!read_answer && sent_ >= until) return true;
    if (read_answer && (AnswerComplete() || eof_)) return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, static_cast<short>(POLLIN | (sent_ < until ? POLLOUT : 0)), 0};
    if (::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 200))) <= 0) continue;
    if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
      if (n > 0) {
        received_.append(buffer.data(), static_cast<size_t>(n));
        if (!read_answer && AnswerComplete()) return false;  // answered before the body was out
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        eof_ = true;
        return read_answer;
      }
    }
    if ((pfd.revents & POLLOUT) && sent_ < until) {
      uint64_t n = std::min<uint64_t>({until - sent_, buffer.size(), file_.size() - sent_});
      file_.Read(sent_, buffer.data(), n);
      ssize_t w = ::send(fd_, buffer.data(), n, MSG_NOSIGNAL);
      if (w > 0) {
        sent_ += static_cast<uint64_t>(w);
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        // The server closed its side: its answer (if any) may still be readable.
        if (!read_answer) return false;
        until = sent_;
      }
    }
  }
  return false;
}

bool UploadDriver::SendUntil(uint64_t bytes, std::chrono::milliseconds timeout) {
  return Pump(std::min(bytes, file_.size()), std::chrono::steady_clock::now() + timeout, false);
}

DriverResponse UploadDriver::Finish(std::chrono::milliseconds timeout) {
  Pump(file_.size(), std::chrono::steady_clock::now() + timeout, true);
  DriverResponse response;
  if (received_.rfind("HTTP/1.1 100", 0) == 0) received_.erase(0, received_.find("\r\n\r\n") + 4);
  auto end = received_.find("\r\n\r\n");
  if (received_.size() > 12 && end != std::string::npos) {
    response.status = std::atoi(received_.c_str() + 9);
    response.body = received_.substr(end + 4);
  }
  return response;
}

}  // namespace sluice::testing
