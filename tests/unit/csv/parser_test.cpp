// ParseBlock: bad rows with their line numbers and reasons, header handling,
// encodings (UTF-8 validation, Latin-1/cp1252 transcoding), the field limit,
// ParseFirstRow, and the sample files of ../shared/data parsed through the
// splitter in several chunkings and compared with an independent reading
// (Python's csv module: row count, a cell checksum, chosen cells).
#include "csv/parser.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "csv_test_util.hpp"

namespace sluice::csv {
namespace {

using testing::NoHeader;
using testing::Outcome;
using testing::ParseWhole;
using testing::SplitAndParse;

std::string ReadFile(const std::string& name) {
  std::ifstream in(std::string(SLUICE_SHARED_DATA_DIR) + "/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ParsedBlock Parse(std::string data, ParseOptions po) {
  Block b;
  b.data = std::move(data);
  return ParseBlock(std::move(b), po);
}

TEST(Parser, BadRowsWithLineNumbersAndReasons) {
  const std::string input =
      "a,b,c\n"            // 1 header
      "1,2,3\n"            // 2
      "1,2\n"              // 3 too few
      "\"x\ny\",2,3\n"     // 4-5 good, two lines
      "1,2,3,4\n"          // 6 too many
      "\n"                 // 7 blank
      "\"m\nn\",2\n"       // 8-9 too few, starts on line 8
      "ok,ok,ok";          // 10
  const Outcome o = SplitAndParse(input, Dialect{}, {}, 4);
  EXPECT_EQ(o.header, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(o.rows.size(), 3u);
  EXPECT_EQ(o.lines, (std::vector<std::uint64_t>{2, 4, 10}));
  EXPECT_EQ(o.records, (std::vector<std::uint64_t>{1, 3, 6}));
  const std::vector<std::pair<std::uint64_t, std::string>> bad = {
      {3, "expected 3 fields, found 2"}, {6, "expected 3 fields, found 4"}, {8, "expected 3 fields, found 2"}};
  EXPECT_EQ(o.bad, bad);
  EXPECT_EQ(o.record_count, 7u);
  EXPECT_EQ(ParseWhole(input, Dialect{}), o);
}

TEST(Parser, WhitespaceOnlyRowIsBadNotBlank) {
  const Outcome o = ParseWhole("a,b\n   \n1,2\n", Dialect{});
  ASSERT_EQ(o.bad.size(), 1u);
  EXPECT_EQ(o.bad[0], std::make_pair(std::uint64_t{2}, std::string("expected 2 fields, found 1")));
  EXPECT_EQ(o.rows.size(), 1u);
}

TEST(Parser, RowViewsAndCounts) {
  ParseOptions po;
  po.dialect = Dialect{};
  po.skip_header = true;
  Block b;
  b.data = "x,y\n1,\"a\"\"b\"\n2,c\n";
  b.first_record = 0;
  b.first_line = 1;
  ParsedBlock pb = ParseBlock(std::move(b), po);
  ParsedBlock moved = std::move(pb);  // views survive a move
  ASSERT_EQ(moved.row_count(), 2u);
  EXPECT_EQ(moved.field_count(), 2u);
  EXPECT_EQ(moved.row(0).fields[1], "a\"b");
  EXPECT_EQ(moved.row(1).fields[0], "2");
  EXPECT_EQ(moved.row(1).line, 3u);
  EXPECT_EQ(moved.row(1).record, 2u);
  EXPECT_EQ(moved.header()[1], "y");
  EXPECT_EQ(moved.record_count(), 3u);
  EXPECT_GT(moved.memory_bytes(), 0u);
}

TEST(Parser, LaterBlocksUseTheExpectedCountAndTheirFirstLine) {
  ParseOptions po;
  po.dialect = Dialect{};
  po.expected_fields = 3;
  Block b;
  b.data = "1,2,3\n4,5\n";
  b.first_record = 100;
  b.first_line = 250;
  ParsedBlock pb = ParseBlock(std::move(b), po);
  ASSERT_EQ(pb.row_count(), 1u);
  EXPECT_EQ(pb.row(0).line, 250u);
  EXPECT_EQ(pb.row(0).record, 100u);
  ASSERT_EQ(pb.bad_rows().size(), 1u);
  EXPECT_EQ(pb.bad_rows()[0].line, 251u);
  EXPECT_EQ(pb.bad_rows()[0].record, 101u);
  EXPECT_EQ(pb.bad_rows()[0].kind, BadRowKind::kFieldCount);
}

TEST(Parser, InvalidUtf8RowIsBadInAUtf8File) {
  const std::string input = "a,b\n1,caf\xE9\n2,ok\n3,\"x\xC3\"\n4,\xF0\x9F\x98\x80\n";
  const Outcome o = ParseWhole(input, Dialect{});
  ASSERT_EQ(o.rows.size(), 2u);
  EXPECT_EQ(o.rows[1][1], "\xF0\x9F\x98\x80");
  const std::vector<std::pair<std::uint64_t, std::string>> bad = {{2, "field 2 is not valid UTF-8"},
                                                                  {4, "field 2 is not valid UTF-8"}};
  EXPECT_EQ(o.bad, bad);
}

TEST(Parser, Latin1IsTranscoded) {
  // cp1252: é (E9), € (80), “ ” (93 94), ÿ (FF), and 0x81 (undefined → U+0081).
  const std::string input = "name,price\ncaf\xE9,\x80 5\n\x93q\x94,\xFF\x81\n";
  for (std::size_t split = 0; split <= input.size(); ++split) {
    const Outcome o = SplitAndParse(input, Dialect{}, {split}, 1, Encoding::kLatin1);
    ASSERT_EQ(o.rows.size(), 2u);
    EXPECT_TRUE(o.bad.empty());
    EXPECT_EQ(o.rows[0][0], "café");
    EXPECT_EQ(o.rows[0][1], "€ 5");
    EXPECT_EQ(o.rows[1][0], "“q”");
    EXPECT_EQ(o.rows[1][1], "ÿ\xC2\x81");
  }
}

TEST(Parser, FieldLimit) {
  ParseOptions po;
  po.dialect = Dialect{};
  po.max_field_bytes = 5;
  po.skip_header = true;
  ParsedBlock pb = Parse("a,b\n12345,x\n123456,x\n\"12\"\"45\",x\n", po);
  ASSERT_EQ(pb.row_count(), 2u);
  ASSERT_EQ(pb.bad_rows().size(), 1u);
  EXPECT_EQ(pb.bad_rows()[0].line, 3u);
  EXPECT_EQ(pb.bad_rows()[0].kind, BadRowKind::kFieldTooLong);
  EXPECT_EQ(pb.bad_rows()[0].reason, "field 1 is 6 bytes, over max_field_bytes (5)");
}

TEST(Parser, BadRowsAreCountedPastTheKeptOnes) {
  std::string input = "a,b\n";
  for (int i = 0; i < 50; ++i) input += "only-one\n";
  ParseOptions po;
  po.dialect = Dialect{};
  po.skip_header = true;
  po.max_bad_rows = 10;
  ParsedBlock pb = Parse(input, po);
  EXPECT_EQ(pb.bad_rows().size(), 10u);
  EXPECT_EQ(pb.bad_row_count(), 50u);
  EXPECT_EQ(pb.bad_rows().back().line, 11u);
}

TEST(Parser, HeaderOnly) {
  const Outcome o = SplitAndParse("a,b,c\r\n", Dialect{}, {}, 1);
  EXPECT_EQ(o.header, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(o.rows.empty());
}

TEST(ParseFirstRow, ReadsTheHeader) {
  auto r = ParseFirstRow("\"id\",\"na,me\"\r\n1,2\n", Dialect{}, Encoding::kUtf8);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (std::vector<std::string>{"id", "na,me"}));
  auto latin = ParseFirstRow("caf\xE9;x", Dialect{';'}, Encoding::kLatin1);
  ASSERT_TRUE(latin.has_value());
  EXPECT_EQ(*latin, (std::vector<std::string>{"café", "x"}));
}

TEST(ParseFirstRow, LongHeaderBeyondTheFirstPrefix) {
  std::string header;
  for (int i = 0; i < 20000; ++i) header += "column" + std::to_string(i) + ",";
  header += "\"last\nline\"\nrest";
  auto r = ParseFirstRow(header, Dialect{}, Encoding::kUtf8);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->size(), 20001u);
  EXPECT_EQ(r->back(), "last\nline");
}

TEST(ParseFirstRow, Errors) {
  EXPECT_FALSE(ParseFirstRow("", Dialect{}, Encoding::kUtf8).has_value());
  EXPECT_FALSE(ParseFirstRow("\n\n", Dialect{}, Encoding::kUtf8).has_value());
  auto bad = ParseFirstRow("caf\xE9\n", Dialect{}, Encoding::kUtf8);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "the first row is bad: field 1 is not valid UTF-8");
  auto open = ParseFirstRow("a,\"b\nc", Dialect{}, Encoding::kUtf8);
  ASSERT_FALSE(open.has_value());
  EXPECT_EQ(open.error().message(), "the first row is bad: unterminated quoted field");
}

// FNV-1a over every data cell, each followed by 0x1f, each row by 0x1e, the
// same way the expected value was computed with Python's csv module.
std::uint64_t CellHash(const Outcome& o, std::size_t* bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&](unsigned char c) { h = (h ^ c) * 0x100000001b3ull; };
  *bytes = 0;
  for (const auto& row : o.rows) {
    for (const auto& f : row) {
      for (char c : f) mix(static_cast<unsigned char>(c));
      mix(0x1f);
      *bytes += f.size();
    }
    mix(0x1e);
  }
  return h;
}

TEST(DataFiles, Titanic) {
  const std::string file = ReadFile("titanic.csv");
  ASSERT_EQ(file.size(), 60301u);
  const Outcome whole = ParseWhole(file, Dialect{});
  ASSERT_EQ(whole.rows.size(), 891u);
  EXPECT_TRUE(whole.bad.empty());
  EXPECT_EQ(whole.header.size(), 12u);
  EXPECT_EQ(whole.header[3], "Name");
  std::size_t bytes = 0;
  EXPECT_EQ(CellHash(whole, &bytes), 0xbe91784f1a092bc2ull);  // python3 csv.reader
  EXPECT_EQ(bytes, 47642u);
  EXPECT_EQ(whole.rows[0][3], "Braund, Mr. Owen Harris");
  EXPECT_EQ(whole.rows[22][3], "McGowan, Miss. Anna \"Annie\"");
  EXPECT_EQ(whole.rows[890][11], "Q");  // last row, no final newline
  EXPECT_EQ(whole.lines.back(), 892u);
  int survived = 0;
  for (const auto& r : whole.rows) survived += r[1] == "1";
  EXPECT_EQ(survived, 342);

  for (std::size_t target : {std::size_t{1}, std::size_t{4096}, std::size_t{1} << 20}) {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, file.size()}) {
      if (chunk == 1 && target != 4096) continue;  // keep the run short
      std::vector<std::size_t> pieces((file.size() + chunk - 1) / chunk, chunk);
      EXPECT_EQ(SplitAndParse(file, Dialect{}, pieces, target), whole) << target << "/" << chunk;
    }
  }
}

TEST(DataFiles, PlaysSmall) {
  const std::string file = ReadFile("plays_small.csv");
  const Outcome o = SplitAndParse(file, Dialect{}, {10, 10, 10}, 16);
  EXPECT_EQ(o.header, (std::vector<std::string>{"Song", "Date", "Number of Plays"}));
  ASSERT_EQ(o.rows.size(), 7u);
  EXPECT_EQ(o.rows[0], (std::vector<std::string>{"Umbrella", "2020-01-02", "200"}));
  EXPECT_EQ(o.rows[6], (std::vector<std::string>{"In The End", "2020-01-02", "500"}));
  EXPECT_TRUE(o.bad.empty());
  EXPECT_EQ(o, ParseWhole(file, Dialect{}));
}

}  // namespace
}  // namespace sluice::csv
