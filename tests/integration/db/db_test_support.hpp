// Shared pieces of the MariaDB integration tests: a fixture that owns a real
// uv_loop_t and fails the test when a handle is left open at the end (libuv's
// MAKE_VALGRIND_HAPPY, Node's NodeTestFixture), helpers that turn the
// SLUICE_TEST_MARIADB_* target into connect parameters, a closed port, a
// listener that never answers, and a throw-away mariadbd the test starts,
// kills and restarts itself (Redis's start_server, h2o's spawn_h2o).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "mysql/mysql_async.hpp"
#include "../support/services.hpp"

extern char** environ;

// Kept in its own namespace: other areas' test helpers may use the same names.
namespace sluice::dbtest {

using ::sluice::testing::MariadbTarget;
using ::sluice::testing::ServicesRequired;

/// A test that drives a real libuv loop. TearDown lets pending closes finish,
/// then requires uv_loop_close() == 0: a handle still open is a leak.
class LoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    ASSERT_EQ(uv_timer_init(&loop_, &watchdog_), 0);
  }

  void TearDown() override {
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog_), nullptr);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    // Closing handles and thread-pool requests (a slow resolver) finish here;
    // live handles do not (they are the leaks this fixture exists to catch).
    while (uv_loop_alive(&loop_) != 0 && std::chrono::steady_clock::now() < deadline) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    uv_run(&loop_, UV_RUN_NOWAIT);
    int rc = uv_loop_close(&loop_);
    if (rc != 0) {
      uv_walk(
          &loop_,
          [](uv_handle_t* handle, void*) {
            ADD_FAILURE() << "leaked handle: " << uv_handle_type_name(uv_handle_get_type(handle))
                          << (uv_is_closing(handle) != 0 ? " (closing)" : "")
                          << (uv_is_active(handle) != 0 ? " (active)" : "");
          },
          nullptr);
    }
    EXPECT_EQ(rc, 0) << "uv_loop_close: " << uv_err_name(rc);
  }

  /// Runs the loop until `done()` holds. False after `limit` (the caller
  /// asserts on it), so a hang fails the test instead of stalling it.
  bool RunUntil(const std::function<bool()>& done,
                std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    ++run_depth_;  // `done()` may itself run the loop (a nested RunUntil)
    bool ok = true;
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) {
        ok = false;
        break;
      }
      uv_timer_start(&watchdog_, [](uv_timer_t*) {}, 10, 10);  // wakes uv_run to re-check
      uv_run(&loop_, UV_RUN_ONCE);
    }
    if (--run_depth_ == 0) uv_timer_stop(&watchdog_);
    return ok;
  }

  /// Runs the loop for `duration` (lets in-flight work progress).
  void RunFor(std::chrono::milliseconds duration) {
    auto until = std::chrono::steady_clock::now() + duration;
    RunUntil([&] { return std::chrono::steady_clock::now() >= until; }, duration + std::chrono::seconds(1));
  }

  uv_loop_t loop_{};

 private:
  uv_timer_t watchdog_{};
  int run_depth_ = 0;
};

/// Elapsed wall time since `start`, in milliseconds.
inline long long MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

/// Connect parameters for the test server over TCP.
inline glue::MysqlConnection::ConnectParams TcpParams(const MariadbTarget& db) {
  glue::MysqlConnection::ConnectParams params;
  params.host = db.host;
  params.port = static_cast<uint16_t>(db.port);
  params.user = db.user;
  params.password = db.password;
  params.database = db.database;
  params.connect_timeout = std::chrono::seconds(5);
  return params;
}

/// The same over the unix socket.
inline glue::MysqlConnection::ConnectParams SocketParams(const MariadbTarget& db) {
  auto params = TcpParams(db);
  params.socket = db.socket;
  return params;
}

