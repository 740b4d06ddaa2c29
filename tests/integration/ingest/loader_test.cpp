// Loader and StagedTable against a real mariadbd: blocks submitted out of
// order over 4 connections land in file order (both load methods); never more
// than max_in_flight at once; a bad block fails the load with its rows named,
// drops the queued blocks (each still reported) and the staging table goes
// with Discard while the target stays as it was; Abort mid-load; create,
// replace and append semantics, including append with other columns (nothing
// changes), append converting into the target's types, a value that does not
// fit failing the load; and a mariadbd SIGKILLed mid-load failing cleanly,
// with the next ingest working after the restart. Every test ends with
// uv_loop_close() == 0.
#include <gtest/gtest.h>
#include <mysqld_error.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "ingest_test_support.hpp"

namespace sluice::testing::ingest {
namespace {

using sluice::ingest::BlockDone;
using sluice::ingest::Loader;
using sluice::ingest::PublishMode;
using sluice::ingest::StagedTable;
using sluice::ingest::StagedTableSpec;

/// `count` blocks of `per_block` synthetic rows each, shuffled.
std::vector<EncodedBlock> ShuffledBlocks(std::uint64_t count, std::uint64_t per_block, LoadMethod method,
                                         const std::string& table = "") {
  std::vector<EncodedBlock> blocks;
  for (std::uint64_t b = 0; b < count; ++b) {
    blocks.push_back(SyntheticBlock(b * per_block + 1, (b + 1) * per_block, method, table, 64 << 10));
  }
  std::mt19937 rng(42);
  std::shuffle(blocks.begin(), blocks.end(), rng);
  return blocks;
}

class IngestLoaderTest : public IngestTest {
 protected:
  /// Prepares a staged table for `table` with the synthetic columns.
  std::shared_ptr<StagedTable> Staged(const std::string& table, PublishMode mode, const std::string& upload_id,
                                      std::vector<db::ColumnDef> columns = SyntheticColumns()) {
    return StagedTable::Create(*pool_, StagedTableSpec{table, mode, std::move(columns), upload_id});
  }

