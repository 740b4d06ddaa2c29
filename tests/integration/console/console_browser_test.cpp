// The web console end to end in a real browser: headless Debian Chromium
// driven by playwright-core (npm, in var/npm — tests/env/deps.sh installs
// both) through console_e2e.cjs, against the real binary with auth on, a real
// MariaDB and S3 (s3rver). The script uploads titanic.csv through the page and
// checks what a user sees (see its header); this test starts the server,
// runs the script and fails with its output. Screenshots of every step land
// in build/tests/console-screenshots/. Like every integration test it skips
// without its services — chromium and playwright-core count as services — and
// fails instead under SLUICE_TEST_REQUIRE_SERVICES=1.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "support/http_client.hpp"
#include "support/services.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing {
namespace {

constexpr const char* kChromium = "/usr/bin/chromium";
constexpr const char* kToken = "console-e2e-admin-token";

/// A node >= 20 (playwright-core's need): the one on PATH, else deps.sh's.
std::string FindNode() {
  std::string script =
      "for n in node " SLUICE_SOURCE_DIR "/var/npm/node_modules/node-linux-*/bin/node; do "
      "command -v \"$n\" >/dev/null 2>&1 || continue; "
      "[ \"$(\"$n\" -p 'process.versions.node.split(\".\")[0]' 2>/dev/null)\" -ge 20 ] 2>/dev/null && "
      "{ command -v \"$n\"; exit 0; }; done; exit 1";
  int rc = 0;
  std::string out = RunCommand(script, &rc);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return rc == 0 ? out : "";
}

TEST(ConsoleBrowser, UploadBrowseSortFilterDownloadInChromium) {
  SLUICE_REQUIRE_MARIADB(db);
  SLUICE_REQUIRE_S3(s3, "SLUICE_TEST_S3RVER");
  std::string playwright = std::string(SLUICE_SOURCE_DIR) + "/var/npm/node_modules/playwright-core";
  std::string node = FindNode();
  std::string missing;
  if (::access(kChromium, X_OK) != 0) missing += " /usr/bin/chromium";
  if (!std::filesystem::exists(playwright + "/package.json")) missing += " " + playwright;
  if (node.empty()) missing += " node>=20";
  if (!missing.empty()) {
    if (ServicesRequired()) FAIL() << "missing (run tests/env/deps.sh):" << missing;
    GTEST_SKIP() << "missing (run tests/env/deps.sh):" << missing;
  }

  SluiceProcess server;
  server.WriteConf("", "[auth]\ntokens = admin:" + std::string(kToken) + "\n[mariadb]\nhost = 127.0.0.1\nport = " +
                           std::to_string(db.port) + "\nuser = " + db.user + "\npassword = " + db.password +
                           "\ndatabase = " + db.database + "\n[s3]\nendpoint = " + s3.endpoint +
                           "\nbucket = " + s3.bucket + "\npath_style = true\naccess_key = " + s3.access_key +
                           "\nsecret_key = " + s3.secret_key + "\n");
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  bool ready = false;
  for (int i = 0; i < 100 && !ready; ++i) {
    ready = Fetch(server.Url("/v1/uploads?limit=1"), {.headers = {std::string("Authorization: Bearer ") + kToken}})
                .status == 200;
    if (!ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(ready) << "the catalog never became ready\n" << server.Log();

  std::string shots = SLUICE_CONSOLE_SCREENSHOT_DIR;
  std::filesystem::create_directories(shots);
  std::string table = "titanic_console_" + std::to_string(::getpid());
  std::string command = "cd " + server.dir() + " && SLUICE_URL=" + server.Url("") + " SLUICE_TOKEN=" + kToken +
                        " SLUICE_TABLE=" + table + " SLUICE_CSV=" + SLUICE_SHARED_DATA_DIR "/titanic.csv" +
                        " SLUICE_SCREENSHOTS=" + shots + " SLUICE_CHROMIUM=" + kChromium +
                        " SLUICE_PLAYWRIGHT=" + playwright + " " + node + " " SLUICE_CONSOLE_E2E_SCRIPT " 2>&1";
  int rc = -1;
  std::string output = RunCommand(command, &rc);
  std::cout << output;
  EXPECT_EQ(rc, 0) << "console_e2e.cjs failed:\n" << output << "\n--- sluice log ---\n" << server.Log();
  server.Signal(SIGTERM);
  auto exit_code = server.Wait(std::chrono::seconds(30));
  EXPECT_EQ(exit_code, 0) << server.Log();
}

}  // namespace
}  // namespace sluice::testing
