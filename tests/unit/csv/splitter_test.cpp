// BlockSplitter + ParseBlock on every dialect case, fed in every possible way
// (DuckDB test/sql/copy/csv style): one chunk, 1-byte chunks, every 2-way and
// every 3-way split, block targets from 1 byte (a cut at every row end) to
// 1 MiB, and a padding row of 0–70 bytes in front so each quote, CR, LF and
// CRLF of the case lands on every position of the splitter's 64-byte windows.
// Every run must give the same rows, lines and records as the hand-written
// expectation. A seeded random test then compares split runs of noisy inputs
// with one-block parses, and the remaining tests pin the block bookkeeping:
// record and line numbers, the BOM, CRLF over a chunk boundary, the size cut,
// the row limit and a huge single chunk.
#include "csv/splitter.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "csv_test_util.hpp"

namespace sluice::csv {
namespace {

using testing::NoHeader;
using testing::Outcome;
using testing::ParseWhole;
using testing::SplitAndParse;
using Rows = std::vector<std::vector<std::string>>;

struct Case {
  const char* name;
  std::string input;
  Dialect dialect;
  Rows rows;
  std::vector<std::uint64_t> lines;
};

std::vector<Case> Cases() {
  const Dialect csv = NoHeader();
  return {
      {"simple", "a,b\n1,2\n", csv, {{"a", "b"}, {"1", "2"}}, {1, 2}},
      {"no_final_newline", "a,b\n1,2", csv, {{"a", "b"}, {"1", "2"}}, {1, 2}},
      {"crlf", "a,b\r\n1,2\r\n", csv, {{"a", "b"}, {"1", "2"}}, {1, 2}},
      {"lone_cr", "a,b\r1,2\r", csv, {{"a", "b"}, {"1", "2"}}, {1, 2}},
      {"mixed_line_ends", "a,b\r\n1,2\n3,4\r5,6", csv, {{"a", "b"}, {"1", "2"}, {"3", "4"}, {"5", "6"}}, {1, 2, 3, 4}},
      {"final_cr", "a,b\r", csv, {{"a", "b"}}, {1}},
      {"quoted_delimiter", "\"a,b\",c\nd,e\n", csv, {{"a,b", "c"}, {"d", "e"}}, {1, 2}},
      {"quoted_lf", "\"a\nb\",c\nd,e\n", csv, {{"a\nb", "c"}, {"d", "e"}}, {1, 3}},
      {"quoted_crlf", "\"a\r\nb\",c\r\nd,e\r\n", csv, {{"a\r\nb", "c"}, {"d", "e"}}, {1, 3}},
      {"quoted_lone_cr", "\"a\rb\",c\rd,e", csv, {{"a\rb", "c"}, {"d", "e"}}, {1, 3}},
      {"quoted_blank_lines", "\"\n\n\",x\n", csv, {{"\n\n", "x"}}, {1}},
      {"doubled_quotes", "\"a\"\"b\",c\n", csv, {{"a\"b", "c"}}, {1}},
      {"only_quotes", "\"\"\"\"\"\",x\n", csv, {{"\"\"", "x"}}, {1}},
      {"empty_quoted", "\"\",x\n\"\",\"\"\n", csv, {{"", "x"}, {"", ""}}, {1, 2}},
      {"quote_in_unquoted", "5'11\",x\nab\"c,d\n", csv, {{"5'11\"", "x"}, {"ab\"c", "d"}}, {1, 2}},
      {"odd_quote_in_unquoted", "a\"b,\"c\nd\",e\n", csv, {{"a\"b", "c\nd", "e"}}, {1}},
      {"literal_after_close", "\"ab\"cd,x\n\"a\"\"\"b\"c,y\n", csv, {{"abcd", "x"}, {"a\"b\"c", "y"}}, {1, 2}},
      {"whitespace_kept", " a , b \n\t1\t,2 \n", csv, {{" a ", " b "}, {"\t1\t", "2 "}}, {1, 2}},
      {"space_before_quote", " \"a,b\"\n", csv, {{" \"a", "b\""}}, {1}},
      {"blank_lines", "a,b\n\n1,2\n\n\n", csv, {{"a", "b"}, {"1", "2"}}, {1, 3}},
      {"blank_lines_crlf", "a,b\r\n\r\n1,2\r\n\r\n", csv, {{"a", "b"}, {"1", "2"}}, {1, 3}},
      {"leading_blank_lines", "\n\r\n\ra,b\n", csv, {{"a", "b"}}, {4}},
      {"empty_fields", ",\n,\n", csv, {{"", ""}, {"", ""}}, {1, 2}},
      {"trailing_delimiter", "a,\n1,", csv, {{"a", ""}, {"1", ""}}, {1, 2}},
      {"quoted_everything", "\"x, \"\"y\"\"\nz\",\"1\"\r\n", csv, {{"x, \"y\"\nz", "1"}}, {1}},
      {"final_quoted", "a,\"b\"", csv, {{"a", "b"}}, {1}},
      {"final_doubled_quote", "\"a\"\"\"", csv, {{"a\""}}, {1}},
      {"one_empty_quoted", "\"\"\nx\n", csv, {{""}, {"x"}}, {1, 2}},
      {"semicolon_single_quote", "'a;b';c\n'it''s';d\n", NoHeader(';', '\''), {{"a;b", "c"}, {"it's", "d"}}, {1, 2}},
      {"tab", "a\tb\n\"1\t2\"\t3\n", NoHeader('\t'), {{"a", "b"}, {"1\t2", "3"}}, {1, 2}},
      {"pipe", "a|b\n1|\"|\"\n", NoHeader('|'), {{"a", "b"}, {"1", "|"}}, {1, 2}},
      {"bom", "\xEF\xBB\xBF" "a,b\n1,2\n", csv, {{"a", "b"}, {"1", "2"}}, {1, 2}},
      {"utf8", "é,\"ü\n€\"\n", csv, {{"é", "ü\n€"}}, {1}},
  };
}

Outcome Expect(const Case& c) {
  Outcome o;
  o.rows = c.rows;
  o.lines = c.lines;
  for (std::size_t i = 0; i < c.rows.size(); ++i) o.records.push_back(i);
  o.record_count = c.rows.size();
  return o;
}

constexpr std::size_t kBig = std::size_t{1} << 20;

TEST(SplitterCases, OneBlockParse) {
  for (const Case& c : Cases()) {
    EXPECT_EQ(ParseWhole(c.input, c.dialect), Expect(c)) << c.name;
  }
}

TEST(SplitterCases, OneChunkAndOneByteChunks) {
  for (const Case& c : Cases()) {
    for (std::size_t target : {std::size_t{1}, std::size_t{2}, std::size_t{5}, kBig}) {
      EXPECT_EQ(SplitAndParse(c.input, c.dialect, {}, target), Expect(c)) << c.name << " target " << target;
      std::vector<std::size_t> ones(c.input.size(), 1);
      EXPECT_EQ(SplitAndParse(c.input, c.dialect, ones, target), Expect(c)) << c.name << " 1-byte, target " << target;
    }
  }
}

TEST(SplitterCases, EveryTwoAndThreeWaySplit) {
  for (const Case& c : Cases()) {
    const std::size_t n = c.input.size();
    for (std::size_t target : {std::size_t{1}, kBig}) {
      for (std::size_t i = 0; i <= n; ++i) {
        ASSERT_EQ(SplitAndParse(c.input, c.dialect, {i}, target), Expect(c))
            << c.name << " split at " << i << " target " << target;
        for (std::size_t j = i; j <= n; ++j) {
          ASSERT_EQ(SplitAndParse(c.input, c.dialect, {i, j - i}, target), Expect(c))
              << c.name << " split at " << i << "," << j << " target " << target;
        }
      }
    }
  }
}

// Bad rows, a header and the encodings through the splitter: the bad rows'
// lines and reasons, the header and the good rows come out the same however
// the stream is cut (every 2- and 3-way split, a cut at every row end or none).
TEST(SplitterCases, HeaderAndBadRowsInEverySplit) {
  struct BadCase {
    const char* name;
    std::string input;
    Encoding encoding;
    std::vector<std::pair<std::uint64_t, std::string>> bad;
    std::size_t good;
  };
  const std::vector<BadCase> cases = {
      {"field_counts", "a,b,c\r\n1,2,3\r\n1,2\r\n\"x\ny\",2,3\r\n1,2,3,4\r\n\r\n\"m\nn\",2\r\nok,ok,ok",
       Encoding::kUtf8, {{3, "expected 3 fields, found 2"}, {6, "expected 3 fields, found 4"},
                         {8, "expected 3 fields, found 2"}}, 3},
      {"invalid_utf8", "\xEF\xBB\xBF" "a,b\n1,caf\xE9\n2,ok\n3,\"x\xC3\"\n4,\xF0\x9F\x98\x80\n", Encoding::kUtf8,
       {{2, "field 2 is not valid UTF-8"}, {4, "field 2 is not valid UTF-8"}}, 2},
      {"latin1", "name,price\rcaf\xE9,\x80 5\r\x93q\x94\r\xFF,\x81\r", Encoding::kLatin1,
       {{3, "expected 2 fields, found 1"}}, 2},
  };
  const Dialect dialect{',', '"', true};
  for (const BadCase& c : cases) {
    const Outcome whole = ParseWhole(c.input, dialect, c.encoding);
    ASSERT_EQ(whole.bad, c.bad) << c.name;
    ASSERT_EQ(whole.rows.size(), c.good) << c.name;
    ASSERT_FALSE(whole.header.empty()) << c.name;
    const std::size_t n = c.input.size();
    for (std::size_t target : {std::size_t{1}, kBig}) {
      for (std::size_t i = 0; i <= n; ++i) {
        ASSERT_EQ(SplitAndParse(c.input, dialect, {i}, target, c.encoding), whole)
            << c.name << " split at " << i << " target " << target;
        for (std::size_t j = i; j <= n; ++j) {
          ASSERT_EQ(SplitAndParse(c.input, dialect, {i, j - i}, target, c.encoding), whole)
              << c.name << " split at " << i << "," << j << " target " << target;
        }
      }
    }
  }
}

// A padding row in front moves every byte of the case across the splitter's
// 64-byte windows, so each special byte is seen at bit 0, bit 63 and in between.
TEST(SplitterCases, EveryWindowOffset) {
  for (const Case& c : Cases()) {
    const std::size_t fields = c.rows.front().size();
    const bool bom = HasUtf8Bom(c.input);
    const std::string body = bom ? c.input.substr(3) : c.input;
    for (std::size_t k = 0; k <= 70; ++k) {
      std::string pad = std::string(k, 'p');
      for (std::size_t f = 1; f < fields; ++f) pad += std::string(1, c.dialect.delimiter) + "x";
      std::string input = (bom ? std::string(kUtf8Bom) : std::string()) + pad + "\n" + body;
      Outcome want = Expect(c);
      std::vector<std::string> pad_row(fields, "x");
      pad_row[0] = std::string(k, 'p');
      want.rows.insert(want.rows.begin(), pad_row);
      for (auto& l : want.lines) ++l;
      want.lines.insert(want.lines.begin(), 1);
      want.records.push_back(want.records.size());
      ++want.record_count;
      if (k == 0 && fields == 1) continue;  // an empty pad row would be a blank line
      for (std::size_t target : {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{65}, kBig}) {
        ASSERT_EQ(SplitAndParse(input, c.dialect, {}, target), want) << c.name << " pad " << k << " target " << target;
      }
      std::vector<std::size_t> ones(input.size(), 1);
      ASSERT_EQ(SplitAndParse(input, c.dialect, ones, kBig), want) << c.name << " pad " << k << " 1-byte";
      ASSERT_EQ(SplitAndParse(input, c.dialect, {input.size() - body.size() + 1}, kBig), want)
          << c.name << " pad " << k << " split after the pad";
    }
  }
}

// Noisy inputs (quotes, CR, LF, delimiters, spaces, blank lines, ragged rows,
// unterminated quotes, bad UTF-8), split at random: same outcome as one block.
TEST(SplitterRandom, AgreesWithOneBlockParse) {
  std::mt19937 rng(20240611);
  const std::string alphabet[] = {"a", "b", ",", ",", "\"", "\"", "\n", "\r", "\r\n", " ", "é", "\xC3"};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string input;
    const std::size_t len = std::uniform_int_distribution<std::size_t>(0, 400)(rng);
    std::uniform_int_distribution<std::size_t> pick(0, std::size(alphabet) - 1);
    while (input.size() < len) input += alphabet[pick(rng)];
    const Dialect dialect{',', '"', iter % 2 == 0};
    const Outcome want = ParseWhole(input, dialect);
    std::vector<std::size_t> pieces;
    std::size_t covered = 0;
    std::uniform_int_distribution<std::size_t> piece(0, 90);
    while (covered < input.size()) {
      pieces.push_back(piece(rng));
      covered += pieces.back();
    }
    const std::size_t target = std::uniform_int_distribution<std::size_t>(1, 200)(rng);
    ASSERT_EQ(SplitAndParse(input, dialect, pieces, target), want)
        << "iteration " << iter << " target " << target << " input " << ::testing::PrintToString(input);
  }
}

TEST(Splitter, NumbersRecordsAndLinesPerBlock) {
  // 4 records on 6 lines; the blank line is no record.
  const std::string input = "h1,h2\n\"a\nb\",1\n\nc,2\n\"d\r\ne\",3";
  SplitterOptions so;
  so.target_bytes = 1;
  BlockSplitter s(NoHeader(), so);
  std::vector<Block> blocks;
  ASSERT_TRUE(s.Feed(input, blocks).ok());
  ASSERT_TRUE(s.Finish(blocks).ok());
  ASSERT_EQ(blocks.size(), 4u);
  const std::uint64_t first_lines[] = {1, 2, 5, 6};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(blocks[i].index, i);
    EXPECT_EQ(blocks[i].first_record, i);
    EXPECT_EQ(blocks[i].record_count, 1u);
    EXPECT_EQ(blocks[i].first_line, first_lines[i]) << i;
  }
  EXPECT_EQ(blocks[0].data, "h1,h2\n");
  EXPECT_EQ(blocks[1].data, "\"a\nb\",1\n");
  EXPECT_EQ(blocks[2].data, "c,2\n");  // the blank line alone was no block
  EXPECT_EQ(blocks[3].data, "\"d\r\ne\",3");
  EXPECT_EQ(blocks[2].byte_offset, 15u);
}

