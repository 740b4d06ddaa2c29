// ResultWriter: the JSON envelope and typed values, RFC 4180 CSV quoting,
// NDJSON lines, NULLs, and output that does not depend on how rows are split
// into calls.
#include "query/result_writer.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace sluice::query {
namespace {

/// Owns the cells of one row and hands out a RowView.
class TestRow {
 public:
  explicit TestRow(std::vector<std::optional<std::string>> cells) : cells_(std::move(cells)) {
    for (const auto& cell : cells_) {
      pointers_.push_back(cell ? cell->data() : nullptr);
      lengths_.push_back(cell ? cell->size() : 0);
    }
  }
  RowView view() const { return {pointers_.data(), lengths_.data()}; }

 private:
  std::vector<std::optional<std::string>> cells_;
  std::vector<const char*> pointers_;
  std::vector<unsigned long> lengths_;
};

std::vector<OutputColumn> Columns() { return {{"id", true}, {"name", false}, {"fare", true}}; }

std::string WriteAll(Format format, const std::vector<TestRow>& rows, std::optional<std::string> cursor = {},
                     PageHead head = {"titanic", 891, 0, 2}) {
  ResultWriter writer(format, Columns(), head);
  std::string out;
  writer.Begin(out);
  for (const auto& row : rows) writer.Row(out, row.view());
  writer.End(out, cursor);
  EXPECT_EQ(writer.rows(), rows.size());
  return out;
}

std::vector<TestRow> Sample() {
  std::vector<TestRow> rows;
  rows.emplace_back(std::vector<std::optional<std::string>>{"1", "Braund, Mr. Owen Harris", "7.2500"});
  rows.emplace_back(std::vector<std::optional<std::string>>{"2", "say \"hi\"\nnew line\r", std::nullopt});
  rows.emplace_back(std::vector<std::optional<std::string>>{"-3", "", "1e-7"});
  return rows;
}

TEST(ResultWriter, Json) {
  EXPECT_EQ(WriteAll(Format::kJson, Sample(), std::string("abc")),
            "{\"table\":\"titanic\",\"total\":891,\"offset\":0,\"limit\":2,\"rows\":["
            "{\"id\":1,\"name\":\"Braund, Mr. Owen Harris\",\"fare\":7.2500},"
            "{\"id\":2,\"name\":\"say \\\"hi\\\"\\nnew line\\r\",\"fare\":null},"
            "{\"id\":-3,\"name\":\"\",\"fare\":1e-7}],\"next_cursor\":\"abc\"}");
  EXPECT_EQ(WriteAll(Format::kJson, {}, std::nullopt, {"t", std::nullopt, 5, 0}),
            "{\"table\":\"t\",\"total\":null,\"offset\":5,\"limit\":0,\"rows\":[],\"next_cursor\":null}");
}

TEST(ResultWriter, NumericTextThatIsNoJsonNumberStaysAString) {
  std::vector<TestRow> rows;
  rows.emplace_back(std::vector<std::optional<std::string>>{"007", "x", ".5"});
  EXPECT_EQ(WriteAll(Format::kNdjson, rows), "{\"id\":\"007\",\"name\":\"x\",\"fare\":\".5\"}\n");
}

TEST(ResultWriter, Csv) {
  EXPECT_EQ(WriteAll(Format::kCsv, Sample()),
            "id,name,fare\r\n"
            "1,\"Braund, Mr. Owen Harris\",7.2500\r\n"
            "2,\"say \"\"hi\"\"\nnew line\r\",\r\n"
            "-3,,1e-7\r\n");
  ResultWriter writer(Format::kCsv, {{"a,b", false}, {"say \"x\"", false}}, {});
  std::string out;
  writer.Begin(out);
  EXPECT_EQ(out, "\"a,b\",\"say \"\"x\"\"\"\r\n");
}

TEST(ResultWriter, Ndjson) {
  EXPECT_EQ(WriteAll(Format::kNdjson, Sample()),
            "{\"id\":1,\"name\":\"Braund, Mr. Owen Harris\",\"fare\":7.2500}\n"
            "{\"id\":2,\"name\":\"say \\\"hi\\\"\\nnew line\\r\",\"fare\":null}\n"
            "{\"id\":-3,\"name\":\"\",\"fare\":1e-7}\n");
}

TEST(ResultWriter, OnlyTheVisibleCellsAreWritten) {
  std::vector<TestRow> rows;
  rows.emplace_back(std::vector<std::optional<std::string>>{"1", "a", "2", "hidden", "99"});
  EXPECT_EQ(WriteAll(Format::kCsv, rows), "id,name,fare\r\n1,a,2\r\n");
}

TEST(ResultWriter, TextCellsAndKeysAreEscapedJsonStrings) {
  // Control characters, DEL, quotes and backslashes in cells and column
  // names; the escaping itself is core::AppendJsonString's (its own tests).
  ResultWriter writer(Format::kNdjson, {{"k\"1", false}, {"n", true}}, {});
  std::string out;
  TestRow row(std::vector<std::optional<std::string>>{std::string("a\x01\x7f\x1f\\\"\t", 7), "1\n"});
  writer.Row(out, row.view());
  EXPECT_EQ(out, "{\"k\\\"1\":\"a\\u0001\\u007f\\u001f\\\\\\\"\\t\",\"n\":\"1\\n\"}\n");
}

TEST(ResultWriter, CsvQuotesAFieldWhateverWhereTheSpecialByteIs) {
  for (char special : {',', '"', '\r', '\n'}) {
    for (std::size_t length = 1; length <= 20; ++length) {
      for (std::size_t at = 0; at < length; ++at) {
        std::string field(length, 'x');
        field[at] = special;
        ResultWriter writer(Format::kCsv, {{"a", false}}, {});
        std::string out;
        TestRow row(std::vector<std::optional<std::string>>{field});
        writer.Row(out, row.view());
        std::string quoted = "\"";
        for (char c : field) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        quoted += "\"\r\n";
        ASSERT_EQ(out, quoted) << static_cast<int>(special) << " at " << at << " of " << length;
      }
    }
  }
  for (std::size_t length = 0; length <= 20; ++length) {  // nothing special: as it is, whatever its length
    std::string field(length, ';');
    ResultWriter writer(Format::kCsv, {{"a", false}}, {});
    std::string out;
    TestRow row(std::vector<std::optional<std::string>>{field});
    writer.Row(out, row.view());
    ASSERT_EQ(out, field + "\r\n") << length;
  }
}

TEST(ResultWriter, ContentTypes) {
  EXPECT_EQ(ContentType(Format::kJson), "application/json; charset=utf-8");
  EXPECT_EQ(ContentType(Format::kCsv).substr(0, 8), "text/csv");
  EXPECT_EQ(ContentType(Format::kNdjson).substr(0, 20), "application/x-ndjson");
}

TEST(ResultWriter, JsonNumbers) {
  for (const char* ok : {"0", "-0", "1", "-12.5", "1e5", "1E+5", "2.5e-10", "123456789012345678901234567890"}) {
    EXPECT_TRUE(IsJsonNumber(ok)) << ok;
  }
  for (const char* bad : {"", "-", "01", ".5", "5.", "1e", "+1", "inf", "NaN", "1 ", "0x1"}) {
    EXPECT_FALSE(IsJsonNumber(bad)) << bad;
  }
}

}  // namespace
}  // namespace sluice::query
