// Catalog against a real mariadbd, in a database of its own: Init creates the
// tables and the version row and is idempotent, refuses a newer schema; the
// upload record round trip (create, progress, finish, get) with every field;
// unknown ids are kNotFound; listing newest first with a cursor; the duplicate
// lookup by (table, sha256); Recover marks running uploads interrupted and
// drops leftover staging tables; table entries; and StagedTable::Publish with
// the catalog's statements — in the append transaction (a failing one rolls
// the rows back too) and after a create.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/ids.hpp"
#include "db/catalog.hpp"
#include "ingest_test_support.hpp"

namespace sluice::testing::ingest {
namespace {

using db::Catalog;
using db::UploadRecord;
using db::UploadState;

class IngestCatalogTest : public IngestTest {
 protected:
  void SetUp() override {
    IngestTest::SetUp();
    if (pool_ == nullptr) return;
    UsePrivateDatabase("catalog");
    catalog_ = std::make_unique<Catalog>(*pool_);
    ASSERT_TRUE(InitSync().ok());
  }

  void TearDown() override {
    catalog_.reset();
    IngestTest::TearDown();
  }

  core::Status InitSync() {
    std::optional<core::Status> status;
    catalog_->Init([&](core::Status s) { status = std::move(s); });
    if (!RunUntil([&] { return status.has_value(); }, std::chrono::seconds(60))) return core::Status::Internal("hang");
    return *status;
  }

  template <class T, class Call>
  core::Result<T> Await(Call call) {
    std::optional<core::Result<T>> result;
    call([&](core::Result<T> r) { result.emplace(std::move(r)); });
    if (!RunUntil([&] { return result.has_value(); })) return core::Status::Internal("hang");
    return std::move(*result);
  }

  template <class Call>
  core::Status AwaitStatus(Call call) {
    std::optional<core::Status> status;
    call([&](core::Status s) { status = std::move(s); });
    if (!RunUntil([&] { return status.has_value(); })) return core::Status::Internal("hang");
    return *status;
  }

  static UploadRecord NewRecord(const std::string& id, const std::string& table = "plays") {
    UploadRecord r;
    r.id = id;
    r.state = UploadState::kReceiving;
    r.table = table;
    r.mode = "create";
    r.filename = "plays 'big' ünï.csv";
    r.created_at_ms = db::NowMs();
    return r;
  }

  std::unique_ptr<Catalog> catalog_;
};

TEST_F(IngestCatalogTest, InitIsIdempotentAndVersioned) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  EXPECT_EQ(Scalar("SELECT version FROM sluice_schema_version"), std::to_string(db::kCatalogSchemaVersion));
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                   "AND TABLE_NAME IN ('sluice_schema_version', 'sluice_uploads', 'sluice_tables')"),
            "3");
  ASSERT_TRUE(AwaitStatus([&](auto cb) { catalog_->CreateUpload(NewRecord("01KEEP0000000000000000000A"), cb); }).ok());
  ASSERT_TRUE(InitSync().ok());  // again: nothing lost
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM sluice_uploads"), "1");
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM sluice_schema_version"), "1");
  // Two at once: the lock serializes them.
  std::optional<core::Status> a, b;
  catalog_->Init([&](core::Status s) { a = s; });
  catalog_->Init([&](core::Status s) { b = s; });
  ASSERT_TRUE(RunUntil([&] { return a.has_value() && b.has_value(); }));
  EXPECT_TRUE(a->ok()) << a->message();
  EXPECT_TRUE(b->ok()) << b->message();

  ASSERT_TRUE(Sync("UPDATE sluice_schema_version SET version = 99"));
  core::Status newer = InitSync();
  EXPECT_FALSE(newer.ok());
  EXPECT_NE(newer.message().find("newer"), std::string::npos) << newer.message();
}