TEST(Splitter, CrlfSplitAcrossChunksIsOneLineEnd) {
  SplitterOptions so;
  so.target_bytes = 1;
  BlockSplitter s(NoHeader(), so);
  std::vector<Block> blocks;
  ASSERT_TRUE(s.Feed("a,b\r", blocks).ok());
  EXPECT_TRUE(blocks.empty());  // the CR might be the first half of a CRLF
  ASSERT_TRUE(s.Feed("\n1,2\r\n", blocks).ok());
  ASSERT_TRUE(s.Finish(blocks).ok());
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].data, "a,b\r\n");
  EXPECT_EQ(blocks[1].data, "1,2\r\n");
  EXPECT_EQ(blocks[1].first_line, 2u);
  EXPECT_EQ(blocks[1].first_record, 1u);
}

TEST(Splitter, BomSplitOverChunksIsDropped) {
  BlockSplitter s(NoHeader());
  std::vector<Block> blocks;
  ASSERT_TRUE(s.Feed("\xEF", blocks).ok());
  ASSERT_TRUE(s.Feed("\xBB", blocks).ok());
  ASSERT_TRUE(s.Feed("\xBF" "a,b", blocks).ok());
  ASSERT_TRUE(s.Finish(blocks).ok());
  EXPECT_TRUE(s.had_bom());
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].data, "a,b");
  EXPECT_EQ(blocks[0].byte_offset, 3u);
}

