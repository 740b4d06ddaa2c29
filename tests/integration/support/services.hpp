// Where the real services of the integration tests are. tests/env/*.sh start
// them and export these variables; a test calls RequireMariadb()/RequireRgw()/
// RequireS3rver(), which skips when the variable is absent — or fails when
// SLUICE_TEST_REQUIRE_SERVICES=1 (the README's test command and CI set it, so
// a missing service there can never pass as a skip).
//
//   SLUICE_TEST_MARIADB_HOST / _PORT / _SOCKET / _USER / _PASSWORD / _DATABASE
//   SLUICE_TEST_MARIADB_ROOT_SOCKET      root login over the socket (admin work)
//   SLUICE_TEST_RGW_ENDPOINT / _ACCESS_KEY / _SECRET_KEY / _BUCKET   (Ceph RGW)
//   SLUICE_TEST_S3RVER_ENDPOINT / _ACCESS_KEY / _SECRET_KEY / _BUCKET (s3rver)
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace sluice::testing {

inline std::string Env(const char* name, const char* fallback = "") {
  const char* value = std::getenv(name);
  return value != nullptr ? value : fallback;
}

inline bool ServicesRequired() { return Env("SLUICE_TEST_REQUIRE_SERVICES") == "1"; }

struct MariadbTarget {
  std::string host, socket, user, password, database, root_socket;
  int port = 0;
};

struct S3Target {
  std::string endpoint, access_key, secret_key, bucket;
};

inline std::optional<MariadbTarget> MariadbFromEnv() {
  if (Env("SLUICE_TEST_MARIADB_PORT").empty()) return std::nullopt;
  MariadbTarget t;
  t.host = Env("SLUICE_TEST_MARIADB_HOST", "127.0.0.1");
  t.port = std::atoi(Env("SLUICE_TEST_MARIADB_PORT").c_str());
  t.socket = Env("SLUICE_TEST_MARIADB_SOCKET");
  t.user = Env("SLUICE_TEST_MARIADB_USER", "sluice");
  t.password = Env("SLUICE_TEST_MARIADB_PASSWORD");
  t.database = Env("SLUICE_TEST_MARIADB_DATABASE", "sluice_test");
  t.root_socket = Env("SLUICE_TEST_MARIADB_ROOT_SOCKET", t.socket.c_str());
  return t;
}

inline std::optional<S3Target> S3FromEnv(const std::string& prefix) {
  std::string endpoint = Env((prefix + "_ENDPOINT").c_str());
  if (endpoint.empty()) return std::nullopt;
  return S3Target{endpoint, Env((prefix + "_ACCESS_KEY").c_str()),
                  Env((prefix + "_SECRET_KEY").c_str()), Env((prefix + "_BUCKET").c_str(), "sluice")};
}

}  // namespace sluice::testing

/// Skips the test (or fails it when services are required) without MariaDB.
#define SLUICE_REQUIRE_MARIADB(var)                                                   \
  auto var##_opt = ::sluice::testing::MariadbFromEnv();                               \
  if (!var##_opt) {                                                                   \
    if (::sluice::testing::ServicesRequired()) FAIL() << "SLUICE_TEST_MARIADB_* unset"; \
    GTEST_SKIP() << "no MariaDB: SLUICE_TEST_MARIADB_PORT unset";                     \
  }                                                                                   \
  const ::sluice::testing::MariadbTarget& var = *var##_opt

/// The same for an S3 endpoint; `prefix` is SLUICE_TEST_RGW or SLUICE_TEST_S3RVER.
#define SLUICE_REQUIRE_S3(var, prefix)                                                \
  auto var##_opt = ::sluice::testing::S3FromEnv(prefix);                              \
  if (!var##_opt) {                                                                   \
    if (::sluice::testing::ServicesRequired()) FAIL() << prefix "_* unset";           \
    GTEST_SKIP() << "no S3: " prefix "_ENDPOINT unset";                               \
  }                                                                                   \
  const ::sluice::testing::S3Target& var = *var##_opt