TEST_F(IngestCatalogTest, UploadRecordRoundTrip) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  UploadRecord r = NewRecord(core::NewUlid());
  ASSERT_TRUE(AwaitStatus([&](auto cb) { catalog_->CreateUpload(r, cb); }).ok());
  auto got = Await<UploadRecord>([&](auto cb) { catalog_->GetUpload(r.id, cb); });
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, r);

  db::UploadProgress progress{r.id, UploadState::kLoading, 1000, 50, 40, 2};
  ASSERT_TRUE(AwaitStatus([&](auto cb) { catalog_->UpdateProgress(progress, cb); }).ok());
  got = Await<UploadRecord>([&](auto cb) { catalog_->GetUpload(r.id, cb); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, UploadState::kLoading);
  EXPECT_EQ(got->bytes_received, 1000u);
  EXPECT_EQ(got->rows_loaded, 40u);
  // The same progress again changes nothing but still finds the record.
  EXPECT_TRUE(AwaitStatus([&](auto cb) { catalog_->UpdateProgress(progress, cb); }).ok());

  r.state = UploadState::kFailed;
  r.bytes_received = 123456789012;
  r.sha256 = std::string(64, 'f');
  r.rows_total = 1001;
  r.rows_loaded = 0;
  r.rows_rejected = 1001;
  r.columns = {{"Song", "Song ", "TEXT"}, {"Plays", "Plays", "BIGINT"}, {"ünï `x`", "ünï `x`", "DECIMAL(10,2)"}};
  for (int i = 0; i < 1000; ++i) r.rejected.push_back({static_cast<std::uint64_t>(i + 2), "expected 2 fields, found 3"});
  r.s3_bucket = "sluice";
  r.s3_key = "uploads/" + r.id + "/plays.csv";
  r.s3_etag = "\"d41d8cd98f00b204e9800998ecf8427e-3\"";
  r.error_code = "db_error";
  r.error_message = "rows 1..100: 'x' is not a number\nsecond line";
  r.finished_at_ms = r.created_at_ms + 1500;
  r.duration_ms = 1500;
  ASSERT_TRUE(AwaitStatus([&](auto cb) { catalog_->FinishUpload(r, cb); }).ok());
  got = Await<UploadRecord>([&](auto cb) { catalog_->GetUpload(r.id, cb); });
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, r);
  EXPECT_EQ(db::UploadRecordJson(*got), db::UploadRecordJson(r));

  auto missing = Await<UploadRecord>([&](auto cb) { catalog_->GetUpload("01NOPE", cb); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().domain(), core::ErrorDomain::kNotFound);
  db::UploadProgress unknown{"01NOPE", UploadState::kLoading, 1, 1, 1, 1};
  EXPECT_EQ(AwaitStatus([&](auto cb) { catalog_->UpdateProgress(unknown, cb); }).domain(),
            core::ErrorDomain::kNotFound);
  EXPECT_EQ(AwaitStatus([&](auto cb) { catalog_->FinishUpload(NewRecord("01NOPE"), cb); }).domain(),
            core::ErrorDomain::kNotFound);
  // The same id twice is refused.
  EXPECT_FALSE(AwaitStatus([&](auto cb) { catalog_->CreateUpload(r, cb); }).ok());
}

TEST_F(IngestCatalogTest, ListsNewestFirstWithCursor) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) {
    std::string id = core::FormatUlid(1700000000000 + i, 0, static_cast<std::uint64_t>(i));
    ids.push_back(id);
    ASSERT_TRUE(AwaitStatus([&](auto cb) { catalog_->CreateUpload(NewRecord(id), cb); }).ok());
  }
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page = Await<db::UploadPage>([&](auto cb) { catalog_->ListUploads(10, cursor, cb); });
    ASSERT_TRUE(page) << page.error().message();
    for (const auto& record : page->uploads) seen.push_back(record.id);
    cursor = page->next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  std::vector<std::string> newest_first(ids.rbegin(), ids.rend());
  EXPECT_EQ(seen, newest_first);
}

