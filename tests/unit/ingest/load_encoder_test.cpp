// load_encoder: golden LOAD DATA lines and INSERT tuples, every special byte,
// NULL vs empty, empty_is_null, INSERT statements cut at the size limit, and
// a round trip of random bytes through an independent reader of LOAD DATA's
// format (the server's rules: \0 \b \n \r \t \Z \N, any other \x is x).
#include "ingest/load_encoder.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

namespace sluice::ingest {
namespace {

using Row = std::vector<std::optional<std::string>>;

/// Reads LOAD DATA text (FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES
/// TERMINATED BY '\n') the way the server does.
std::vector<Row> ReadLoadData(const std::string& data) {
  std::vector<Row> rows;
  Row row;
  std::string field;
  bool null = false;
  auto end_field = [&] {
    row.push_back(null ? std::nullopt : std::optional<std::string>(field));
    field.clear();
    null = false;
  };
  for (std::size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (c == '\\' && i + 1 < data.size()) {
      char e = data[++i];
      switch (e) {
        case '0': field.push_back('\0'); break;
        case 'b': field.push_back('\b'); break;
        case 'n': field.push_back('\n'); break;
        case 'r': field.push_back('\r'); break;
        case 't': field.push_back('\t'); break;
        case 'Z': field.push_back('\x1a'); break;
        case 'N':
          if (field.empty()) {
            null = true;
            break;
          }
          field.push_back('N');
          break;
        default: field.push_back(e);
      }
    } else if (c == '\t') {
      end_field();
    } else if (c == '\n') {
      end_field();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      field.push_back(c);
    }
  }
  EXPECT_TRUE(row.empty() && field.empty()) << "data does not end with a line end";
  return rows;
}

TEST(LoadEncoderTest, GoldenLoadDataLines) {
  std::vector<Field> fields = {{"plain"}, {"", false}, {"", true}, {"a\tb\nc\\d"}, {std::string_view("n\0l", 3)},
                               {"\\N"}, {"NULL"}, {"héllo ☃"}, {"cr\rlf"}};
  std::string out;
  AppendLoadRow(out, 42, fields);
  EXPECT_EQ(out, std::string("42\tplain\t\t\\N\ta\\tb\\nc\\\\d\tn\\0l\t\\\\N\tNULL\théllo ☃\tcr\rlf\n"));
}

TEST(LoadEncoderTest, GoldenInsertTuples) {
  std::vector<Field> fields = {{"O'Brien"}, {"", true}, {""}, {"a\\b\"c"}, {std::string_view("\0\n\r\x1a", 4)}};
  std::string out;
  AppendInsertRow(out, 7, fields);
  EXPECT_EQ(out, "(7,'O\\'Brien',NULL,'','a\\\\b\\\"c','\\0\\n\\r\\Z')");
}

TEST(LoadEncoderTest, SpecialsAtEveryWordOffset) {
  // The SWAR scan works 8 bytes at a time: put each special at every position
  // of a 1..40-byte value and check the round trip.
  for (char special : {'\t', '\n', '\\', '\0'}) {
    for (std::size_t length = 1; length <= 40; ++length) {
      for (std::size_t at = 0; at < length; ++at) {
        std::string value(length, 'x');
        value[at] = special;
        std::string out;
        AppendLoadValue(out, value);
        EXPECT_EQ(out.size(), length + 1);
        auto rows = ReadLoadData("1\t" + out + "\n");
        ASSERT_EQ(rows.size(), 1u);
        ASSERT_EQ(rows[0].size(), 2u);
        EXPECT_EQ(rows[0][1], value) << "special " << int(special) << " at " << at << " of " << length;
      }
    }
  }
}

TEST(LoadEncoderTest, RandomBytesRoundTrip) {
  std::mt19937_64 rng(12345);
  std::vector<std::pair<std::uint64_t, std::vector<std::string>>> expected;
  std::vector<std::vector<bool>> nulls;
  for (std::uint64_t r = 1; r <= 500; ++r) {
    std::vector<std::string> values;
    std::vector<bool> row_nulls;
    for (int c = 0; c < 5; ++c) {
      std::size_t length = rng() % 50;
      std::string value;
      for (std::size_t i = 0; i < length; ++i) {
        // Mostly specials and high bytes, to hit every path.
        static const char kAlphabet[] = {'\t', '\n', '\\', '\0', 'N', 'a', '\r', '\xff', '\xc3', ' '};
        value.push_back(rng() % 3 == 0 ? static_cast<char>(rng() & 0xff) : kAlphabet[rng() % sizeof(kAlphabet)]);
      }
      values.push_back(value);
      row_nulls.push_back(rng() % 7 == 0);
    }
    expected.emplace_back(r * 3, values);
    nulls.push_back(row_nulls);
  }
  EncoderOptions options;
  options.column_count = 5;
  options.reserve_bytes = 16;  // force regrowth
  BlockEncoder encoder(options);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    std::vector<Field> fields;
    for (int c = 0; c < 5; ++c) fields.push_back({expected[i].second[c], nulls[i][c]});
    encoder.Add(expected[i].first, fields);
  }
  EXPECT_EQ(encoder.row_count(), 500u);
  EncodedBlock block = encoder.Finish();
  EXPECT_EQ(block.method, LoadMethod::kLoadData);
  EXPECT_EQ(block.first_row, 3u);
  EXPECT_EQ(block.last_row, 1500u);
  EXPECT_EQ(block.row_count, 500u);
  ASSERT_NE(block.data, nullptr);
  EXPECT_EQ(block.bytes(), block.data->size());
  auto rows = ReadLoadData(*block.data);
  ASSERT_EQ(rows.size(), expected.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 6u);
    EXPECT_EQ(rows[i][0], std::to_string(expected[i].first));
    for (int c = 0; c < 5; ++c) {
      if (nulls[i][c]) {
        EXPECT_EQ(rows[i][c + 1], std::nullopt);
      } else {
        EXPECT_EQ(rows[i][c + 1], expected[i].second[c]) << "row " << i << " column " << c;
      }
    }
  }
  // The encoder is reusable after Finish().
  encoder.Add(9, std::vector<Field>(5, Field{"z"}));
  EncodedBlock again = encoder.Finish();
  EXPECT_EQ(*again.data, "9\tz\tz\tz\tz\tz\n");
}