  /// Prepare + load rows first..last + publish, in one go.
  core::Result<sluice::ingest::PublishResult> Ingest(const std::string& table, PublishMode mode,
                                                     const std::string& upload_id, std::uint64_t first,
                                                     std::uint64_t last) {
    auto staged = Staged(table, mode, upload_id);
    core::Status prepared = PrepareSync(*staged);
    if (!prepared.ok()) return prepared;
    std::vector<EncodedBlock> blocks;
    for (std::uint64_t r = first; r <= last; r += 100) blocks.push_back(SyntheticBlock(r, std::min(last, r + 99)));
    auto loaded = LoadSync(staged->staging_table(), staged->column_names(), std::move(blocks));
    if (!loaded) {
      EXPECT_TRUE(DiscardSync(*staged).ok());
      return loaded.error();
    }
    return PublishSync(*staged, loaded->rows);
  }
};

TEST_F(IngestLoaderTest, OutOfOrderBlocksLandInFileOrder) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  for (LoadMethod method : {LoadMethod::kLoadData, LoadMethod::kInsert}) {
    std::string table = method == LoadMethod::kLoadData ? "ing_order_load" : "ing_order_insert";
    Fresh(table);
    auto sql = db::CreateTableSql(table, SyntheticColumns());
    ASSERT_TRUE(Sync(*sql));
    std::size_t peak = 0;
    std::vector<BlockDone> done;
    auto stats = LoadSync(table, db::ColumnNames(SyntheticColumns()), ShuffledBlocks(24, 250, method, table), 0,
                          &peak, &done);
    ASSERT_TRUE(stats) << stats.error().message();
    EXPECT_EQ(stats->rows, 6000u);
    EXPECT_EQ(stats->blocks, 24u);
    EXPECT_GT(stats->bytes, 0u);
    EXPECT_LE(peak, 4u);  // the pool's size
    EXPECT_GE(peak, 2u);  // and really parallel
    ASSERT_EQ(done.size(), 24u);
    EXPECT_TRUE(std::all_of(done.begin(), done.end(), [](const BlockDone& d) { return d.loaded; }));
    ExpectSyntheticRows(table, 1, 6000);
  }
}

TEST_F(IngestLoaderTest, ThreeIngestsInParallelShareThePool) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  struct One {
    std::string table;
    std::shared_ptr<StagedTable> staged;
    std::shared_ptr<Loader> loader;
    std::optional<core::Status> prepared;
    std::optional<core::Result<sluice::ingest::LoadStats>> loaded;
    std::optional<core::Result<sluice::ingest::PublishResult>> published;
  };
  std::vector<One> ingests(3);
  for (std::size_t i = 0; i < ingests.size(); ++i) {
    One& one = ingests[i];
    one.table = "ing_parallel_" + std::to_string(i);
    Fresh(one.table);
    one.staged = Staged(one.table, PublishMode::kCreate, "01PARALLEL00000000000000" + std::to_string(i));
    one.staged->Prepare([&one](core::Status s) { one.prepared = s; });
  }
  ASSERT_TRUE(RunUntil([&] {
    return std::all_of(ingests.begin(), ingests.end(), [](const One& o) { return o.prepared.has_value(); });
  }));
  for (auto& one : ingests) {
    ASSERT_TRUE(one.prepared->ok()) << one.prepared->message();
    cleanup_.push_back(one.staged->staging_table());
    one.loader = Loader::Create(*pool_, {one.staged->staging_table(), one.staged->column_names(), 0, true});
  }
  // Interleaved submissions, each ingest's blocks out of order.
  std::vector<std::vector<EncodedBlock>> blocks;
  for (std::size_t i = 0; i < ingests.size(); ++i) blocks.push_back(ShuffledBlocks(10, 200, LoadMethod::kLoadData));
  for (std::size_t b = 0; b < 10; ++b) {
    for (std::size_t i = 0; i < ingests.size(); ++i) ASSERT_TRUE(ingests[i].loader->Submit(std::move(blocks[i][b])));
  }
  for (auto& one : ingests) {
    one.loader->Finish([&one](core::Result<sluice::ingest::LoadStats> r) {
      one.loaded.emplace(std::move(r));
      if (!*one.loaded) return;
      one.staged->Publish((*one.loaded)->rows, [&one](core::Result<sluice::ingest::PublishResult> p) {
        one.published.emplace(std::move(p));
      });
    });
  }
  ASSERT_TRUE(RunUntil([&] {
    return std::all_of(ingests.begin(), ingests.end(), [](const One& o) {
      return o.published.has_value() || (o.loaded.has_value() && !*o.loaded);
    });
  }, std::chrono::seconds(60)));
  for (auto& one : ingests) {
    ASSERT_TRUE(*one.loaded) << one.loaded->error().message();
    ASSERT_TRUE(*one.published) << one.published->error().message();
    ExpectSyntheticRows(one.table, 1, 2000);
  }
  EXPECT_TRUE(InternalTables().empty());
  EXPECT_LE(pool_->stats().in_use, 0u);
}

TEST_F(IngestLoaderTest, MaxInFlightIsRespected) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_one_at_a_time");
  ASSERT_TRUE(Sync(*db::CreateTableSql("ing_one_at_a_time", SyntheticColumns())));
  std::size_t peak = 0;
  auto stats = LoadSync("ing_one_at_a_time", db::ColumnNames(SyntheticColumns()),
                        ShuffledBlocks(6, 100, LoadMethod::kLoadData), 1, &peak);
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(peak, 1u);
  ExpectSyntheticRows("ing_one_at_a_time", 1, 600);
}

TEST_F(IngestLoaderTest, BadBlockFailsTheLoadAndDiscardLeavesNothing) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_fail_target");
  ASSERT_TRUE(Ingest("ing_fail_target", PublishMode::kCreate, "01FAILTARGET0000000000000A", 1, 50));

  auto staged = Staged("ing_fail_target", PublishMode::kReplace, "01FAILTARGET0000000000000B");
  ASSERT_TRUE(PrepareSync(*staged).ok());
  std::vector<EncodedBlock> blocks;
  for (std::uint64_t b = 0; b < 30; ++b) blocks.push_back(SyntheticBlock(b * 100 + 1, (b + 1) * 100));
  // Block 3 holds a value that is not a number for the BIGINT column.
  ingest::EncoderOptions options;
  options.column_count = 3;
  BlockEncoder bad(options);
  std::vector<Field> fields = {Field{"not a number"}, Field{"x"}, Field{"1.00"}};
  bad.Add(201, fields);
  blocks[2] = bad.Finish();
  std::vector<BlockDone> done;
  auto stats = LoadSync(staged->staging_table(), staged->column_names(), std::move(blocks), 2, nullptr, &done);
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().message().find("rows 201..201"), std::string::npos) << stats.error().message();
  EXPECT_NE(stats.error().message().find("not a number"), std::string::npos) << stats.error().message();
  EXPECT_EQ(done.size(), 30u);  // every accepted block reported, loaded or dropped
  EXPECT_GT(std::count_if(done.begin(), done.end(), [](const BlockDone& d) { return !d.loaded; }), 20);

  ASSERT_TRUE(DiscardSync(*staged).ok());
  EXPECT_TRUE(InternalTables().empty());
  ExpectSyntheticRows("ing_fail_target", 1, 50);  // untouched
}