TEST_F(IngestCatalogTest, FindsDuplicateUploadsByTableAndHash) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  std::string sha(64, 'c');
  UploadRecord failed = NewRecord("01DUP000000000000000000001");
  failed.sha256 = sha;
  failed.state = UploadState::kFailed;
  UploadRecord done = NewRecord("01DUP000000000000000000002");
  done.sha256 = sha;
  done.state = UploadState::kDone;
  UploadRecord other_table = NewRecord("01DUP000000000000000000003", "other");
  other_table.sha256 = sha;
  other_table.state = UploadState::kDone;
  for (const auto& r : {failed, done, other_table}) {
    ASSERT_TRUE(AwaitStatus([&](auto cb) { catalog_->CreateUpload(r, cb); }).ok());
  }
  auto found = Await<std::optional<UploadRecord>>([&](auto cb) { catalog_->FindUpload("plays", sha, cb); });
  ASSERT_TRUE(found) << found.error().message();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, done.id);
  auto none = Await<std::optional<UploadRecord>>(
      [&](auto cb) { catalog_->FindUpload("plays", std::string(64, 'd'), cb); });
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST_F(IngestCatalogTest, RecoverMarksRunningUploadsInterrupted) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  UploadRecord receiving = NewRecord("01REC0000000000000000000001");
  UploadRecord loading = NewRecord("01REC0000000000000000000002");
  loading.state = UploadState::kLoading;
  UploadRecord done = NewRecord("01REC0000000000000000000003");
  done.state = UploadState::kDone;
  done.finished_at_ms = done.created_at_ms + 5;
  done.duration_ms = 5;
  for (const auto& r : {receiving, loading, done}) {
    ASSERT_TRUE(AwaitStatus([&](auto cb) { catalog_->CreateUpload(r, cb); }).ok());
  }
  ASSERT_TRUE(Sync(*db::CreateTableSql(db::StagingTableName(loading.id), SyntheticColumns())));
  ASSERT_TRUE(Sync(*db::CreateTableSql(db::ReplacedTableName("01OLD"), SyntheticColumns())));
  ASSERT_TRUE(Sync(*db::CreateTableSql("user_table", SyntheticColumns())));

  auto stats = Await<db::RecoveryStats>([&](auto cb) { catalog_->Recover(cb); });
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_EQ(stats->interrupted, 2u);
  EXPECT_EQ(stats->dropped_tables, 2u);
  EXPECT_TRUE(InternalTables().empty());
  EXPECT_TRUE(TableExists("user_table"));
  for (const auto& id : {receiving.id, loading.id}) {
    auto r = Await<UploadRecord>([&](auto cb) { catalog_->GetUpload(id, cb); });
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->state, UploadState::kFailed);
    EXPECT_EQ(r->error_code, "interrupted");
    EXPECT_TRUE(r->finished_at_ms.has_value());
    EXPECT_TRUE(r->duration_ms.has_value());
  }
  auto untouched = Await<UploadRecord>([&](auto cb) { catalog_->GetUpload(done.id, cb); });
  ASSERT_TRUE(untouched);
  EXPECT_EQ(*untouched, done);
  auto again = Await<db::RecoveryStats>([&](auto cb) { catalog_->Recover(cb); });
  ASSERT_TRUE(again);
  EXPECT_EQ(again->interrupted + again->dropped_tables, 0u);
}

TEST_F(IngestCatalogTest, TableEntries) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  db::TableEntry e;
  e.name = "Plays ünï";
  e.header = {" Song", "Number of Plays"};
  e.columns = {{"Song", " Song", "TEXT"}, {"Number of Plays", "Number of Plays", "BIGINT"}};
  e.row_count = 10;
  e.upload_id = "01A";
  e.created_at_ms = e.updated_at_ms = db::NowMs();
  ASSERT_TRUE(AwaitStatus([&](auto cb) { catalog_->PutTable(e, cb); }).ok());
  auto got = Await<db::TableEntry>([&](auto cb) { catalog_->GetTable(e.name, cb); });
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, e);
  ASSERT_TRUE(AwaitStatus([&](auto cb) { catalog_->AddTableRows(e.name, 5, "01B", cb); }).ok());
  got = Await<db::TableEntry>([&](auto cb) { catalog_->GetTable(e.name, cb); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->row_count, 15u);
  EXPECT_EQ(got->upload_id, "01B");
  EXPECT_EQ(AwaitStatus([&](auto cb) { catalog_->AddTableRows("nope", 5, "01B", cb); }).domain(),
            core::ErrorDomain::kNotFound);
  // Case matters for table names (lower_case_table_names=0).
  EXPECT_EQ(Await<db::TableEntry>([&](auto cb) { catalog_->GetTable("plays ünï", cb); }).error().domain(),
            core::ErrorDomain::kNotFound);
  e.name = "another";
  ASSERT_TRUE(AwaitStatus([&](auto cb) { catalog_->PutTable(e, cb); }).ok());
  auto all = Await<std::vector<db::TableEntry>>([&](auto cb) { catalog_->ListTables(cb); });
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "Plays ünï");  // binary order: 'P' < 'a'
  ASSERT_TRUE(AwaitStatus([&](auto cb) { catalog_->DeleteTable("another", cb); }).ok());
  ASSERT_TRUE(AwaitStatus([&](auto cb) { catalog_->DeleteTable("another", cb); }).ok());
  all = Await<std::vector<db::TableEntry>>([&](auto cb) { catalog_->ListTables(cb); });
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 1u);
}

