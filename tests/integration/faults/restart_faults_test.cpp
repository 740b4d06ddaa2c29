// sluice itself stopped mid-upload: SIGTERM with a short shutdown_grace (the
// upload is cancelled through its cleanup path before the process exits),
// and SIGKILL (nothing runs: the next start's recovery marks the record
// failed/interrupted, drops the staging tables and aborts the multipart
// upload). The moment comes from the seeded generator; after the restart the
// invariants of FaultTest hold and the next upload succeeds.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "faults/fault_fixture.hpp"
#include "faults/upload_driver.hpp"
#include "support/http_client.hpp"

namespace sluice::testing {
namespace {

using std::chrono::seconds;

class RestartFaultTest : public FaultTest {};

TEST_F(RestartFaultTest, SigtermMidUploadCancelsItThenRestartServes) {
  StartSluice("shutdown_grace = 1s\n");
  std::string table = Table("sigterm");
  auto file = GeneratedCsv::OfSize(uint64_t{24} << 20);
  UploadDriver upload(sluice_->port(), UploadTarget(table, "sigterm.csv"), file);
  ASSERT_TRUE(upload.connected());
  ASSERT_TRUE(upload.SendUntil(RandomPoint(file.size()), seconds(120))) << "sent " << upload.sent();
  sluice_->Signal(SIGTERM);
  // The rest of the body is held back until the process has gone, so the
  // upload is still receiving when the grace ends, however fast the machine
  // (sending it on let an idle machine finish the upload within the 1 s).
  EXPECT_EQ(sluice_->Wait(seconds(60)), 0);
  upload.Close();
  CatalogRecord stopped = RecordOf(table);
  EXPECT_EQ(stopped.state, "failed");  // recorded by the stopping server itself
  EXPECT_EQ(stopped.error_code, "interrupted");
  RestartSluice();
  CatalogRecord record = RecordOf(table);
  EXPECT_EQ(record.error_code, "interrupted");
  ExpectNothingLeft(record, table);
  ExpectServing();
}

TEST_F(RestartFaultTest, Kill9MidUploadThenRestartRecovers) {
  StartSluice();
  std::string table = Table("kill9");
  auto file = GeneratedCsv::OfSize(uint64_t{24} << 20);
  UploadDriver upload(sluice_->port(), UploadTarget(table, "kill9.csv"), file);
  ASSERT_TRUE(upload.connected());
  ASSERT_TRUE(upload.SendUntil(RandomPoint(file.size()), seconds(120))) << "sent " << upload.sent();
  sluice_->Signal(SIGKILL);
  EXPECT_EQ(sluice_->Wait(seconds(30)), 128 + SIGKILL);
  upload.Close();
  CatalogRecord killed = RecordOf(table);
  EXPECT_TRUE(killed.state == "receiving" || killed.state == "loading") << killed.state;
  RestartSluice();  // recovery runs before the catalog is ready
  CatalogRecord record = RecordOf(table);
  EXPECT_EQ(record.state, "failed");
  EXPECT_EQ(record.error_code, "interrupted");
  ExpectNothingLeft(record, table);
  ExpectServing();
}

}  // namespace
}  // namespace sluice::testing
