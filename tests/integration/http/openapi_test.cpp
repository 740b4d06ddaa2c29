// /openapi.json stays true: every route the running server mounts (but the
// test-only /v1/_test/*) is documented with its method, routes that need a
// role declare bearer security, and every documented operation exists.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>

#include "support/http_client.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(OpenApi, DocumentsEveryRouteAndNothingElse) {
  SluiceProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  auto doc_result = Fetch(server.Url("/openapi.json"));
  ASSERT_EQ(doc_result.status, 200);
  auto routes_result = Fetch(server.Url("/v1/_test/routes"));
  ASSERT_EQ(routes_result.status, 200);

  simdjson::dom::parser doc_parser;
  simdjson::dom::element doc;
  ASSERT_EQ(doc_parser.parse(doc_result.body).get(doc), simdjson::SUCCESS) << "openapi.json is not JSON";
  std::string_view version;
  ASSERT_EQ(doc["openapi"].get(version), simdjson::SUCCESS);
  EXPECT_EQ(version.substr(0, 2), "3.");
  simdjson::dom::object paths;
  ASSERT_EQ(doc["paths"].get(paths), simdjson::SUCCESS);

  std::set<std::string> documented;  // "get /v1/uploads/{id}"
  for (auto [path, item] : paths) {
    simdjson::dom::object operations;
    ASSERT_EQ(item.get(operations), simdjson::SUCCESS);
    for (auto [method, operation] : operations) {
      documented.insert(std::string(method) + " " + std::string(path));
    }
  }

  simdjson::dom::parser routes_parser;
  simdjson::dom::array routes;
  ASSERT_EQ(routes_parser.parse(routes_result.body).get(routes), simdjson::SUCCESS);
  std::set<std::string> mounted;
  for (auto route : routes) {
    std::string_view method, pattern, role;
    ASSERT_EQ(route["method"].get(method), simdjson::SUCCESS);
    ASSERT_EQ(route["pattern"].get(pattern), simdjson::SUCCESS);
    ASSERT_EQ(route["role"].get(role), simdjson::SUCCESS);
    if (pattern.rfind("/v1/_test/", 0) == 0) continue;
    std::string key = Lower(std::string(method)) + " " + std::string(pattern);
    mounted.insert(key);
    EXPECT_TRUE(documented.count(key) != 0) << "route not in openapi.json: " << key;
    simdjson::dom::element operation;
    if (paths[pattern][Lower(std::string(method))].get(operation) == simdjson::SUCCESS) {
      simdjson::dom::array security;
      bool has_security = operation["security"].get(security) == simdjson::SUCCESS && security.size() > 0;
      EXPECT_EQ(has_security, role != "none") << key << " (role " << role << ")";
    }
  }
  for (const auto& key : documented) EXPECT_TRUE(mounted.count(key) != 0) << "documented but not mounted: " << key;
  EXPECT_GE(mounted.size(), 4u);
}

}  // namespace
}  // namespace sluice::testing