TEST_F(IngestLoaderTest, AbortStopsTheLoad) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_abort");
  ASSERT_TRUE(Sync(*db::CreateTableSql("ing_abort", SyntheticColumns())));
  auto loader = Loader::Create(*pool_, {"ing_abort", db::ColumnNames(SyntheticColumns()), 2, true});
  std::vector<BlockDone> done;
  loader->OnBlockDone([&](const BlockDone& d) { done.push_back(d); });
  for (std::uint64_t b = 0; b < 20; ++b) ASSERT_TRUE(loader->Submit(SyntheticBlock(b * 100 + 1, (b + 1) * 100)));
  loader->Abort(core::Status::Invalid("client went away"));
  EXPECT_TRUE(loader->failed());
  EXPECT_FALSE(loader->Submit(SyntheticBlock(5000, 5001)));  // refused: the caller keeps it
  std::optional<core::Result<sluice::ingest::LoadStats>> result;
  loader->Finish([&](core::Result<sluice::ingest::LoadStats> r) { result.emplace(std::move(r)); });
  EXPECT_FALSE(result.has_value());  // never inside the call
  ASSERT_TRUE(RunUntil([&] { return result.has_value() && done.size() == 20; }));
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().message(), "client went away");
  EXPECT_EQ(done.size(), 20u);
}

TEST_F(IngestLoaderTest, CreateRefusesAnExistingTableBeforeLoading) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_create");
  auto first = Ingest("ing_create", PublishMode::kCreate, "01CREATE000000000000000001", 1, 120);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->rows_added, 120u);
  ExpectSyntheticRows("ing_create", 1, 120);

  auto staged = Staged("ing_create", PublishMode::kCreate, "01CREATE000000000000000002");
  core::Status again = PrepareSync(*staged);
  EXPECT_EQ(again.domain(), core::ErrorDomain::kConflict) << again.message();
  EXPECT_TRUE(InternalTables().empty());
  ExpectSyntheticRows("ing_create", 1, 120);
}

TEST_F(IngestLoaderTest, CreateLosesTheRaceCleanly) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_race");
  auto staged = Staged("ing_race", PublishMode::kCreate, "01RACE00000000000000000001");
  ASSERT_TRUE(PrepareSync(*staged).ok());
  auto stats = LoadSync(staged->staging_table(), staged->column_names(), {SyntheticBlock(1, 10)});
  ASSERT_TRUE(stats);
  EXPECT_FALSE(TableExists("ing_race"));  // nothing visible before Publish
  ASSERT_TRUE(Sync("CREATE TABLE ing_race (x INT)"));  // someone else wins meanwhile
  auto published = PublishSync(*staged, stats->rows);
  ASSERT_FALSE(published);
  EXPECT_EQ(published.error().domain(), core::ErrorDomain::kConflict);
  EXPECT_TRUE(InternalTables().empty());
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                   "AND TABLE_NAME = 'ing_race'"),
            "1");  // theirs, untouched
}

TEST_F(IngestLoaderTest, ReplaceSwapsAtomically) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_replace");
  auto none = Ingest("ing_replace", PublishMode::kReplace, "01REPLACE00000000000000001", 1, 30);
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_TRUE(none->created);  // replace without a table creates it
  auto swapped = Ingest("ing_replace", PublishMode::kReplace, "01REPLACE00000000000000002", 1001, 1250);
  ASSERT_TRUE(swapped) << swapped.error().message();
  EXPECT_TRUE(swapped->replaced);
  EXPECT_EQ(swapped->rows_added, 250u);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ing_replace"), "250");
  EXPECT_EQ(Scalar("SELECT MIN(_row) FROM ing_replace"), "1001");
  EXPECT_TRUE(InternalTables().empty());  // staging renamed, old one dropped
}

