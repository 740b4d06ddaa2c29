// Private, throw-away MariaDB and Ceph RGW instances for the fault tests,
// which kill them: never the shared ones the SLUICE_TEST_* variables point
// to. They are started with the same tests/env scripts as CI's, in a temp
// folder of their own, on free ports found at start (or from
// SLUICE_TEST_FAULT_PORT_BASE), and stopped and removed by the destructor.
// Kill9() sends SIGKILL to the daemon itself (mariadbd, radosgw) and waits
// until it is gone; Restart() brings it back on the same data and ports.
#pragma once

#include <sys/types.h>

#include <string>

#include "support/services.hpp"

namespace sluice::testing {

/// The first of `count` consecutive free TCP ports on 127.0.0.1.
int FreePortBase(int count);

class PrivateMariadb {
 public:
  PrivateMariadb() = default;
  ~PrivateMariadb();
  PrivateMariadb(const PrivateMariadb&) = delete;
  PrivateMariadb& operator=(const PrivateMariadb&) = delete;

  /// Initialises and starts the server; false with the script's output in `error`.
  bool Start(std::string* error);
  /// SIGKILL of mariadbd; returns once the process is gone.
  void Kill9();
  /// Starts mariadbd again on the same datadir (InnoDB crash recovery).
  bool Restart(std::string* error);
  const MariadbTarget& target() const { return target_; }

 private:
  std::string dir_;
  int port_ = 0;
  MariadbTarget target_;
};

class PrivateRgw {
 public:
  PrivateRgw() = default;
  ~PrivateRgw();
  PrivateRgw(const PrivateRgw&) = delete;
  PrivateRgw& operator=(const PrivateRgw&) = delete;

  /// A one-node cluster (mon, memstore OSD, radosgw) and its bucket.
  bool Start(std::string* error);
  /// SIGKILL of radosgw only (the monitor and the OSD keep the data).
  void Kill9();
  /// Starts radosgw again; returns once S3 answers.
  bool Restart(std::string* error);
  const S3Target& target() const { return target_; }

 private:
  std::string dir_;
  int port_ = 0;
  S3Target target_;
};

/// Waits (up to 30 s) until `pid` is gone or a zombie.
void WaitGone(pid_t pid);

}  // namespace sluice::testing
