// A whole file through the database side with the real CSV engine, checked
// cell by cell against an independent reading: `sluice gen` data with every
// column kind (quoted commas, doubled quotes, line breaks inside quotes,
// unicode, empty fields) and ../shared/data/titanic.csv (no final newline).
// The file is cut into small blocks (csv::BlockSplitter), each parsed and
// encoded on the worker pool (loop::SubmitWork), loaded over 4 connections in
// whatever order the workers finish, published with `create`; then every row
// of the table must equal the file's row at the same position (`_row`).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "csv/parser.hpp"
#include "csv/splitter.hpp"
#include "ingest/generator.hpp"
#include "ingest_test_support.hpp"
#include "loop/work_item.hpp"

namespace sluice::testing::ingest {
namespace {

/// RFC 4180 records (LF or CRLF line ends, quoted fields with doubled quotes
/// and line breaks, last line with or without a line end).
std::vector<std::vector<std::string>> ReadCsv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    any = true;
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
      any = false;
    } else {
      field.push_back(c);
    }
  }
  if (any) {
    record.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  return records;
}

class IngestFileTest : public IngestTest {
 protected:
  /// Loads `text` into `table` (all TEXT columns) through splitter → parse +
  /// encode on workers → Loader → publish. Returns the rows loaded.
  std::uint64_t LoadText(const std::string& text, const std::string& table, const std::string& upload_id) {
    csv::Dialect dialect{',', '"', true};
    auto header = csv::ParseFirstRow(text, dialect, csv::Encoding::kUtf8);
    EXPECT_TRUE(header) << header.error().message();
    if (!header) return 0;
    std::vector<db::ColumnDef> columns;
    for (const auto& name : *header) columns.push_back({name, "TEXT"});
    auto staged = sluice::ingest::StagedTable::Create(
        *pool_, {table, sluice::ingest::PublishMode::kCreate, columns, upload_id});
    EXPECT_TRUE(PrepareSync(*staged).ok());
    auto loader = sluice::ingest::Loader::Create(*pool_, {staged->staging_table(), staged->column_names(), 4, true});

    csv::BlockSplitter splitter(dialect, csv::SplitterOptions{16 << 10, 1 << 20, true});
    std::vector<csv::Block> blocks;
    // Fed in odd-sized chunks, as a socket would deliver it.
    for (std::size_t at = 0; at < text.size(); at += 7777) {
      EXPECT_TRUE(splitter.Feed(std::string_view(text).substr(at, 7777), blocks).ok());
    }
    EXPECT_TRUE(splitter.Finish(blocks).ok());
    EXPECT_GT(blocks.size(), 1u);
    std::size_t pending = blocks.size();
    std::uint64_t bad = 0;
    for (auto& block : blocks) {
      auto work = std::make_shared<std::pair<csv::Block, EncodedBlock>>(std::move(block), EncodedBlock{});
      csv::ParseOptions options;
      options.dialect = dialect;
      options.expected_fields = columns.size();
      options.skip_header = work->first.index == 0;
      loop::SubmitWork(
          &loop_,
          [work, options, count = columns.size(), &bad] {
            csv::ParsedBlock parsed = csv::ParseBlock(std::move(work->first), options);
            EncoderOptions encoder_options;
            encoder_options.column_count = count;
            BlockEncoder encoder(encoder_options);
            for (std::size_t i = 0; i < parsed.row_count(); ++i) {
              csv::RowView row = parsed.row(i);
              encoder.Add(row.record, row.fields);
            }
            if (parsed.bad_row_count() > 0) __atomic_add_fetch(&bad, parsed.bad_row_count(), __ATOMIC_RELAXED);
            work->second = encoder.Finish();
          },
          [work, loader, &pending](int status) {
            EXPECT_EQ(status, 0);
            EXPECT_TRUE(loader->Submit(std::move(work->second)));
            --pending;
          });
    }
    EXPECT_TRUE(RunUntil([&] { return pending == 0; }, std::chrono::seconds(60)));
    EXPECT_EQ(bad, 0u);
    std::optional<core::Result<sluice::ingest::LoadStats>> stats;
    loader->Finish([&](core::Result<sluice::ingest::LoadStats> r) { stats.emplace(std::move(r)); });
    EXPECT_TRUE(RunUntil([&] { return stats.has_value(); }, std::chrono::seconds(60)));
    if (!stats || !*stats) {
      ADD_FAILURE() << (stats ? stats->error().message() : "no result");
      return 0;
    }
    auto published = PublishSync(*staged, (*stats)->rows);
    EXPECT_TRUE(published) << published.error().message();
    cleanup_.push_back(table);
    return (*stats)->rows;
  }

  /// Every cell of `table` against the independent reading of `text`.
  void ExpectSameAsFile(const std::string& text, const std::string& table) {
    auto records = ReadCsv(text);
    ASSERT_GE(records.size(), 2u);
    auto rows = Rows("SELECT * FROM `" + table + "` ORDER BY _row");
    ASSERT_EQ(rows.size(), records.size() - 1);
    for (std::size_t i = 1; i < records.size(); ++i) {
      const Row& row = rows[i - 1];
      ASSERT_EQ(row.size(), records[i].size() + 1) << "row " << i;
      EXPECT_EQ(row[0], std::to_string(i)) << "row " << i;
      for (std::size_t c = 0; c < records[i].size(); ++c) {
        ASSERT_EQ(row[c + 1], records[i][c]) << "row " << i << ", column " << records[0][c];
      }
    }
  }
};

TEST_F(IngestFileTest, GeneratedFileEveryColumnKind) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  sluice::ingest::GeneratorOptions options;
  options.rows = 5000;
  options.seed = 99;
  options.columns = *sluice::ingest::ParseGenColumns(
      "id,uuid,name,email,date,datetime,amount,quantity,code,city,note,flag,score");
  sluice::ingest::CsvGenerator generator(options);
  std::string text;
  while (generator.Next(text, 1 << 20)) {
  }
  ASSERT_NE(text.find("\nsecond line"), std::string::npos);  // a line break inside quotes is in there
  Fresh("ing_gen_file");
  EXPECT_EQ(LoadText(text, "ing_gen_file", "01GENFILE0000000000000001"), 5000u);
  ExpectSameAsFile(text, "ing_gen_file");
}

TEST_F(IngestFileTest, TitanicEveryCell) {
  SLUICE_REQUIRE_MARIADB(db);
  (void)db;
  std::ifstream in(SLUICE_SHARED_DATA_DIR "/titanic.csv", std::ios::binary);
  if (!in) GTEST_SKIP() << "no " SLUICE_SHARED_DATA_DIR "/titanic.csv";
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  Fresh("ing_titanic");
  EXPECT_EQ(LoadText(text, "ing_titanic", "01TITANIC0000000000000001"), 891u);
  ExpectSameAsFile(text, "ing_titanic");
  EXPECT_EQ(Scalar("SELECT Name FROM ing_titanic WHERE _row = 1"), "Braund, Mr. Owen Harris");
}

}  // namespace
}  // namespace sluice::testing::ingest
