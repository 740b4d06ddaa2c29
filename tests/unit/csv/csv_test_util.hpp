// Helpers shared by the CSV tests: run an input through BlockSplitter (fed in
// given chunks) and ParseBlock the way the upload pipeline does, checking the
// block bookkeeping on the way, or parse it as one block without the splitter
// (the reference the split runs must agree with).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "csv/dialect.hpp"
#include "csv/encoding.hpp"
#include "csv/parser.hpp"
#include "csv/splitter.hpp"

namespace sluice::csv::testing {

/// Everything a parse produced, in a comparable form.
struct Outcome {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::uint64_t> lines;    // of good rows
  std::vector<std::uint64_t> records;  // of good rows
  std::vector<std::pair<std::uint64_t, std::string>> bad;  // line, reason
  std::uint64_t record_count = 0;
  bool operator==(const Outcome&) const = default;
};

inline void Collect(const ParsedBlock& pb, Outcome& out) {
  for (std::string_view h : pb.header()) out.header.emplace_back(h);
  for (std::size_t i = 0; i < pb.row_count(); ++i) {
    const RowView row = pb.row(i);
    out.rows.emplace_back(row.fields.begin(), row.fields.end());
    out.lines.push_back(row.line);
    out.records.push_back(row.record);
  }
  for (const BadRow& b : pb.bad_rows()) out.bad.emplace_back(b.line, b.reason);
  out.record_count += pb.record_count();
}

/// Feeds `input` in pieces of the given lengths (the rest as a last piece),
/// parses every block, and checks the blocks follow one another.
inline Outcome SplitAndParse(std::string_view input, const Dialect& dialect,
                             const std::vector<std::size_t>& pieces, std::size_t target_bytes,
                             Encoding encoding = Encoding::kUtf8) {
  SplitterOptions so;
  so.target_bytes = target_bytes;
  BlockSplitter splitter(dialect, so);
  std::vector<Block> blocks;
  std::size_t pos = 0;
  for (std::size_t len : pieces) {
    EXPECT_TRUE(splitter.Feed(input.substr(pos, len), blocks).ok());
    pos += len;
  }
  if (pos < input.size()) {
    EXPECT_TRUE(splitter.Feed(input.substr(pos), blocks).ok());
  }
  EXPECT_TRUE(splitter.Finish(blocks).ok());

  Outcome out;
  std::size_t expected = 0;
  std::uint64_t next_record = 0;
  std::uint64_t min_line = 1;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    Block& b = blocks[i];
    EXPECT_EQ(b.index, i);
    EXPECT_EQ(b.first_record, next_record) << "block " << i;
    EXPECT_GE(b.first_line, min_line) << "block " << i;
    EXPECT_GT(b.record_count, 0u);
    next_record += b.record_count;
    min_line = b.first_line + b.line_count;
    const std::uint64_t block_records = b.record_count;
    ParseOptions po;
    po.dialect = dialect;
    po.encoding = encoding;
    po.expected_fields = expected;
    po.skip_header = (i == 0) && dialect.header;
    ParsedBlock pb = ParseBlock(std::move(b), po);
    EXPECT_EQ(pb.record_count(), block_records) << "block " << i << " in " << ::testing::PrintToString(input);
    if (i == 0) expected = pb.field_count();
    Collect(pb, out);
  }
  EXPECT_EQ(splitter.records_emitted(), next_record);
  return out;
}

/// `input` parsed as one block, without the splitter.
inline Outcome ParseWhole(std::string_view input, const Dialect& dialect, Encoding encoding = Encoding::kUtf8) {
  Block b;
  b.data = std::string(StripUtf8Bom(input));
  ParseOptions po;
  po.dialect = dialect;
  po.encoding = encoding;
  po.skip_header = dialect.header;
  Outcome out;
  Collect(ParseBlock(std::move(b), po), out);
  return out;
}

/// Rows of a header=false dialect with `delimiter` and `quote`.
inline Dialect NoHeader(char delimiter = ',', char quote = '"') { return Dialect{delimiter, quote, false}; }

}  // namespace sluice::csv::testing