/// A pool configuration for the test server over TCP.
inline config::MariadbConfig PoolConfig(const MariadbTarget& db, int pool_size) {
  config::MariadbConfig config;
  config.host = db.host;
  config.port = static_cast<uint16_t>(db.port);
  config.user = db.user;
  config.password = db.password;
  config.database = db.database;
  config.pool_size = pool_size;
  config.connect_timeout = std::chrono::seconds(5);
  return config;
}

/// A loopback TCP port nothing listens on (bound once, then released).
inline uint16_t ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t length = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// A loopback listener that never accepts: TCP connects succeed (the kernel
/// completes them) but no MariaDB greeting ever comes.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 16);
    socklen_t length = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

/// A private mariadbd in a temporary folder, for tests that kill the server.
/// Started with --skip-grant-tables: any user name logs in over TCP.
class ThrowawayMariadb {
 public:
  ThrowawayMariadb() = default;
  ~ThrowawayMariadb() {
    Kill();
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }
  ThrowawayMariadb(const ThrowawayMariadb&) = delete;
  ThrowawayMariadb& operator=(const ThrowawayMariadb&) = delete;

  /// True when mariadbd and mariadb-install-db are installed.
  static bool Available() { return !Find("mariadbd").empty() && !Find("mariadb-install-db").empty(); }

  /// Starts the server (initialising the data folder the first time; a
  /// restart keeps the folder and the port) and waits until it takes TCP
  /// connections. Blocking: call it from the test body, not from a callback.
  bool Start(std::string* error) {
    if (dir_.empty()) {
      char pattern[] = "/tmp/sluice-dbtest-XXXXXX";
      if (::mkdtemp(pattern) == nullptr) return Fail(error, "mkdtemp failed");
      dir_ = pattern;
      port_ = ClosedPort();
      std::vector<std::string> install = {Find("mariadb-install-db"), "--no-defaults", "--datadir=" + dir_ + "/data",
                                          "--auth-root-authentication-method=normal", "--skip-test-db",
                                          "--innodb-log-file-size=4M", "--innodb-buffer-pool-size=16M"};
      if (::geteuid() == 0) install.push_back("--user=root");
      pid_t pid = Spawn(install, dir_ + "/install.log");
      int status = 0;
      if (pid <= 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return Fail(error, "mariadb-install-db failed; see " + dir_ + "/install.log");
      }
    }
    std::vector<std::string> args = {Find("mariadbd"), "--no-defaults", "--datadir=" + dir_ + "/data",
                                     "--bind-address=127.0.0.1", "--port=" + std::to_string(port_),
                                     "--socket=" + dir_ + "/mysqld.sock", "--pid-file=" + dir_ + "/mysqld.pid",
                                     "--log-error=" + dir_ + "/error.log", "--skip-grant-tables",
                                     "--skip-name-resolve", "--innodb-log-file-size=4M",
                                     "--innodb-buffer-pool-size=16M"};
    if (::geteuid() == 0) args.push_back("--user=root");
    pid_ = Spawn(args, dir_ + "/mariadbd.out");
    if (pid_ <= 0) return Fail(error, "cannot spawn mariadbd");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!Accepts()) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return Fail(error, "mariadbd exited during start-up; see " + dir_ + "/error.log");
      }
      if (std::chrono::steady_clock::now() >= deadline) return Fail(error, "mariadbd did not start in 60 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return true;
  }

  /// SIGKILL, no shutdown: safe to call from a loop callback (no waiting).
  void SigKill() {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
  }

  /// Kills the server (if running) and reaps it.
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  uint16_t port() const { return port_; }

 private:
  static std::string Find(const std::string& name) {
    for (const char* dir : {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"}) {
      std::string path = std::string(dir) + "/" + name;
      if (::access(path.c_str(), X_OK) == 0) return path;
    }
    return {};
  }

  static bool Fail(std::string* error, std::string message) {
    if (error != nullptr) *error = std::move(message);
    return false;
  }

  static pid_t Spawn(const std::vector<std::string>& args, const std::string& output) {
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0 ? pid : -1;
  }

  bool Accepts() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return ok;
  }

  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace sluice::dbtest