TEST(Splitter, BomOnlyAtTheStart) {
  BlockSplitter s(NoHeader());
  std::vector<Block> blocks;
  ASSERT_TRUE(s.Feed("\xEF\xBB", blocks).ok());  // not a BOM after all
  ASSERT_TRUE(s.Feed("x\n\xEF\xBB\xBF", blocks).ok());
  ASSERT_TRUE(s.Finish(blocks).ok());
  EXPECT_FALSE(s.had_bom());
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].data, "\xEF\xBBx\n\xEF\xBB\xBF");
}

TEST(Splitter, EmptyAndBlankStreamsGiveNoBlocks) {
  for (std::string input : {"", "\n", "\r\n\r\n\n", "\xEF\xBB\xBF"}) {
    BlockSplitter s(NoHeader());
    std::vector<Block> blocks;
    ASSERT_TRUE(s.Feed(input, blocks).ok());
    ASSERT_TRUE(s.Finish(blocks).ok());
    EXPECT_TRUE(blocks.empty()) << ::testing::PrintToString(input);
  }
}

TEST(Splitter, CutsAtTheFirstRowEndPastTheTarget) {
  std::string input;
  for (int i = 0; i < 1000; ++i) input += "row," + std::to_string(i) + ",\"q,\"\"x\"\"\ny\"\n";
  SplitterOptions so;
  so.target_bytes = 1000;
  BlockSplitter s(NoHeader(), so);
  std::vector<Block> blocks;
  for (std::size_t pos = 0; pos < input.size(); pos += 333) {
    ASSERT_TRUE(s.Feed(std::string_view(input).substr(pos, 333), blocks).ok());
    EXPECT_LE(s.buffered_bytes(), so.target_bytes + (64 << 10) + 64);
  }
  ASSERT_TRUE(s.Finish(blocks).ok());
  std::string joined;
  std::uint64_t records = 0;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const Block& b = blocks[i];
    if (i + 1 < blocks.size()) {
      EXPECT_GE(b.data.size(), so.target_bytes);
      EXPECT_LT(b.data.size(), so.target_bytes + 40);  // rows are < 40 bytes
    }
    EXPECT_EQ(b.data.back(), '\n');
    EXPECT_EQ(b.first_line, 1 + 2 * records);
    records += b.record_count;
    joined += b.data;
  }
  EXPECT_EQ(records, 1000u);
  EXPECT_EQ(joined, input);
}

