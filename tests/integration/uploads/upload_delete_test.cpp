// DELETE /v1/uploads/{id} of a finished upload (issue 5): an admin undoes a
// load. The table the upload made and its S3 object go, the record stays and
// says so (cancelled, "deleted"); a write token gets 403 and nothing changes;
// a table another upload has since appended to is not dropped (409
// table_changed). Real binary, MariaDB and Ceph RGW.
#include <gtest/gtest.h>

#include "uploads/upload_test_support.hpp"

namespace sluice::testing::uploads {
namespace {

const std::string kAuth = "[auth]\ntokens = write:upload-delete-writer, admin:upload-delete-admin\n";
const std::vector<std::string> kWriter = {"Authorization: Bearer upload-delete-writer"};
const std::vector<std::string> kAdmin = {"Authorization: Bearer upload-delete-admin"};

class UploadDeleteTest : public UploadServerTest {
 protected:
  FetchResult Upload(const std::string& table, const std::string& mode, const std::string& csv) {
    return Fetch(Url("/v1/uploads?filename=t.csv&mode=" + mode + "&table=" + table),
                 {.method = "POST", .body = csv, .headers = {"Content-Type: text/csv", kWriter[0]}});
  }
};

TEST_F(UploadDeleteTest, AdminDropsTheTableAndTheObjectAndTheRecordSaysSo) {
  StartServer("", kAuth, kAdmin);
  std::string table = Table("deleted");
  auto done = Upload(table, "create", SimpleCsv(50, 1));
  ASSERT_EQ(done.status, 201) << done.body;
  std::string id = JsonValue(done.body, "id");
  std::string key = JsonValue(done.body, "key");
  ASSERT_TRUE(S3ObjectExists(key));

  auto as_writer = Fetch(Url("/v1/uploads/" + id), {.method = "DELETE", .headers = kWriter});
  EXPECT_EQ(as_writer.status, 403) << as_writer.body;
  EXPECT_TRUE(TableExists(table));
  EXPECT_TRUE(S3ObjectExists(key));

  auto deleted = Fetch(Url("/v1/uploads/" + id), {.method = "DELETE", .headers = kAdmin});
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(JsonValue(deleted.body, "state"), "cancelled") << deleted.body;
  EXPECT_EQ(JsonValue(deleted.body, "code"), "deleted") << deleted.body;
  EXPECT_FALSE(TableExists(table));
  EXPECT_FALSE(S3ObjectExists(key));
  EXPECT_EQ(Fetch(Url("/v1/tables/" + table), {.headers = kAdmin}).status, 404);

  auto record = Fetch(Url("/v1/uploads/" + id), {.headers = kAdmin});
  ASSERT_EQ(record.status, 200);
  EXPECT_EQ(JsonValue(record.body, "state"), "cancelled") << record.body;
  EXPECT_NE(record.body.find("dropped"), std::string::npos) << record.body;
  auto twice = Fetch(Url("/v1/uploads/" + id), {.method = "DELETE", .headers = kAdmin});
  EXPECT_EQ(twice.status, 409) << twice.body;
  // The same bytes load again: a deleted upload is no duplicate.
  EXPECT_EQ(Upload(table, "create", SimpleCsv(50, 1)).status, 201);
}

TEST_F(UploadDeleteTest, TableAppendedToSinceIsNotDropped) {
  StartServer("", kAuth, kAdmin);
  std::string table = Table("appended");
  auto first = Upload(table, "create", SimpleCsv(20, 2));
  ASSERT_EQ(first.status, 201) << first.body;
  auto second = Upload(table, "append", SimpleCsv(20, 3));
  ASSERT_EQ(second.status, 201) << second.body;
  auto refused = Fetch(Url("/v1/uploads/" + JsonValue(first.body, "id")), {.method = "DELETE", .headers = kAdmin});
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(JsonValue(refused.body, "code"), "table_changed") << refused.body;
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM `" + table + "`"), "40\n");
  EXPECT_TRUE(S3ObjectExists(JsonValue(first.body, "key")));
}

}  // namespace
}  // namespace sluice::testing::uploads