TEST_F(IngestLoaderTest, ReplaceChangesColumns) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_replace_cols");
  ASSERT_TRUE(Ingest("ing_replace_cols", PublishMode::kCreate, "01REPLCOLS0000000000000001", 1, 5));
  auto staged = Staged("ing_replace_cols", PublishMode::kReplace, "01REPLCOLS0000000000000002",
                       {{"other", "TEXT"}});
  ASSERT_TRUE(PrepareSync(*staged).ok());
  ingest::EncoderOptions options;
  options.column_count = 1;
  BlockEncoder encoder(options);
  std::vector<Field> fields = {Field{"only"}};
  encoder.Add(1, fields);
  auto stats = LoadSync(staged->staging_table(), staged->column_names(), {encoder.Finish()});
  ASSERT_TRUE(stats);
  ASSERT_TRUE(PublishSync(*staged, stats->rows));
  auto rows = Rows("SELECT * FROM ing_replace_cols");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (Row{"1", "only"}));
}

TEST_F(IngestLoaderTest, AppendOffsetsRowsInOneTransaction) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_append");
  auto created = Ingest("ing_append", PublishMode::kAppend, "01APPEND000000000000000001", 1, 40);
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_TRUE(created->created);  // append without a table creates it
  auto appended = Ingest("ing_append", PublishMode::kAppend, "01APPEND000000000000000002", 1, 60);
  ASSERT_TRUE(appended) << appended.error().message();
  EXPECT_EQ(appended->row_offset, 40u);
  EXPECT_EQ(appended->rows_added, 60u);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ing_append"), "100");
  ExpectSyntheticRows("ing_append", 1, 60, 40);  // the second file, after the first
  EXPECT_TRUE(InternalTables().empty());
}

TEST_F(IngestLoaderTest, AppendWithOtherColumnsChangesNothing) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_append_bad");
  ASSERT_TRUE(Ingest("ing_append_bad", PublishMode::kCreate, "01APPBAD000000000000000001", 1, 10));
  auto staged = Staged("ing_append_bad", PublishMode::kAppend, "01APPBAD000000000000000002",
                       {{"id", "BIGINT"}, {"nom", "TEXT"}, {"amount", "DECIMAL(10,2)"}, {"extra", "TEXT"}});
  core::Status status = PrepareSync(*staged);
  ASSERT_EQ(status.domain(), core::ErrorDomain::kInvalid) << status.message();
  EXPECT_NE(status.message().find("not in the table: nom, extra"), std::string::npos) << status.message();
  EXPECT_NE(status.message().find("missing from the file: name"), std::string::npos) << status.message();
  EXPECT_TRUE(InternalTables().empty());
  ExpectSyntheticRows("ing_append_bad", 1, 10);
}

TEST_F(IngestLoaderTest, AppendTakesTheTargetTypesAndNames) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_append_types");
  ASSERT_TRUE(Ingest("ing_append_types", PublishMode::kCreate, "01APPTYP000000000000000001", 1, 3));
  // The file: other order, other case, narrower inferred types.
  auto staged = Staged("ing_append_types", PublishMode::kAppend, "01APPTYP000000000000000002",
                       {{"AMOUNT", "BIGINT"}, {"Name", "TEXT"}, {"ID", "BIGINT"}});
  ASSERT_TRUE(PrepareSync(*staged).ok());
  ASSERT_EQ(staged->columns().size(), 3u);
  EXPECT_EQ(staged->columns()[0], (db::ColumnDef{"amount", "DECIMAL(10,2)"}));
  EXPECT_EQ(staged->columns()[1], (db::ColumnDef{"name", "TEXT"}));
  EXPECT_EQ(staged->columns()[2], (db::ColumnDef{"id", "BIGINT"}));
  ingest::EncoderOptions options;
  options.column_count = 3;
  BlockEncoder encoder(options);
  std::vector<Field> fields = {Field{"7"}, Field{"seven"}, Field{"70"}};
  encoder.Add(1, fields);
  auto stats = LoadSync(staged->staging_table(), staged->column_names(), {encoder.Finish()});
  ASSERT_TRUE(stats) << stats.error().message();
  auto published = PublishSync(*staged, stats->rows);
  ASSERT_TRUE(published) << published.error().message();
  auto rows = Rows("SELECT _row, id, name, amount FROM ing_append_types WHERE _row = 4");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (Row{"4", "70", "seven", "7.00"}));
}

