// Shared pieces of the ingest integration tests: a loop fixture with a DbPool
// on the test MariaDB, synchronous wrappers for the async calls, and a
// synthetic row source whose every value is known, encoded into blocks.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "db/db_pool.hpp"
#include "db/db_test_support.hpp"
#include "db/table_ddl.hpp"
#include "ingest/load_encoder.hpp"
#include "ingest/loader.hpp"
#include "ingest/staged_table.hpp"

namespace sluice::testing::ingest {

using Row = std::vector<std::optional<std::string>>;
using sluice::ingest::BlockEncoder;
using sluice::ingest::EncodedBlock;
using sluice::ingest::EncoderOptions;
using sluice::ingest::Field;
using sluice::ingest::LoadMethod;

/// The value of column `c` of row `r` in the synthetic data (columns: a
/// BIGINT id, a TEXT name with awkward bytes, a DECIMAL(10,2) amount that is
/// NULL every 7th row).
inline std::optional<std::string> Value(std::uint64_t r, int c) {
  switch (c) {
    case 0: return std::to_string(r * 10);
    case 1: return "name " + std::to_string(r) + (r % 3 == 0 ? "\twith\ttabs" : r % 3 == 1 ? "\\back\nline" : " ünï");
    default:
      if (r % 7 == 0) return std::nullopt;
      return std::to_string(r % 1000) + "." + std::to_string(10 + r % 90);
  }
}

inline std::vector<db::ColumnDef> SyntheticColumns() {
  return {{"id", "BIGINT"}, {"name", "TEXT"}, {"amount", "DECIMAL(10,2)"}};
}

/// Rows first..last of the synthetic data, encoded.
inline EncodedBlock SyntheticBlock(std::uint64_t first, std::uint64_t last, LoadMethod method = LoadMethod::kLoadData,
                                   const std::string& insert_table = "", std::size_t max_statement = 1 << 20) {
  EncoderOptions options;
  options.method = method;
  options.column_count = 3;
  if (method == LoadMethod::kInsert) {
    options.insert_prefix = db::InsertPrefixSql(insert_table, db::ColumnNames(SyntheticColumns()));
    options.max_statement_bytes = max_statement;
  }
  BlockEncoder encoder(options);
  for (std::uint64_t r = first; r <= last; ++r) {
    std::optional<std::string> values[3] = {Value(r, 0), Value(r, 1), Value(r, 2)};
    std::vector<Field> fields;
    for (auto& value : values) fields.push_back(value ? Field{*value} : Field{{}, true});
    encoder.Add(r, fields);
  }
  return encoder.Finish();
}

/// A loop fixture with a pool on SLUICE_TEST_MARIADB_* (pool_ is null when
/// there is none; tests start with SLUICE_REQUIRE_MARIADB).
class IngestTest : public dbtest::LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    auto target = MariadbFromEnv();
    if (!target) return;
    pool_ = std::make_unique<db::DbPool>(&loop_, dbtest::PoolConfig(*target, 4));
  }

  void TearDown() override {
    if (pool_ != nullptr) {
      for (const auto& table : cleanup_) (void)Sync(db::DropTableSql(table));
      if (!private_database_.empty()) (void)Sync("DROP DATABASE IF EXISTS `" + private_database_ + "`");
      ShutdownPool();
    }
    LoopTest::TearDown();
  }

  void ShutdownPool() {
    bool down = false;
    pool_->Shutdown([&] { down = true; });
    EXPECT_TRUE(RunUntil([&] { return down; }));
    pool_.reset();
  }

  /// Moves pool_ to a new, empty database `sluice_test_<suffix>` (dropped at
  /// the end), for tests that need the catalog's tables to themselves.
  void UsePrivateDatabase(const std::string& suffix) {
    auto target = MariadbFromEnv();
    ASSERT_TRUE(target);
    private_database_ = "sluice_test_" + suffix;
    ASSERT_TRUE(Sync("DROP DATABASE IF EXISTS `" + private_database_ + "`"));
    ASSERT_TRUE(Sync("CREATE DATABASE `" + private_database_ + "` CHARACTER SET utf8mb4"));
    ShutdownPool();
    auto config = dbtest::PoolConfig(*target, 4);
    config.database = private_database_;
    pool_ = std::make_unique<db::DbPool>(&loop_, config);
  }

  core::Result<glue::QueryResult> Sync(std::string sql, db::DbPool* pool = nullptr) {
    std::optional<core::Result<glue::QueryResult>> result;
    (pool != nullptr ? *pool : *pool_).Query(std::move(sql), [&](core::Result<glue::QueryResult> r) {
      result.emplace(std::move(r));
    });
    if (!RunUntil([&] { return result.has_value(); }, std::chrono::seconds(60))) {
      return core::Status::Internal("query never completed");
    }
    return std::move(*result);
  }

  /// Every row of `sql`, or a failed assertion.
  std::vector<Row> Rows(std::string sql) {
    auto result = Sync(std::move(sql));
    EXPECT_TRUE(result) << result.error().message();
    return result ? result->rows : std::vector<Row>{};
  }

  std::string Scalar(std::string sql) {
    auto rows = Rows(std::move(sql));
    if (rows.size() != 1 || rows[0].empty() || !rows[0][0]) return "<none>";
    return *rows[0][0];
  }

  bool TableExists(const std::string& table) {
    return Scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                  "AND TABLE_NAME = '" + table + "'") == "1";
  }

  /// Tables whose names start with `_sluice_` (staging or swapped out).
  std::vector<std::string> InternalTables() {
    std::vector<std::string> names;
    for (const auto& row : Rows("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                                "AND TABLE_NAME LIKE '\\_sluice\\_%'")) {
      names.push_back(row[0].value_or(""));
    }
    return names;
  }

  /// Drops `table` now and at the end of the test.
  void Fresh(const std::string& table) {
    cleanup_.push_back(table);
    ASSERT_TRUE(Sync(db::DropTableSql(table)));
  }

  core::Status PrepareSync(sluice::ingest::StagedTable& staged) {
    std::optional<core::Status> status;
    staged.Prepare([&](core::Status s) { status = std::move(s); });
    if (!RunUntil([&] { return status.has_value(); }, std::chrono::seconds(60))) {
      return core::Status::Internal("Prepare never completed");
    }
    if (status->ok()) cleanup_.push_back(staged.staging_table());
    return *status;
  }

  core::Result<sluice::ingest::PublishResult> PublishSync(sluice::ingest::StagedTable& staged, std::uint64_t rows) {
    std::optional<core::Result<sluice::ingest::PublishResult>> result;
    staged.Publish(rows, [&](core::Result<sluice::ingest::PublishResult> r) { result.emplace(std::move(r)); });
    if (!RunUntil([&] { return result.has_value(); }, std::chrono::seconds(60))) {
      return core::Status::Internal("Publish never completed");
    }
    return std::move(*result);
  }

  core::Result<sluice::ingest::PublishResult> PublishDirectSync(sluice::ingest::StagedTable& staged,
                                                                std::vector<sluice::ingest::DirectBlock> blocks,
                                                                std::vector<std::string> also = {}) {
    std::optional<core::Result<sluice::ingest::PublishResult>> result;
    staged.PublishDirect(
        std::move(blocks), [&](core::Result<sluice::ingest::PublishResult> r) { result.emplace(std::move(r)); },
        std::move(also));
    if (!RunUntil([&] { return result.has_value(); }, std::chrono::seconds(60))) {
      return core::Status::Internal("PublishDirect never completed");
    }
    return std::move(*result);
  }

  core::Status DiscardSync(sluice::ingest::StagedTable& staged) {
    std::optional<core::Status> status;
    staged.Discard([&](core::Status s) { status = std::move(s); });
    if (!RunUntil([&] { return status.has_value(); })) return core::Status::Internal("Discard never completed");
    return *status;
  }

  /// Loads `blocks` through a Loader into `table`; the totals or the error.
  core::Result<sluice::ingest::LoadStats> LoadSync(const std::string& table, const std::vector<std::string>& columns,
                                                   std::vector<EncodedBlock> blocks, std::size_t max_in_flight = 0,
                                                   std::size_t* peak_in_flight = nullptr,
                                                   std::vector<sluice::ingest::BlockDone>* done_blocks = nullptr) {
    auto loader = sluice::ingest::Loader::Create(*pool_, {table, columns, max_in_flight, true});
    std::size_t peak = 0;
    loader->OnBlockDone([&, raw = loader.get()](const sluice::ingest::BlockDone& done) {
      if (done_blocks != nullptr) done_blocks->push_back(done);
      peak = std::max(peak, raw->in_flight());
    });
    for (auto& block : blocks) {
      if (!loader->Submit(std::move(block))) break;
      peak = std::max(peak, loader->in_flight());
    }
    std::optional<core::Result<sluice::ingest::LoadStats>> result;
    loader->Finish([&](core::Result<sluice::ingest::LoadStats> r) { result.emplace(std::move(r)); });
    loader.reset();  // the loader keeps itself alive while it works
    if (!RunUntil([&] { return result.has_value(); }, std::chrono::seconds(120))) {
      return core::Status::Internal("Loader never finished");
    }
    if (peak_in_flight != nullptr) *peak_in_flight = peak;
    return std::move(*result);
  }

  /// Checks that `table` holds synthetic rows first..last (with `_row` + offset).
  void ExpectSyntheticRows(const std::string& table, std::uint64_t first, std::uint64_t last,
                           std::uint64_t offset = 0) {
    auto rows = Rows("SELECT _row, id, name, amount FROM `" + table + "` WHERE _row > " + std::to_string(offset) +
                     " ORDER BY _row");
    ASSERT_EQ(rows.size(), last - first + 1);
    for (std::uint64_t r = first; r <= last; ++r) {
      const Row& row = rows[r - first];
      ASSERT_EQ(row[0], std::to_string(r + offset)) << "row " << r;
      EXPECT_EQ(row[1], Value(r, 0)) << "row " << r;
      EXPECT_EQ(row[2], Value(r, 1)) << "row " << r;
      EXPECT_EQ(row[3], Value(r, 2)) << "row " << r;
    }
  }

  std::unique_ptr<db::DbPool> pool_;
  std::vector<std::string> cleanup_;
  std::string private_database_;
};

}  // namespace sluice::testing::ingest
