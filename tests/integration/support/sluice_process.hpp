// SluiceProcess: runs the real `sluice serve` binary for a test — its own
// temp dir and conf (listen 127.0.0.1:0, test routes on, plus the test's own
// lines), its stderr in a log file, and a real AF_UNIX datagram socket as
// $NOTIFY_SOCKET: Start() returns once the server sent READY=1, and reads the
// port it took from its STATUS= line. Every message the server sends to the
// notify socket is kept for assertions (STOPPING=1, WATCHDOG=1, ...).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice::testing {

class SluiceProcess {
 public:
  SluiceProcess();
  ~SluiceProcess();
  SluiceProcess(const SluiceProcess&) = delete;
  SluiceProcess& operator=(const SluiceProcess&) = delete;

  /// Writes the conf: a [server] section with `server_keys` (plus
  /// listen = 127.0.0.1:0 and test_routes = true unless they are given), then
  /// `other_sections` verbatim.
  void WriteConf(const std::string& server_keys, const std::string& other_sections = "");
  /// Starts the binary; false (with the log in `error`) if it exits or is not
  /// ready within `timeout`.
  bool Start(std::string* error, std::chrono::milliseconds timeout = std::chrono::seconds(15),
             const std::map<std::string, std::string>& extra_env = {});
  /// Sends a signal.
  void Signal(int signum) const;
  /// Waits for the process to exit; returns its exit code (128+signal when
  /// killed), or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  /// Kills (SIGKILL) if still running.
  void Kill();

  /// Reads notify messages that arrived so far (non-blocking) and returns all.
  const std::vector<std::string>& NotifyMessages();
  /// Waits until a notify message contains `needle`.
  bool WaitForNotify(const std::string& needle, std::chrono::milliseconds timeout);

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string Log() const;
  const std::string& dir() const { return dir_; }
  const std::string& conf_path() const { return conf_path_; }
  std::string Url(const std::string& path) const;

 private:
  std::string dir_;
  std::string conf_path_;
  std::string log_path_;
  std::string notify_path_;
  int notify_fd_ = -1;
  pid_t pid_ = -1;
  int port_ = 0;
  std::vector<std::string> notify_messages_;
};

}  // namespace sluice::testing