TEST_F(IngestLoaderTest, AppendValueThatDoesNotFitFailsCleanly) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_append_fit");
  ASSERT_TRUE(Ingest("ing_append_fit", PublishMode::kCreate, "01APPFIT000000000000000001", 1, 5));
  auto staged = Staged("ing_append_fit", PublishMode::kAppend, "01APPFIT000000000000000002",
                       {{"id", "TEXT"}, {"name", "TEXT"}, {"amount", "TEXT"}});
  ASSERT_TRUE(PrepareSync(*staged).ok());
  ingest::EncoderOptions options;
  options.column_count = 3;
  BlockEncoder encoder(options);
  std::vector<Field> fields = {Field{"12"}, Field{"n"}, Field{"123456789.5"}};  // too wide for DECIMAL(10,2)
  encoder.Add(1, fields);
  auto stats = LoadSync(staged->staging_table(), staged->column_names(), {encoder.Finish()});
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().message().find("amount"), std::string::npos) << stats.error().message();
  ASSERT_TRUE(DiscardSync(*staged).ok());
  EXPECT_TRUE(InternalTables().empty());
  ExpectSyntheticRows("ing_append_fit", 1, 5);
}

// A small append loads direct: Prepare makes no staging table, PublishDirect
// LOADs the blocks into the target in one transaction with `_row` after the
// target's end, and the `also` statements commit with the rows.
TEST_F(IngestLoaderTest, DirectAppendLoadsIntoTheTargetWithNoStagingTable) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_direct");
  Fresh("ing_direct_marks");
  ASSERT_TRUE(Sync("CREATE TABLE ing_direct_marks (m INT)"));
  ASSERT_TRUE(Ingest("ing_direct", PublishMode::kCreate, "01DIRECT000000000000000001", 1, 40));
  StagedTableSpec spec{"ing_direct", PublishMode::kAppend, SyntheticColumns(), "01DIRECT000000000000000002"};
  int asked = 0;
  spec.load_direct = [&] { return ++asked > 0; };
  auto staged = StagedTable::Create(*pool_, std::move(spec));
  ASSERT_TRUE(PrepareSync(*staged).ok());
  EXPECT_EQ(asked, 1);
  ASSERT_TRUE(staged->direct());
  EXPECT_TRUE(InternalTables().empty()) << "a direct append made a staging table";
  std::vector<sluice::ingest::DirectBlock> blocks;
  blocks.push_back({SyntheticBlock(31, 60), 3});  // blocks in any order: `_row` says where
  blocks.push_back({SyntheticBlock(1, 30), 3});
  auto published = PublishDirectSync(*staged, std::move(blocks), {"INSERT INTO ing_direct_marks VALUES (1)"});
  ASSERT_TRUE(published) << published.error().message();
  EXPECT_EQ(published->row_offset, 40u);
  EXPECT_EQ(published->rows_added, 60u);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ing_direct"), "100");
  ExpectSyntheticRows("ing_direct", 1, 60, 40);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ing_direct_marks"), "1");
  EXPECT_TRUE(DiscardSync(*staged).ok());  // nothing to drop, no statement
  EXPECT_TRUE(InternalTables().empty());
}

