// The systemd notify protocol (sd_notify(3)), spoken directly: one datagram
// "READY=1", "STOPPING=1", "RELOADING=1", "WATCHDOG=1", "STATUS=…" to the
// AF_UNIX socket named by $NOTIFY_SOCKET (a leading '@' means the abstract
// namespace). Without $NOTIFY_SOCKET every call is a no-op, so the same binary
// runs under systemd and by hand. The protocol is five lines of socket code —
// not worth a libsystemd dependency.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::loop {

class SdNotifier {
 public:
  /// Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID.
  SdNotifier();
  SdNotifier(const SdNotifier&) = delete;
  SdNotifier& operator=(const SdNotifier&) = delete;
  ~SdNotifier();

  bool enabled() const { return fd_ >= 0; }
  /// Sends one message (several "KEY=value" lines may be joined by '\n').
  /// Never blocks (MSG_DONTWAIT); returns false when nothing was sent.
  bool Notify(std::string_view message) const;
  /// The watchdog ping interval (half of WATCHDOG_USEC) when systemd asked
  /// this process for pings, else nullopt.
  std::optional<std::chrono::milliseconds> WatchdogInterval() const { return watchdog_interval_; }

 private:
  int fd_ = -1;
  std::string path_;
  std::optional<std::chrono::milliseconds> watchdog_interval_;
};

}  // namespace sluice::loop