TEST(LoadEncoderTest, EmptyIsNullPerColumn) {
  EncoderOptions options;
  options.column_count = 3;
  options.empty_is_null = {1, 0, 1};  // BIGINT, TEXT, DATE
  BlockEncoder encoder(options);
  std::vector<std::string_view> row1 = {"", "", ""};
  std::vector<std::string_view> row2 = {"5", "x", "2024-01-02"};
  encoder.Add(1, row1);
  encoder.Add(2, row2);
  EXPECT_EQ(*encoder.Finish().data, "1\t\\N\t\t\\N\n2\t5\tx\t2024-01-02\n");
}

TEST(LoadEncoderTest, InsertStatementsCutAtTheLimit) {
  EncoderOptions options;
  options.method = LoadMethod::kInsert;
  options.column_count = 2;
  options.insert_prefix = "INSERT INTO `t` (`_row`,`a`,`b`) VALUES ";
  options.max_statement_bytes = 200;
  BlockEncoder encoder(options);
  std::string long_value(300, 'L');
  for (std::uint64_t r = 1; r <= 20; ++r) {
    std::string a = "v" + std::to_string(r);  // views need to outlive Add() only
    std::vector<Field> fields = {{a}, {r == 10 ? std::string_view(long_value) : "", r % 4 == 0}};
    encoder.Add(r, fields);
  }
  EncodedBlock block = encoder.Finish();
  EXPECT_EQ(block.method, LoadMethod::kInsert);
  EXPECT_EQ(block.row_count, 20u);
  EXPECT_EQ(block.data, nullptr);
  ASSERT_GE(block.statements.size(), 3u);
  std::string all_tuples;
  for (const auto& statement : block.statements) {
    ASSERT_EQ(statement.rfind(options.insert_prefix, 0), 0u) << statement;
    bool holds_long = statement.find(long_value) != std::string::npos;
    if (!holds_long) {
      EXPECT_LE(statement.size(), options.max_statement_bytes) << statement;
    }
    if (!all_tuples.empty()) all_tuples += ",";
    all_tuples += statement.substr(options.insert_prefix.size());
  }
  // Every row once, in order, split only between tuples.
  std::string expected;
  for (std::uint64_t r = 1; r <= 20; ++r) {
    if (!expected.empty()) expected += ",";
    std::string b = r % 4 == 0 ? "NULL" : "'" + (r == 10 ? long_value : std::string()) + "'";
    expected += "(" + std::to_string(r) + ",'v" + std::to_string(r) + "'," + b + ")";
  }
  EXPECT_EQ(all_tuples, expected);
  std::size_t bytes = 0;
  for (const auto& statement : block.statements) bytes += statement.size();
  EXPECT_EQ(block.bytes(), bytes);
}

TEST(LoadEncoderTest, EmptyBlock) {
  EncoderOptions options;
  options.column_count = 2;
  BlockEncoder encoder(options);
  EncodedBlock block = encoder.Finish();
  EXPECT_EQ(block.row_count, 0u);
  ASSERT_NE(block.data, nullptr);
  EXPECT_EQ(block.data->size(), 0u);
  options.method = LoadMethod::kInsert;
  options.insert_prefix = "INSERT INTO t VALUES ";
  BlockEncoder inserts(options);
  EXPECT_TRUE(inserts.Finish().statements.empty());
}

}  // namespace
}  // namespace sluice::ingest