// All or nothing: a value the target's type would alter (a warning) in the
// second block rolls back the first block's rows and the `also` statements.
TEST_F(IngestLoaderTest, DirectAppendThatDoesNotFitChangesNothing) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_direct_fit");
  Fresh("ing_direct_fit_marks");
  ASSERT_TRUE(Sync("CREATE TABLE ing_direct_fit_marks (m INT)"));
  ASSERT_TRUE(Ingest("ing_direct_fit", PublishMode::kCreate, "01DIRFIT000000000000000001", 1, 5));
  StagedTableSpec spec{"ing_direct_fit", PublishMode::kAppend, SyntheticColumns(), "01DIRFIT000000000000000002"};
  spec.load_direct = [] { return true; };
  auto staged = StagedTable::Create(*pool_, std::move(spec));
  ASSERT_TRUE(PrepareSync(*staged).ok());
  ASSERT_TRUE(staged->direct());
  ingest::EncoderOptions options;
  options.column_count = 3;
  BlockEncoder encoder(options);
  std::vector<Field> fields = {Field{"12"}, Field{"n"}, Field{"123456789.5"}};  // too wide for DECIMAL(10,2)
  encoder.Add(11, fields);
  std::vector<sluice::ingest::DirectBlock> blocks;
  blocks.push_back({SyntheticBlock(1, 10), 3});
  blocks.push_back({encoder.Finish(), 3});
  auto published = PublishDirectSync(*staged, std::move(blocks), {"INSERT INTO ing_direct_fit_marks VALUES (1)"});
  ASSERT_FALSE(published);
  EXPECT_NE(published.error().message().find("amount"), std::string::npos) << published.error().message();
  EXPECT_NE(published.error().message().find("rows 11..11"), std::string::npos) << published.error().message();
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ing_direct_fit"), "5");
  ExpectSyntheticRows("ing_direct_fit", 1, 5);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM ing_direct_fit_marks"), "0");
  EXPECT_TRUE(InternalTables().empty());
}

// Direct is asked only when appending to a table that exists: without one the
// append creates the table through a staging table, as before.
TEST_F(IngestLoaderTest, DirectIsNotAskedWithoutATarget) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  Fresh("ing_direct_new");
  StagedTableSpec spec{"ing_direct_new", PublishMode::kAppend, SyntheticColumns(), "01DIRNEW000000000000000001"};
  int asked = 0;
  spec.load_direct = [&] { return ++asked > 0; };
  auto staged = StagedTable::Create(*pool_, std::move(spec));
  ASSERT_TRUE(PrepareSync(*staged).ok());
  EXPECT_EQ(asked, 0);
  EXPECT_FALSE(staged->direct());
  EXPECT_EQ(InternalTables().size(), 1u);
  EXPECT_TRUE(DiscardSync(*staged).ok());
  EXPECT_TRUE(InternalTables().empty());
}

TEST_F(IngestLoaderTest, PauseWidenResume) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  Fresh("ing_widen");
  // Inference saw integers first: amount is BIGINT.
  std::vector<db::ColumnDef> narrow = {{"id", "BIGINT"}, {"amount", "BIGINT"}};
  auto staged = Staged("ing_widen", PublishMode::kCreate, "01WIDEN0000000000000000001", narrow);
  ASSERT_TRUE(PrepareSync(*staged).ok());
  auto block = [](std::uint64_t first, std::uint64_t last, bool decimals) {
    ingest::EncoderOptions options;
    options.column_count = 2;
    BlockEncoder encoder(options);
    for (std::uint64_t r = first; r <= last; ++r) {
      std::string id = std::to_string(r), amount = std::to_string(r) + (decimals ? ".25" : "");
      std::vector<Field> fields = {Field{id}, Field{amount}};
      encoder.Add(r, fields);
    }
    return encoder.Finish();
  };
  auto loader = Loader::Create(*pool_, {staged->staging_table(), staged->column_names(), 2, true});
  for (std::uint64_t b = 0; b < 4; ++b) ASSERT_TRUE(loader->Submit(block(b * 100 + 1, (b + 1) * 100, false)));
  // Then a block with decimals: hold it, let the loads drain, widen, go on.
  loader->Pause();
  ASSERT_TRUE(loader->Submit(block(401, 500, true)));
  std::optional<core::Status> widened;
  std::vector<db::ColumnDef> wide = {{"id", "BIGINT"}, {"amount", "DECIMAL(20,2)"}};
  loader->WhenIdle([&] {
    EXPECT_EQ(loader->in_flight(), 0u);
    EXPECT_EQ(loader->queued(), 3u);  // two integer blocks beyond max_in_flight, and the held one
    staged->AlterColumns(wide, [&](core::Status s) {
      widened = s;
      loader->Resume();
    });
  });
  ASSERT_TRUE(RunUntil([&] { return widened.has_value(); }, std::chrono::seconds(60)));
  ASSERT_TRUE(widened->ok()) << widened->message();
  EXPECT_EQ(staged->columns(), wide);
  std::optional<core::Result<sluice::ingest::LoadStats>> stats;
  loader->Finish([&](core::Result<sluice::ingest::LoadStats> r) { stats.emplace(std::move(r)); });
  ASSERT_TRUE(RunUntil([&] { return stats.has_value(); }, std::chrono::seconds(60)));
  ASSERT_TRUE(*stats) << stats->error().message();
  EXPECT_EQ((*stats)->rows, 500u);
  ASSERT_TRUE(PublishSync(*staged, (*stats)->rows));
  EXPECT_EQ(Scalar("SELECT CONCAT(SUM(amount), '/', MAX(amount), '/', COUNT(*)) FROM ing_widen"),
            "125275.00/500.25/500");
  EXPECT_EQ(Scalar("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                   "AND TABLE_NAME = 'ing_widen' AND COLUMN_NAME = 'amount'"),
            "decimal");

  // An append to an existing table keeps the table's types.
  auto append = Staged("ing_widen", PublishMode::kAppend, "01WIDEN0000000000000000002", wide);
  ASSERT_TRUE(PrepareSync(*append).ok());
  std::optional<core::Status> refused;
  append->AlterColumns({{"id", "TEXT"}, {"amount", "TEXT"}}, [&](core::Status s) { refused = s; });
  ASSERT_TRUE(RunUntil([&] { return refused.has_value(); }));
  EXPECT_EQ(refused->domain(), core::ErrorDomain::kInvalid);
  ASSERT_TRUE(DiscardSync(*append).ok());
}

