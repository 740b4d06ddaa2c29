// See sluice_process.hpp.
#include "support/sluice_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace sluice::testing {

SluiceProcess::SluiceProcess() {
  char pattern[] = "/tmp/sluice-test-XXXXXX";
  dir_ = mkdtemp(pattern);
  conf_path_ = dir_ + "/sluice.conf";
  log_path_ = dir_ + "/sluice.log";
  notify_path_ = dir_ + "/notify.sock";
  notify_fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, notify_path_.c_str(), sizeof addr.sun_path - 1);
  ::bind(notify_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  WriteConf("");
}

SluiceProcess::~SluiceProcess() {
  Kill();
  if (notify_fd_ >= 0) ::close(notify_fd_);
  if (std::getenv("SLUICE_TEST_KEEP_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void SluiceProcess::WriteConf(const std::string& server_keys, const std::string& other_sections) {
  std::ofstream out(conf_path_);
  out << "[server]\n";
  if (server_keys.find("listen") == std::string::npos) out << "listen = 127.0.0.1:0\n";
  if (server_keys.find("test_routes") == std::string::npos) out << "test_routes = true\n";
  out << server_keys << "\n" << other_sections << "\n";
}

bool SluiceProcess::Start(std::string* error, std::chrono::milliseconds timeout,
                          const std::map<std::string, std::string>& extra_env) {
  pid_ = ::fork();
  if (pid_ == 0) {
    int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(log_fd, 2);
    ::dup2(log_fd, 1);
    ::setenv("NOTIFY_SOCKET", notify_path_.c_str(), 1);
    for (const auto& [key, value] : extra_env) ::setenv(key.c_str(), value.c_str(), 1);
    ::execl(SLUICE_BINARY, SLUICE_BINARY, "serve", "--config", conf_path_.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& message : NotifyMessages()) {
      if (message.find("READY=1") == std::string::npos) continue;
      auto at = message.find("STATUS=listening on ");
      if (at == std::string::npos) continue;
      std::string rest = message.substr(at + 20);
      auto colon = rest.find(':');
      port_ = std::atoi(rest.c_str() + colon + 1);
      return true;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (error != nullptr) *error = "sluice exited before READY=1:\n" + Log();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (error != nullptr) *error = "sluice not ready in time:\n" + Log();
  return false;
}

void SluiceProcess::Signal(int signum) const {
  if (pid_ > 0) ::kill(pid_, signum);
}

std::optional<int> SluiceProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

void SluiceProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

const std::vector<std::string>& SluiceProcess::NotifyMessages() {
  char buffer[4096];
  while (true) {
    ssize_t n = ::recv(notify_fd_, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    notify_messages_.emplace_back(buffer, static_cast<size_t>(n));
  }
  return notify_messages_;
}

bool SluiceProcess::WaitForNotify(const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    for (const auto& message : NotifyMessages()) {
      if (message.find(needle) != std::string::npos) return true;
    }
    pollfd pfd{notify_fd_, POLLIN, 0};
    ::poll(&pfd, 1, 20);
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

std::string SluiceProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string SluiceProcess::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

}  // namespace sluice::testing
