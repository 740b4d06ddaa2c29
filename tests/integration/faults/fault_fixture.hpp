// FaultTest: what every fault-injection test needs — the services (the
// shared ones from SLUICE_TEST_*, or private ones a test may kill), the real
// sluice binary on them (restartable on the same conf), a seeded random
// point for the fault (the seed is printed; SLUICE_FAULT_SEED repeats a run),
// and the invariants checked after every fault: no table, no staging table,
// no object and no open multipart upload for the upload, a record that says
// why, and a server that still answers and takes the next upload.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "faults/private_services.hpp"
#include "support/services.hpp"
#include "support/sluice_process.hpp"

namespace sluice::testing {

/// The upload record as the catalog holds it.
struct CatalogRecord {
  std::string id, state, error_code;
};

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// Services: call before StartSluice. Private ones are started here.
  void UsePrivateMariadb();
  void UsePrivateRgw();

  /// Starts sluice on the services (server keys added to [server]).
  void StartSluice(const std::string& server_keys = "");
  /// A new sluice process on the same conf (after a kill or a stop).
  void RestartSluice();

  std::string Sql(const std::string& query);
  /// The <Key>s of a bucket listing (`query`: sorted parameters), one per line.
  std::string S3Keys(const std::string& query);
  /// Object keys / open multipart upload keys under `prefix` ("" when none).
  std::string ObjectsUnder(const std::string& prefix);
  std::string MultipartUploadsUnder(const std::string& prefix);
  /// The newest record of `table` in the catalog (empty id when none).
  CatalogRecord RecordOf(const std::string& table);
  /// Waits until the record of `table` leaves receiving/loading (up to 60 s).
  CatalogRecord WaitFinished(const std::string& table);

  /// The invariants after a fault that killed upload `record` into `table`.
  void ExpectNothingLeft(const CatalogRecord& record, const std::string& table);
  /// /healthz, a query and a new upload of titanic.csv all succeed.
  void ExpectServing();

  /// A byte offset in [lo, hi) of `total` from the seeded generator.
  uint64_t RandomPoint(uint64_t total, double lo = 0.1, double hi = 0.9);
  std::string Table(const std::string& base) const { return base + "_" + suffix_; }
  std::string UploadTarget(const std::string& table, const std::string& filename) const;

  MariadbTarget db_;
  S3Target s3_;
  std::unique_ptr<PrivateMariadb> private_db_;
  std::unique_ptr<PrivateRgw> private_rgw_;
  std::unique_ptr<SluiceProcess> sluice_;
  std::string server_keys_;
  std::string suffix_;
  std::mt19937_64 rng_;
  std::vector<std::string> old_logs_;  ///< logs of sluice processes before a restart
  bool services_ok_ = false;
};

}  // namespace sluice::testing