TEST(Splitter, HugeChunkIsCutWithoutHoldingIt) {
  std::string input;
  while (input.size() < (4u << 20)) input += "12345,\"abc, def\",2024-01-02\n";
  SplitterOptions so;
  so.target_bytes = 256 << 10;
  BlockSplitter s(NoHeader(), so);
  std::vector<Block> blocks;
  ASSERT_TRUE(s.Feed(input, blocks).ok());
  EXPECT_LE(s.buffered_bytes(), so.target_bytes + (64 << 10) + 64);
  ASSERT_TRUE(s.Finish(blocks).ok());
  std::size_t total = 0;
  for (const Block& b : blocks) total += b.data.size();
  EXPECT_EQ(total, input.size());
  EXPECT_GE(blocks.size(), 15u);
}

TEST(Splitter, UnterminatedQuoteHitsTheRowLimit) {
  SplitterOptions so;
  so.target_bytes = 16;
  so.max_row_bytes = 1000;
  BlockSplitter s(NoHeader(), so);
  std::vector<Block> blocks;
  ASSERT_TRUE(s.Feed("a,b\nc,d\n\"never closed,", blocks).ok());
  core::Status st;
  for (int i = 0; i < 100 && st.ok(); ++i) st = s.Feed("more text\nand lines\n", blocks);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.domain(), core::ErrorDomain::kLimit);
  EXPECT_NE(st.message().find("line 3"), std::string::npos) << st.message();
  EXPECT_FALSE(s.Feed("x", blocks).ok());  // stays failed
  EXPECT_FALSE(s.Finish(blocks).ok());
}