TEST_F(IngestCatalogTest, PublishCarriesCatalogStatements) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  using sluice::ingest::PublishMode;
  using sluice::ingest::StagedTable;
  auto load = [&](StagedTable& staged, std::uint64_t first, std::uint64_t last) {
    auto stats = LoadSync(staged.staging_table(), staged.column_names(), {SyntheticBlock(first, last)});
    EXPECT_TRUE(stats) << stats.error().message();
    return stats ? stats->rows : 0;
  };
  db::TableEntry entry;
  entry.name = "pub";
  entry.columns = {{"id", "id", "BIGINT"}, {"name", "name", "TEXT"}, {"amount", "amount", "DECIMAL(10,2)"}};
  entry.header = {"id", "name", "amount"};
  entry.upload_id = "01PUB1";
  entry.created_at_ms = entry.updated_at_ms = db::NowMs();

  auto create = StagedTable::Create(*pool_, {"pub", PublishMode::kCreate, SyntheticColumns(), "01PUB1"});
  ASSERT_TRUE(PrepareSync(*create).ok());
  entry.row_count = load(*create, 1, 20);
  std::optional<core::Result<sluice::ingest::PublishResult>> published;
  create->Publish(entry.row_count, [&](auto r) { published.emplace(std::move(r)); }, {db::PutTableSql(entry)});
  ASSERT_TRUE(RunUntil([&] { return published.has_value(); }));
  ASSERT_TRUE(*published) << published->error().message();
  EXPECT_TRUE((*published)->also_status.ok());
  auto got = Await<db::TableEntry>([&](auto cb) { catalog_->GetTable("pub", cb); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->row_count, 20u);

  // Append + catalog in one transaction.
  auto append = StagedTable::Create(*pool_, {"pub", PublishMode::kAppend, SyntheticColumns(), "01PUB2"});
  ASSERT_TRUE(PrepareSync(*append).ok());
  std::uint64_t rows = load(*append, 1, 5);
  published.reset();
  append->Publish(rows, [&](auto r) { published.emplace(std::move(r)); },
                  {db::AddTableRowsSql("pub", rows, "01PUB2", db::NowMs())});
  ASSERT_TRUE(RunUntil([&] { return published.has_value(); }));
  ASSERT_TRUE(*published) << published->error().message();
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM pub"), "25");
  got = Await<db::TableEntry>([&](auto cb) { catalog_->GetTable("pub", cb); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->row_count, 25u);
  EXPECT_EQ(got->upload_id, "01PUB2");

  // A failing catalog statement rolls the appended rows back too.
  auto broken = StagedTable::Create(*pool_, {"pub", PublishMode::kAppend, SyntheticColumns(), "01PUB3"});
  ASSERT_TRUE(PrepareSync(*broken).ok());
  rows = load(*broken, 1, 7);
  published.reset();
  broken->Publish(rows, [&](auto r) { published.emplace(std::move(r)); }, {"UPDATE no_such_table SET x = 1"});
  ASSERT_TRUE(RunUntil([&] { return published.has_value(); }));
  ASSERT_FALSE(*published);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM pub"), "25");
  EXPECT_TRUE(InternalTables().empty());
}

}  // namespace
}  // namespace sluice::testing::ingest
