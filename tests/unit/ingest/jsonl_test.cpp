// JSON Lines parsing (src/ingest/jsonl.cpp): keys in first-seen order, values
// as text (numbers as written, nested values as JSON text, null), bad lines
// with their line numbers, record numbers as the splitter counts them, and
// the block splitter's JSON Lines dialect cutting at every line end.
#include <gtest/gtest.h>

#include "csv/splitter.hpp"
#include "ingest/jsonl.hpp"

namespace sluice::ingest {
namespace {

csv::Block MakeBlock(std::string text, std::uint64_t first_line = 1, std::uint64_t first_record = 0) {
  csv::Block block;
  block.data = std::move(text);
  block.first_line = first_line;
  block.first_record = first_record;
  return block;
}

/// Row `r` as "key=value" pairs ("key" for null), in cell order.
std::vector<std::string> Row(const JsonBlock& b, std::size_t r) {
  std::vector<std::string> out;
  for (std::uint32_t c = b.row_begin[r]; c < b.row_begin[r + 1]; ++c) {
    const auto& cell = b.cells[c];
    out.push_back(b.keys[cell.key] + (cell.null ? "" : "=" + std::string(b.Value(cell))));
  }
  return out;
}

TEST(ParseJsonBlock, ValuesKeepTheirText) {
  auto b = ParseJsonBlock(MakeBlock(
      "{\"a\": 1.50, \"b\": \"x\\\"y\\u00e9\", \"c\": null, \"d\": [1, {\"e\": 2}], \"f\": true, \"g\": -0e5}\n"));
  ASSERT_EQ(b.row_count(), 1u);
  EXPECT_EQ(b.keys, (std::vector<std::string>{"a", "b", "c", "d", "f", "g"}));
  EXPECT_EQ(Row(b, 0), (std::vector<std::string>{"a=1.50", "b=x\"y\xC3\xA9", "c", "d=[1, {\"e\": 2}]", "f=true",
                                                 "g=-0e5"}));
  EXPECT_EQ(b.bad_count, 0u);
}

TEST(ParseJsonBlock, KeysFirstSeenAndRowsSparse) {
  auto b = ParseJsonBlock(MakeBlock("{\"x\":1}\r\n{\"y\":2,\"x\":3}\n\n{}\n{\"z\":\"\",\"x\":4,\"x\":5}"));
  EXPECT_EQ(b.keys, (std::vector<std::string>{"x", "y", "z"}));
  ASSERT_EQ(b.row_count(), 4u);
  EXPECT_EQ(Row(b, 0), (std::vector<std::string>{"x=1"}));
  EXPECT_EQ(Row(b, 1), (std::vector<std::string>{"y=2", "x=3"}));
  EXPECT_TRUE(Row(b, 2).empty());
  EXPECT_EQ(Row(b, 3), (std::vector<std::string>{"z=", "x=5"}));  // a repeated key: the last value
  EXPECT_EQ(b.lines, (std::vector<std::uint64_t>{1, 2, 4, 5}));
  EXPECT_EQ(b.records, (std::vector<std::uint64_t>{0, 1, 2, 3}));
  EXPECT_EQ(b.record_count, 4u);
}

TEST(ParseJsonBlock, BadLines) {
  auto b = ParseJsonBlock(MakeBlock("{\"a\":1}\n[1]\n\"s\"\n{\"a\":}\n{\"a\":1} {\"b\":2}\n{\"a\":01}\n{\"a\":\"\xff\"}\nnope\n",
                                    10, 100));
  ASSERT_EQ(b.row_count(), 1u);
  EXPECT_EQ(b.bad_count, 7u);
  ASSERT_EQ(b.bad.size(), 7u);
  EXPECT_EQ(b.bad[0].line, 11u);
  EXPECT_EQ(b.bad[0].record, 101u);
  EXPECT_EQ(b.bad[6].line, 17u);
  for (const auto& bad : b.bad) EXPECT_FALSE(bad.reason.empty());
  EXPECT_EQ(b.cells.size(), 1u);  // nothing of a bad line is kept
  EXPECT_EQ(b.keys, (std::vector<std::string>{"a"}));
}

TEST(ParseJsonBlock, FieldLimit) {
  auto b = ParseJsonBlock(MakeBlock("{\"a\":\"" + std::string(100, 'x') + "\"}\n{\"a\":\"ok\"}\n"), 1000, 50);
  EXPECT_EQ(b.row_count(), 1u);
  EXPECT_EQ(b.bad_count, 1u);
  EXPECT_EQ(b.bad.size(), 1u);
}

TEST(IsJsonNumber, Grammar) {
  for (std::string_view ok : {"0", "-0", "1", "12.5", "1e5", "1E+5", "-1.5e-3", "0.0"}) EXPECT_TRUE(IsJsonNumber(ok)) << ok;
  for (std::string_view bad : {"", "-", "01", "1.", ".5", "+1", "1e", "1e+", "0x1", "1.5.5", "NaN"}) {
    EXPECT_FALSE(IsJsonNumber(bad)) << bad;
  }
}

TEST(JsonlDialect, EveryLineEndIsARowEnd) {
  csv::BlockSplitter splitter(JsonlDialect(), csv::SplitterOptions{.target_bytes = 16});
  std::vector<csv::Block> blocks;
  std::string text = "{\"a\":\"x,\\\"y\"}\n{\"a\":\"'q'\"}\r\n{\"b\":1}\n";
  ASSERT_TRUE(splitter.Feed(text, blocks).ok());
  ASSERT_TRUE(splitter.Finish(blocks).ok());
  std::string joined;
  std::uint64_t records = 0;
  for (const auto& block : blocks) {
    joined += block.data;
    records += block.record_count;
  }
  EXPECT_EQ(joined, text);
  EXPECT_EQ(records, 3u);
}

// Found by fuzz_jsonl: a raw U+001E (JsonlDialect's quote) at a line start
// makes the splitter take the following line ends as data, so it sees one row
// where the lines are several. The lines inside must not be counted as rows
// of their own: their record numbers (`_row`) would collide with the next
// block's, which starts after the splitter's one row.
TEST(ParseJsonBlock, ARawRecordSeparatorSpansLinesAsTheSplitterSeesThem) {
  const std::string text = "\x1e{\"a\":1}\n{\"a\":2}\n\x1e\n{\"a\":3}\n";
  csv::BlockSplitter splitter(JsonlDialect(), csv::SplitterOptions{.target_bytes = 1});
  std::vector<csv::Block> blocks;
  ASSERT_TRUE(splitter.Feed(text, blocks).ok());
  ASSERT_TRUE(splitter.Finish(blocks).ok());
  ASSERT_EQ(blocks.size(), 2u);
  std::vector<std::uint64_t> records, lines, bad_lines;
  for (const auto& block : blocks) {
    JsonBlock b = ParseJsonBlock(block);
    EXPECT_EQ(b.record_count, block.record_count);
    for (std::size_t r = 0; r < b.row_count(); ++r) {
      records.push_back(b.records[r]);
      lines.push_back(b.lines[r]);
    }
    for (const auto& bad : b.bad) bad_lines.push_back(bad.line);
  }
  EXPECT_EQ(records, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(lines, (std::vector<std::uint64_t>{4}));
  EXPECT_EQ(bad_lines, (std::vector<std::uint64_t>{1}));

  // The whole text as one block: the same rows, records and lines.
  JsonBlock whole = ParseJsonBlock(MakeBlock(text));
  EXPECT_EQ(whole.records, records);
  EXPECT_EQ(whole.lines, lines);
  EXPECT_EQ(whole.bad_count, 1u);
}

}  // namespace
}  // namespace sluice::ingest