TEST(Splitter, UnterminatedQuoteAtTheEndIsOneLastRow) {
  const Outcome o = SplitAndParse("a,b\n\"c,d\ne,f\n", NoHeader(), {}, 1);
  ASSERT_EQ(o.rows.size(), 1u);
  ASSERT_EQ(o.bad.size(), 1u);
  EXPECT_EQ(o.bad[0].first, 2u);
  EXPECT_EQ(o.bad[0].second, "unterminated quoted field");
}

}  // namespace
}  // namespace sluice::csv

namespace sluice::csv {
namespace {

TEST(Splitter, RecycledBuffersAreReused) {
  std::string input;
  for (int i = 0; i < 200; ++i) input += "r" + std::to_string(i) + ",\"x,y\"\n";
  SplitterOptions so;
  so.target_bytes = 256;
  BlockSplitter s(NoHeader(), so);
  std::vector<Block> blocks;
  std::string joined;
  std::uint64_t next = 0;
  auto consume = [&] {
    for (Block& b : blocks) {
      EXPECT_EQ(b.first_record, next);
      next += b.record_count;
      ParseOptions po;
      po.dialect = NoHeader();
      po.expected_fields = 2;
      ParsedBlock pb = ParseBlock(std::move(b), po);
      EXPECT_EQ(pb.row_count(), pb.record_count());
      for (std::size_t i = 0; i < pb.row_count(); ++i) {
        joined += std::string(pb.row(i).fields[0]) + "|" + std::string(pb.row(i).fields[1]) + "\n";
      }
      std::string text = pb.ReleaseText();
      EXPECT_EQ(pb.row_count(), 0u);
      s.Recycle(std::move(text));
    }
    blocks.clear();
  };
  for (std::size_t pos = 0; pos < input.size(); pos += 100) {
    ASSERT_TRUE(s.Feed(std::string_view(input).substr(pos, 100), blocks).ok());
    consume();
  }
  ASSERT_TRUE(s.Finish(blocks).ok());
  consume();
  EXPECT_EQ(next, 200u);
  std::string want;
  for (int i = 0; i < 200; ++i) want += "r" + std::to_string(i) + "|x,y\n";
  EXPECT_EQ(joined, want);
  s.Recycle(std::string());  // too small: ignored
}

}  // namespace
}  // namespace sluice::csv