TEST_F(IngestLoaderTest, PrepareRejectsBadInputWithoutTouchingTheDatabase) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  auto reserved = Staged("_sluice_stage_x", PublishMode::kCreate, "01BAD00000000000000000001");
  EXPECT_EQ(PrepareSync(*reserved).domain(), core::ErrorDomain::kInvalid);
  std::vector<db::ColumnDef> wide;
  for (int i = 0; i < 400; ++i) wide.push_back({"c" + std::to_string(i), "TEXT"});
  auto too_wide = Staged("ing_wide", PublishMode::kCreate, "01BAD00000000000000000002", wide);
  core::Status status = PrepareSync(*too_wide);
  EXPECT_EQ(status.domain(), core::ErrorDomain::kLimit) << status.message();
  EXPECT_FALSE(TableExists("ing_wide"));
  EXPECT_TRUE(InternalTables().empty());
}

TEST_F(IngestLoaderTest, WidestTablesTheLimitsAllowAreCreated) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  // The row-size rule in table_ddl is measured; check it against this server.
  struct Case {
    const char* type;
    std::size_t fits;
  };
  for (Case c : {Case{"TEXT", 383}, Case{"BIGINT", 996}, Case{"DECIMAL(65,30)", 268}}) {
    std::vector<db::ColumnDef> columns;
    for (std::size_t i = 0; i < c.fits; ++i) columns.push_back({"c" + std::to_string(i), c.type});
    Fresh("ing_edge");
    auto ok = Sync(*db::CreateTableSql("ing_edge", columns));
    EXPECT_TRUE(ok) << c.type << " × " << c.fits << ": " << ok.error().message();
    columns.push_back({"one_more", c.type});
    ASSERT_TRUE(Sync(db::DropTableSql("ing_edge")));
    EXPECT_FALSE(db::CheckColumns(columns).ok());
    // What the server says about one more (with the check bypassed).
    std::string sql = "CREATE TABLE ing_edge (_row BIGINT NOT NULL PRIMARY KEY";
    for (const auto& column : columns) sql += ", `" + column.name + "` " + column.sql_type;
    sql += ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
    auto refused = Sync(sql);
    EXPECT_FALSE(refused) << c.type << " × " << columns.size();
    if (!refused) {
      EXPECT_EQ(refused.error().code(), ER_TOO_BIG_ROWSIZE);
    }
  }
}

