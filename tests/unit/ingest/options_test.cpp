// The pure parts of the upload options (src/ingest/options.cpp): every API
// option accepted and stored, bad values refused with the parameter named,
// the table name derived from a file name, the S3 key part made safe.
#include <gtest/gtest.h>

#include "ingest/ingest_job.hpp"

namespace sluice::ingest {
namespace {

core::Status Apply(IngestOptions& options, std::string_view name, std::string_view value, std::string* param = nullptr) {
  std::string p;
  auto status = ApplyOption(options, name, value, &p);
  if (param != nullptr) *param = p;
  return status;
}

TEST(ApplyOption, StoresEveryOption) {
  IngestOptions o;
  EXPECT_TRUE(Apply(o, "table", "plays").ok());
  EXPECT_TRUE(Apply(o, "mode", "append").ok());
  EXPECT_TRUE(Apply(o, "format", "TSV").ok());
  EXPECT_TRUE(Apply(o, "delimiter", ";").ok());
  EXPECT_TRUE(Apply(o, "quote", "'").ok());
  EXPECT_TRUE(Apply(o, "header", "false").ok());
  EXPECT_TRUE(Apply(o, "encoding", "ISO-8859-1").ok());
  EXPECT_TRUE(Apply(o, "types", "text").ok());
  EXPECT_TRUE(Apply(o, "type.zip", "text").ok());
  EXPECT_TRUE(Apply(o, "type.Amount", "decimal(10,2)").ok());
  EXPECT_TRUE(Apply(o, "on_error", "abort").ok());
  EXPECT_TRUE(Apply(o, "filename", "x.csv").ok());
  EXPECT_EQ(o.table, "plays");
  EXPECT_EQ(o.mode, "append");
  EXPECT_EQ(o.format, "tsv");
  EXPECT_EQ(o.delimiter, ";");
  EXPECT_EQ(o.quote, "'");
  EXPECT_FALSE(o.header);
  EXPECT_EQ(o.encoding, "latin-1");
  EXPECT_EQ(o.types, "text");
  ASSERT_EQ(o.type_overrides.size(), 2u);
  EXPECT_EQ(o.type_overrides[0], (std::pair<std::string, std::string>{"zip", "text"}));
  EXPECT_EQ(o.type_overrides[1], (std::pair<std::string, std::string>{"Amount", "decimal(10,2)"}));
  EXPECT_EQ(o.on_error, "abort");
  EXPECT_EQ(o.filename, "x.csv");
}

TEST(ApplyOption, DelimiterSpellings) {
  IngestOptions o;
  for (std::string_view ok : {"auto", ",", "\t", "tab", "\\t", "|"}) EXPECT_TRUE(Apply(o, "delimiter", ok).ok()) << ok;
  for (std::string_view bad : {"", ",,", "\n", "\r", "comma"}) EXPECT_FALSE(Apply(o, "delimiter", bad).ok()) << bad;
  EXPECT_TRUE(Apply(o, "format", "ndjson").ok());
  EXPECT_EQ(o.format, "jsonl");
}

TEST(ApplyOption, RefusesBadValuesNamingTheParameter) {
  struct Case {
    std::string_view name, value;
  };
  for (const Case& c : {Case{"mode", "upsert"}, Case{"format", "xlsx"}, Case{"quote", "''"}, Case{"header", "maybe"},
                        Case{"encoding", "utf-16"}, Case{"types", "guess"}, Case{"type.zip", "varchar(5)"},
                        Case{"type.", "text"}, Case{"on_error", "ignore"}, Case{"table", ""},
                        Case{"table", "_sluice_stage_x"}, Case{"table", "sluice_uploads"}, Case{"filename", ""}}) {
    IngestOptions o;
    std::string param;
    auto status = Apply(o, c.name, c.value, &param);
    EXPECT_EQ(status.domain(), core::ErrorDomain::kInvalid) << c.name << "=" << c.value;
    EXPECT_EQ(param, c.name);
    EXPECT_FALSE(status.message().empty());
  }
}

TEST(ApplyOption, UnknownNames) {
  IngestOptions o;
  std::string param;
  auto status = Apply(o, "colour", "red", &param);
  EXPECT_EQ(status.domain(), core::ErrorDomain::kInvalid);
  EXPECT_EQ(param, "colour");
  EXPECT_NE(status.message().find("colour"), std::string::npos);
  EXPECT_TRUE(IsOptionName("table"));
  EXPECT_TRUE(IsOptionName("on_error"));
  EXPECT_TRUE(IsOptionName("type.anything"));
  EXPECT_FALSE(IsOptionName("colour"));
  EXPECT_FALSE(IsOptionName("Table"));
}

TEST(DeriveTableName, FromFileNames) {
  EXPECT_EQ(DeriveTableName("titanic.csv"), "titanic");
  EXPECT_EQ(DeriveTableName("titanic.csv.gz"), "titanic");
  EXPECT_EQ(DeriveTableName("Plays Big (2020).CSV"), "plays_big_2020");
  EXPECT_EQ(DeriveTableName("/tmp/dir/data-2024-01.tsv"), "data_2024_01");
  EXPECT_EQ(DeriveTableName("C:\\Users\\me\\Sales.csv"), "sales");
  EXPECT_EQ(DeriveTableName("données.csv"), "donn_es");
  EXPECT_EQ(DeriveTableName("noext"), "noext");
  EXPECT_EQ(DeriveTableName(".csv"), "csv");
  EXPECT_EQ(DeriveTableName("東京.csv"), "upload");
  EXPECT_EQ(DeriveTableName(""), "upload");
  EXPECT_EQ(DeriveTableName("__x__.csv"), "x");
  EXPECT_EQ(DeriveTableName("sluice_uploads.csv"), "t_sluice_uploads");
  std::string longest(100, 'a');
  EXPECT_EQ(DeriveTableName(longest + ".csv"), std::string(64, 'a'));
}

TEST(DeriveTableName, AlwaysAValidTable) {
  for (std::string_view name : {"a.csv", "1.csv", "-.csv", "...", "x y z", "_sluice_stage_1.csv", "ÄÖÜ.csv"}) {
    std::string table = DeriveTableName(name);
    EXPECT_FALSE(table.empty()) << name;
    EXPECT_LE(table.size(), 64u);
    IngestOptions o;
    EXPECT_TRUE(Apply(o, "table", table).ok()) << name << " → " << table;
  }
}

TEST(SafeObjectName, KeepsNamesAndDropsPathsAndControls) {
  EXPECT_EQ(SafeObjectName("titanic.csv"), "titanic.csv");
  EXPECT_EQ(SafeObjectName("../../etc/passwd"), "passwd");
  EXPECT_EQ(SafeObjectName("C:\\x\\report 2024.csv"), "report 2024.csv");
  EXPECT_EQ(SafeObjectName("a\nb\tc\x7f.csv"), "a_b_c_.csv");
  EXPECT_EQ(SafeObjectName("Zürich 東京.csv"), "Zürich 東京.csv");
  EXPECT_EQ(SafeObjectName("bad\xff\xfe.csv"), "bad__.csv");
  EXPECT_EQ(SafeObjectName(""), "upload");
  EXPECT_EQ(SafeObjectName("dir/"), "upload");
  EXPECT_EQ(SafeObjectName(".."), "upload");
  std::string cut = SafeObjectName(std::string(150, 'a') + std::string(100, '\xC3') + "x");
  EXPECT_LE(cut.size(), 200u);
}

}  // namespace
}  // namespace sluice::ingest
