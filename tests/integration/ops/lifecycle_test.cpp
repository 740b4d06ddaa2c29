// Reload and stop through the real binary. SIGHUP changes a request limit
// while a keep-alive connection stays open (the same connection sees the new
// limit). SIGTERM during an upload: one whose body completes within
// shutdown_grace finishes (201, table published) and the process exits 0;
// one still receiving when the grace runs out is cancelled through the one
// cleanup path (record failed/"interrupted", no table, no staging table) and
// the process exits 0. The upload cases need MariaDB and RGW.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "ops_fixture.hpp"

namespace sluice::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(OpsReload, SighupChangesABodyLimitOnAnOpenConnection) {
  SluiceProcess server;
  server.WriteConf("max_upload_bytes = 64K\n");  // /v1/_test/echo takes upload-sized bodies
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  RawConnection c(server.port());
  const std::string body(4096, 'b');
  auto post = [&] {
    EXPECT_TRUE(c.Send("POST /v1/_test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n" + body));
    auto response = c.ReadResponse();
    return response ? response->status : 0;
  };
  EXPECT_EQ(post(), 200);
  server.WriteConf("max_upload_bytes = 1K\n");
  server.Signal(SIGHUP);
  ASSERT_TRUE(server.WaitForNotify("RELOADING=1", seconds(5)));
  for (int i = 0; i < 50 && server.Log().find("reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(post(), 413) << server.Log();  // the same connection, the new limit
}

/// Sends the head and the first bytes of a CSV upload and leaves the body open.
class OpsStopTest : public OpsFixture {
 protected:
  std::string StartOpenUpload(RawConnection& c, const std::string& table, std::size_t length) {
    EXPECT_TRUE(c.Send("POST /v1/uploads?filename=stop.csv&table=" + table +
                       " HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: " +
                       std::to_string(length) + "\r\n\r\n" + kFirst));
    for (int i = 0; i < 200; ++i) {
      std::string list = Fetch(server_->Url("/v1/uploads?limit=1")).body;
      if (JsonValue(list, "table") == table && JsonValue(list, "state") == "receiving") {
        return JsonValue(list, "id");
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    ADD_FAILURE() << "the upload never showed as receiving";
    return "";
  }
  const std::string kFirst = "id,name\n1,first\n";
  const std::string kRest = "2,second\n3,third\n";
};

TEST_F(OpsStopTest, AnUploadThatCompletesWithinTheGraceFinishes) {
  StartServer("shutdown_grace = 20s\n");
  std::string table = Table("stop_finish");
  RawConnection c(server_->port());
  std::string id = StartOpenUpload(c, table, kFirst.size() + kRest.size());
  ASSERT_FALSE(id.empty());
  server_->Signal(SIGTERM);
  ASSERT_TRUE(server_->WaitForNotify("STOPPING=1", seconds(5)));
  ASSERT_TRUE(c.Send(kRest));
  auto response = c.ReadResponse(seconds(20));
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 201) << response->body;
  EXPECT_EQ(server_->Wait(seconds(20)), 0);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM `" + table + "`"), "3\n");
  EXPECT_EQ(Sql("SELECT state FROM sluice_uploads WHERE id = '" + id + "'"), "done\n");
}

TEST_F(OpsStopTest, AnUploadStillReceivingAfterTheGraceIsCancelledThroughCleanup) {
  StartServer("shutdown_grace = 1s\n");
  std::string table = Table("stop_cancel");
  RawConnection c(server_->port());
  std::string id = StartOpenUpload(c, table, 10'000'000);
  ASSERT_FALSE(id.empty());
  server_->Signal(SIGTERM);
  EXPECT_EQ(server_->Wait(seconds(30)), 0) << server_->Log();
  EXPECT_EQ(Sql("SELECT state, error_code FROM sluice_uploads WHERE id = '" + id + "'"), "failed\tinterrupted\n");
  EXPECT_EQ(Sql("SHOW TABLES LIKE '" + table + "'"), "");
  EXPECT_EQ(Sql("SHOW TABLES LIKE '\\_sluice\\_stage%'"), "");
}

}  // namespace
}  // namespace sluice::testing
