// generator: the same seed gives the same bytes whatever the chunk size, a
// different seed different bytes; every row has as many fields as the header
// (read back with an RFC 4180 reader); the values look as promised — uuids,
// real calendar dates, two-decimal amounts, zero-padded codes, names with
// commas and doubled quotes, some empty fields; column lists parse.
#include "ingest/generator.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace sluice::ingest {
namespace {

/// RFC 4180 records of `text` (quoted fields, doubled quotes, LF rows).
std::vector<std::vector<std::string>> ReadCsv(const std::string& text) {
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      records.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      records.back().push_back(std::move(field));
      field.clear();
      records.emplace_back();
    } else {
      field.push_back(c);
    }
  }
  EXPECT_TRUE(records.back().empty() && field.empty()) << "no final line end";
  records.pop_back();
  return records;
}

std::string Generate(const GeneratorOptions& options, std::size_t chunk) {
  CsvGenerator generator(options);
  std::string all, piece;
  while (true) {
    piece.clear();
    if (!generator.Next(piece, chunk)) break;
    all += piece;
  }
  return all;
}

TEST(GeneratorTest, DeterministicForASeedWhateverTheChunking) {
  GeneratorOptions options;
  options.rows = 2000;
  options.seed = 7;
  std::string a = Generate(options, 1);
  EXPECT_EQ(a, Generate(options, 4096));
  EXPECT_EQ(a, Generate(options, 1 << 20));
  options.seed = 8;
  EXPECT_NE(a, Generate(options, 4096));
}

TEST(GeneratorTest, EveryRowHasEveryFieldAndTheValuesLookRight) {
  GeneratorOptions options;
  options.rows = 5000;
  std::string text = Generate(options, 65536);
  auto records = ReadCsv(text);
  ASSERT_EQ(records.size(), 5001u);
  EXPECT_EQ(records[0], (std::vector<std::string>{"id", "uuid", "name", "email", "date", "amount", "quantity",
                                                  "code", "city"}));
  std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::regex date("(20[0-2][0-9])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])");
  std::regex amount("-?(0|[1-9][0-9]*)\\.[0-9]{2}");
  std::regex code("[0-9]{5}");
  int empty_names = 0, empty_amounts = 0, quoted_names = 0, zero_codes = 0, commas_in_city = 0, negative = 0;
  for (std::size_t i = 1; i < records.size(); ++i) {
    const auto& r = records[i];
    ASSERT_EQ(r.size(), 9u) << "row " << i;
    EXPECT_EQ(r[0], std::to_string(i));
    EXPECT_TRUE(std::regex_match(r[1], uuid)) << r[1];
    EXPECT_TRUE(std::regex_match(r[4], date)) << r[4];
    if (r[2].empty()) ++empty_names;
    if (r[2].find('"') != std::string::npos) ++quoted_names;
    if (!r[2].empty()) {
      EXPECT_NE(r[2].find(", "), std::string::npos) << r[2];
    }
    if (r[5].empty()) {
      ++empty_amounts;
    } else {
      EXPECT_TRUE(std::regex_match(r[5], amount)) << r[5];
      if (r[5][0] == '-') ++negative;
    }
    EXPECT_TRUE(std::regex_match(r[7], code)) << r[7];
    if (r[7][0] == '0') ++zero_codes;
    if (r[8].find(',') != std::string::npos) ++commas_in_city;
  }
  EXPECT_GT(empty_names, 50);
  EXPECT_GT(empty_amounts, 30);
  EXPECT_GT(quoted_names, 200);
  EXPECT_GT(zero_codes, 1000);
  EXPECT_GT(commas_in_city, 100);
  EXPECT_GT(negative, 0);
  // The header-less form is the same rows without the first line.
  options.header = false;
  std::string bare = Generate(options, 65536);
  EXPECT_EQ(bare, text.substr(text.find('\n') + 1));
}

TEST(GeneratorTest, DatesAreRealCalendarDays) {
  GeneratorOptions options;
  options.rows = 20000;
  options.columns = {GenColumn::kDate, GenColumn::kDatetime};
  auto records = ReadCsv(Generate(options, 1 << 16));
  for (std::size_t i = 1; i < records.size(); ++i) {
    for (const std::string& value : records[i]) {
      int y = std::stoi(value.substr(0, 4)), m = std::stoi(value.substr(5, 2)), d = std::stoi(value.substr(8, 2));
      static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
      bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
      ASSERT_LE(d, kDays[m - 1] + (m == 2 && leap ? 1 : 0)) << value;
    }
  }
}

TEST(GeneratorTest, ColumnLists) {
  auto columns = ParseGenColumns("id, note,flag,code,code");
  ASSERT_TRUE(columns) << columns.error().message();
  ASSERT_EQ(columns->size(), 5u);
  GeneratorOptions options;
  options.rows = 300;
  options.columns = *columns;
  CsvGenerator generator(options);
  EXPECT_EQ(generator.Header(), "id,note,flag,code,code_2\n");
  auto records = ReadCsv(Generate(options, 100));
  ASSERT_EQ(records.size(), 301u);
  for (const auto& r : records) EXPECT_EQ(r.size(), 5u);
  EXPECT_FALSE(ParseGenColumns("id,nope"));
  EXPECT_FALSE(ParseGenColumns(""));
  for (GenColumn c : DefaultGenColumns()) EXPECT_EQ(*ParseGenColumns(GenColumnName(c)), std::vector<GenColumn>{c});
}

TEST(GeneratorTest, ZeroRows) {
  GeneratorOptions options;
  options.rows = 0;
  EXPECT_EQ(Generate(options, 10), "id,uuid,name,email,date,amount,quantity,code,city\n");
}

}  // namespace
}  // namespace sluice::ingest
