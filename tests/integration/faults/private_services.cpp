// See private_services.hpp.
#include "faults/private_services.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/http_client.hpp"

namespace sluice::testing {
namespace {

const std::string kEnvScripts = std::string(SLUICE_SOURCE_DIR) + "/tests/env/";

bool PortFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string MakeTempDir(const char* what) {
  std::string pattern = std::string("/tmp/sluice-") + what + "-XXXXXX";
  return ::mkdtemp(pattern.data());
}

pid_t ReadPid(const std::string& file) {
  std::ifstream in(file);
  pid_t pid = -1;
  in >> pid;
  return pid;
}

bool RunScript(const std::string& command, std::string* error) {
  int rc = 0;
  std::string out = RunCommand(command + " 2>&1", &rc);
  if (rc != 0 && error != nullptr) *error = command + " failed:\n" + out;
  return rc == 0;
}

}  // namespace

int FreePortBase(int count) {
  if (const char* fixed = std::getenv("SLUICE_TEST_FAULT_PORT_BASE"); fixed != nullptr && std::atoi(fixed) > 0) {
    // Several services in one test: each asks for its own block above the last.
    static int next = std::atoi(fixed);
    int base = next;
    next += count;
    return base;
  }
  // Below the ephemeral range (32768+ here): while a killed server is down,
  // the many reconnects to its port can draw that same port as their own
  // source port and connect to themselves (TCP simultaneous open), and then
  // the restarted server cannot bind it. Spread over 22000–30000 by pid, then
  // look for a free block.
  int base = 22000 + static_cast<int>(::getpid() % 800) * 10;
  for (int tries = 0; tries < 200; ++tries, base += count + 3) {
    if (base + count >= 30000) base = 22000;
    bool free = true;
    for (int p = base; p < base + count && free; ++p) free = PortFree(p);
    if (free) return base;
  }
  return base;
}

void WaitGone(pid_t pid) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return;
    auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && (line[close + 2] == 'Z' || line[close + 2] == 'X')) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// ---- MariaDB ------------------------------------------------------------------

PrivateMariadb::~PrivateMariadb() {
  if (dir_.empty()) return;
  RunCommand(kEnvScripts + "mariadb.sh stop " + dir_ + "/mariadb " + std::to_string(port_) + " >/dev/null 2>&1");
  if (std::getenv("SLUICE_TEST_KEEP_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool PrivateMariadb::Start(std::string* error) {
  dir_ = MakeTempDir("faultdb");
  port_ = FreePortBase(1);
  if (!Restart(error)) return false;
  target_.host = "127.0.0.1";
  target_.port = port_;
  target_.socket = dir_ + "/mariadb/mysqld.sock";
  target_.root_socket = target_.socket;
  target_.user = "sluice";
  target_.password = "sluice";
  target_.database = "sluice_test";
  return true;
}

bool PrivateMariadb::Restart(std::string* error) {
  // Right after a SIGKILL the start can fail once (the old server's port or
  // files not yet released on a loaded machine): try again before giving up.
  std::string output;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string failure;
    if (RunScript(kEnvScripts + "mariadb.sh start " + dir_ + "/mariadb " + std::to_string(port_), &failure)) {
      return true;
    }
    output += failure + "\n";
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (error != nullptr) *error = output;
  return false;
}

void PrivateMariadb::Kill9() {
  pid_t pid = ReadPid(dir_ + "/mariadb/mysqld.pid");
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  WaitGone(pid);
}

// ---- Ceph RGW -------------------------------------------------------------------

PrivateRgw::~PrivateRgw() {
  if (dir_.empty()) return;
  RunCommand(kEnvScripts + "rgw.sh stop " + dir_ + "/rgw " + std::to_string(port_) + " >/dev/null 2>&1");
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool PrivateRgw::Start(std::string* error) {
  dir_ = MakeTempDir("faultrgw");
  port_ = FreePortBase(3);  // radosgw, then its monitor's two ports
  if (!RunScript(kEnvScripts + "rgw.sh start " + dir_ + "/rgw " + std::to_string(port_), error)) return false;
  target_.endpoint = "http://127.0.0.1:" + std::to_string(port_);
  target_.access_key = "SLUICETESTRGWACCESS0";
  target_.secret_key = "sluiceTestRgwSecretKey000000000000000000";
  target_.bucket = "sluice-test";
  return true;
}

void PrivateRgw::Kill9() {
  pid_t pid = ReadPid(dir_ + "/rgw/pids/rgw.pid");
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  WaitGone(pid);
}

bool PrivateRgw::Restart(std::string* error) {
  // As rgw.sh spawns it: its own session, its exact pid in the pid file.
  std::string rgw = dir_ + "/rgw";
  RunCommand("setsid bash -c 'echo $$ >\"$0\"; exec \"$@\"' " + rgw + "/pids/rgw.pid radosgw -c " + rgw +
             "/ceph.conf -n client.rgw.a -f </dev/null >>" + rgw + "/log/rgw.out 2>&1 &");
  for (int i = 0; i < 600; ++i) {
    if (RunCommand("curl -s -o /dev/null -m 2 -w '%{http_code}' " + target_.endpoint + "/") == "200") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (error != nullptr) *error = "radosgw did not answer again within 60 s";
  return false;
}

}  // namespace sluice::testing