namespace sluice::csv {
namespace {

TEST(SplitterRandom, LargeMixedFileInRandomChunks) {
  std::mt19937 rng(7);
  const char* cells[] = {"42", "\"Doe, John\"", "\"multi\r\nline\nnote\"", "5'11\"", "", "\"\"\"quoted\"\"\"",
                         "2024-01-02", "x\"y", "\"a\"b", "é€"};
  std::string input = "\xEF\xBB\xBF" "a,b,c,d\r\n";
  while (input.size() < 300000) {
    for (int f = 0; f < 4; ++f) {
      if (f > 0) input += ',';
      input += cells[rng() % std::size(cells)];
    }
    input += (rng() % 3 == 0) ? "\n" : "\r\n";
    if (rng() % 50 == 0) input += "\r\n";  // a blank line now and then
  }
  const Outcome want = ParseWhole(input, Dialect{});
  EXPECT_GT(want.rows.size(), 8000u);
  EXPECT_TRUE(want.bad.empty());
  for (int run = 0; run < 6; ++run) {
    std::vector<std::size_t> pieces;
    std::size_t covered = 0;
    while (covered < input.size()) {
      pieces.push_back(1 + rng() % (run % 2 == 0 ? 300 : 70000));
      covered += pieces.back();
    }
    const std::size_t target = run < 3 ? 1 + rng() % 5000 : std::size_t{1} << 16;
    ASSERT_EQ(SplitAndParse(input, Dialect{}, pieces, target), want) << "run " << run;
  }
}

}  // namespace
}  // namespace sluice::csv
