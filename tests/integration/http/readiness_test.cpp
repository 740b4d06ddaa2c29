// /readyz against real dependencies: MariaDB and Ceph RGW up → 200 with every
// check "ok"; a dependency down or refusing our keys → 503 naming it, while
// /healthz stays 200.
#include <gtest/gtest.h>

#include "support/http_client.hpp"
#include "support/services.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing {
namespace {

std::string MariadbSection(const MariadbTarget& db, int port_override = 0) {
  return "[mariadb]\nhost = 127.0.0.1\nport = " + std::to_string(port_override != 0 ? port_override : db.port) +
         "\nuser = " + db.user + "\npassword = " + db.password + "\ndatabase = " + db.database +
         "\nconnect_timeout = 2s\n";
}

std::string S3Section(const S3Target& s3, const std::string& secret_override = "") {
  return "[s3]\nendpoint = " + s3.endpoint + "\nbucket = " + s3.bucket + "\npath_style = true\naccess_key = " +
         s3.access_key + "\nsecret_key = " + (secret_override.empty() ? s3.secret_key : secret_override) + "\n";
}

TEST(Readiness, ReadyWhenMariadbAndS3Answer) {
  SLUICE_REQUIRE_MARIADB(db);
  SLUICE_REQUIRE_S3(s3, "SLUICE_TEST_RGW");
  SluiceProcess server;
  server.WriteConf("", MariadbSection(db) + S3Section(s3));
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  auto result = Fetch(server.Url("/readyz"));
  EXPECT_EQ(result.status, 200) << result.body << server.Log();
  EXPECT_EQ(result.body, R"({"status":"ready","checks":{"mariadb":"ok","s3":"ok"}})");
}

TEST(Readiness, NotReadyWhenMariadbIsDown) {
  SLUICE_REQUIRE_MARIADB(db);
  SLUICE_REQUIRE_S3(s3, "SLUICE_TEST_RGW");
  SluiceProcess server;
  server.WriteConf("", MariadbSection(db, 1) + S3Section(s3));  // nothing listens on port 1
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  auto result = Fetch(server.Url("/readyz"));
  EXPECT_EQ(result.status, 503) << result.body;
  EXPECT_NE(result.body.find(R"("code":"not_ready")"), std::string::npos) << result.body;
  EXPECT_NE(result.body.find(R"("message":"mariadb: )"), std::string::npos) << result.body;
  EXPECT_NE(result.body.find(R"("s3":"ok")"), std::string::npos) << result.body;
  EXPECT_NE(result.headers.find("Retry-After: 5"), std::string::npos);
  EXPECT_EQ(Fetch(server.Url("/healthz")).status, 200);
}

TEST(Readiness, NotReadyWhenS3RefusesTheKeys) {
  SLUICE_REQUIRE_MARIADB(db);
  SLUICE_REQUIRE_S3(s3, "SLUICE_TEST_RGW");
  SluiceProcess server;
  server.WriteConf("", MariadbSection(db) + S3Section(s3, "wrong-secret-key-0000000000000000000000"));
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  auto result = Fetch(server.Url("/readyz"));
  EXPECT_EQ(result.status, 503) << result.body;
  EXPECT_NE(result.body.find(R"("mariadb":"ok")"), std::string::npos) << result.body;
  EXPECT_NE(result.body.find("403"), std::string::npos) << result.body;
}

}  // namespace
}  // namespace sluice::testing