TEST_F(IngestLoaderTest, DatabaseKilledMidLoadFailsCleanly) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;  // the fixture's pool is on it
  if (!dbtest::ThrowawayMariadb::Available()) GTEST_SKIP() << "mariadbd not installed";
  dbtest::ThrowawayMariadb server;
  std::string error;
  ASSERT_TRUE(server.Start(&error)) << error;
  config::MariadbConfig config;
  config.host = "127.0.0.1";
  config.port = server.port();
  config.user = "root";
  config.database = "mysql";
  config.pool_size = 3;
  config.connect_timeout = std::chrono::seconds(5);
  auto pool = std::make_unique<db::DbPool>(&loop_, config);
  ASSERT_TRUE(Sync("CREATE DATABASE ingtest", pool.get()));
  bool closed = false;
  pool->Shutdown([&] { closed = true; });
  ASSERT_TRUE(RunUntil([&] { return closed; }));
  pool.reset();
  config.database = "ingtest";
  pool = std::make_unique<db::DbPool>(&loop_, config);

  auto staged = StagedTable::Create(*pool, {"killed", PublishMode::kCreate, SyntheticColumns(), "01KILLED00000000000000001"});
  std::optional<core::Status> prepared;
  staged->Prepare([&](core::Status s) { prepared = s; });
  ASSERT_TRUE(RunUntil([&] { return prepared.has_value(); }));
  ASSERT_TRUE(prepared->ok()) << prepared->message();

  auto loader = Loader::Create(*pool, {staged->staging_table(), staged->column_names(), 0, true});
  int loaded = 0;
  loader->OnBlockDone([&](const BlockDone& d) {
    if (d.loaded && ++loaded == 3) server.SigKill();  // mid-load, blocks still in flight and queued
  });
  for (std::uint64_t b = 0; b < 200; ++b) {
    ASSERT_TRUE(loader->Submit(SyntheticBlock(b * 2000 + 1, (b + 1) * 2000)));
  }
  std::optional<core::Result<sluice::ingest::LoadStats>> result;
  loader->Finish([&](core::Result<sluice::ingest::LoadStats> r) { result.emplace(std::move(r)); });
  loader.reset();
  ASSERT_TRUE(RunUntil([&] { return result.has_value(); }, std::chrono::seconds(60)));
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().domain(), core::ErrorDomain::kDb) << result->error().message();
  EXPECT_TRUE(glue::IsConnectionLost(result->error()) || result->error().code() == 2003 ||
              result->error().code() == 2002)
      << result->error().message();

  // The cleanup path while the server is down fails; after the restart it works.
  std::optional<core::Status> discarded;
  staged->Discard([&](core::Status s) { discarded = s; });
  ASSERT_TRUE(RunUntil([&] { return discarded.has_value(); }, std::chrono::seconds(30)));
  EXPECT_FALSE(discarded->ok());
  server.Kill();
  ASSERT_TRUE(server.Start(&error)) << error;
  discarded.reset();
  staged->Discard([&](core::Status s) { discarded = s; });
  ASSERT_TRUE(RunUntil([&] { return discarded.has_value(); }, std::chrono::seconds(30)));
  ASSERT_TRUE(discarded->ok()) << discarded->message();
  auto left = Sync("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ingtest'", pool.get());
  ASSERT_TRUE(left) << left.error().message();
  EXPECT_EQ(left->rows[0][0], "0");

  // The next ingest works.
  auto next = StagedTable::Create(*pool, {"killed", PublishMode::kCreate, SyntheticColumns(), "01KILLED00000000000000002"});
  prepared.reset();
  next->Prepare([&](core::Status s) { prepared = s; });
  ASSERT_TRUE(RunUntil([&] { return prepared.has_value(); }));
  ASSERT_TRUE(prepared->ok()) << prepared->message();
  auto again = Loader::Create(*pool, {next->staging_table(), next->column_names(), 0, true});
  again->Submit(SyntheticBlock(1, 100));
  result.reset();
  again->Finish([&](core::Result<sluice::ingest::LoadStats> r) { result.emplace(std::move(r)); });
  again.reset();
  ASSERT_TRUE(RunUntil([&] { return result.has_value(); }));
  ASSERT_TRUE(*result) << result->error().message();
  std::optional<core::Result<sluice::ingest::PublishResult>> published;
  next->Publish((*result)->rows, [&](core::Result<sluice::ingest::PublishResult> r) { published.emplace(std::move(r)); });
  ASSERT_TRUE(RunUntil([&] { return published.has_value(); }));
  ASSERT_TRUE(*published) << published->error().message();
  auto count = Sync("SELECT COUNT(*) FROM killed", pool.get());
  ASSERT_TRUE(count);
  EXPECT_EQ(count->rows[0][0], "100");

  bool down = false;
  pool->Shutdown([&] { down = true; });
  ASSERT_TRUE(RunUntil([&] { return down; }));
  pool.reset();
}

}  // namespace
}  // namespace sluice::testing::ingest
