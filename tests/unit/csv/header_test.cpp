// Header → column names: trimming, BOM, empty names, case-insensitive (and
// accent-sensitive) duplicates, names the file uses itself, `_row`, the
// 64-character cut on code points with duplicates re-checked after it, and
// characters MariaDB refuses in identifiers.
#include "csv/header.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::csv {
namespace {

std::vector<std::string> Names(std::vector<std::string> header) {
  std::vector<std::string> names;
  for (const Column& c : NameColumns(header)) names.push_back(c.name);
  return names;
}

using V = std::vector<std::string>;

TEST(Header, KeepsTheHeadersOwnText) {
  EXPECT_EQ(Names({"Song", "Date", "Number of Plays"}), (V{"Song", "Date", "Number of Plays"}));
  const auto cols = NameColumns(V{"  Padded  ", "\xEF\xBB\xBFid"});
  EXPECT_EQ(cols[0].name, "Padded");
  EXPECT_EQ(cols[0].header, "  Padded  ");  // the original is kept
  EXPECT_EQ(cols[1].name, "id");
  EXPECT_EQ(cols[1].header, "\xEF\xBB\xBFid");
}

TEST(Header, TrimsAndDropsTheBom) {
  EXPECT_EQ(Names({"\xEF\xBB\xBF  a\t", "\r\nb\r\n", "in ner"}), (V{"a", "b", "in ner"}));
}

TEST(Header, EmptyNamesBecomeCN) {
  EXPECT_EQ(Names({"", "x", "   ", "\xEF\xBB\xBF"}), (V{"c1", "x", "c3", "c4"}));
}

TEST(Header, DuplicatesIgnoringCase) {
  EXPECT_EQ(Names({"id", "ID", "Id", "name"}), (V{"id", "ID_2", "Id_3", "name"}));
  EXPECT_EQ(Names({"Straße", "STRASSE", "straße"}), (V{"Straße", "STRASSE", "straße_2"}));
  EXPECT_EQ(Names({"été", "ÉTÉ", "ete"}), (V{"été", "ÉTÉ_2", "ete"}));  // accents differ
  EXPECT_EQ(Names({"Ωμέγα", "ΩΜΈΓΑ"}), (V{"Ωμέγα", "ΩΜΈΓΑ_2"}));
  EXPECT_EQ(Names({"имя", "ИМЯ"}), (V{"имя", "ИМЯ_2"}));
  EXPECT_EQ(Names({"Łódź", "łÓDŹ"}), (V{"Łódź", "łÓDŹ_2"}));
}

TEST(Header, GeneratedNamesNeverTakeTheFilesOwn) {
  EXPECT_EQ(Names({"a", "a", "a_2"}), (V{"a", "a_3", "a_2"}));
  EXPECT_EQ(Names({"", "c1"}), (V{"c1", "c1_2"}));
  EXPECT_EQ(Names({"c2", ""}), (V{"c2", "c2_2"}));
}

TEST(Header, RowKeyIsReserved) {
  EXPECT_EQ(Names({"_row", "_ROW", "x"}), (V{"_row_2", "_ROW_3", "x"}));
}

TEST(Header, CutAt64CharactersAndRecheckDuplicates) {
  const std::string a64(64, 'a');
  EXPECT_EQ(Names({a64 + "xyz"}), (V{a64}));
  // Equal after the cut: the second gets a suffix and is cut to fit it.
  EXPECT_EQ(Names({a64 + "1", a64 + "2", a64 + "3"}), (V{a64, std::string(62, 'a') + "_2", std::string(62, 'a') + "_3"}));
  // Characters, not bytes: 70 'é' (140 bytes) → 64 'é'.
  std::string e70;
  for (int i = 0; i < 70; ++i) e70 += "é";
  const std::string cut = Names({e70})[0];
  EXPECT_EQ(cut.size(), 128u);
  EXPECT_EQ(cut.substr(0, 2), "é");
  // Trailing spaces exposed by the cut go.
  EXPECT_EQ(Names({std::string(63, 'b') + "  tail"}), (V{std::string(63, 'b')}));
}

TEST(Header, CharactersMariaDbRefusesAreReplaced) {
  EXPECT_EQ(Names({std::string("a\0b", 3)}), (V{"a\xEF\xBF\xBD" "b"}));
  EXPECT_EQ(Names({"x😀"}), (V{"x\xEF\xBF\xBD"}));
  EXPECT_EQ(Names({"bad\xE9"}), (V{"bad\xEF\xBF\xBD"}));
}

TEST(Header, DefaultColumns) {
  const auto cols = DefaultColumns(3);
  ASSERT_EQ(cols.size(), 3u);
  EXPECT_EQ(cols[0].name, "c1");
  EXPECT_EQ(cols[2].name, "c3");
  EXPECT_EQ(cols[2].header, "");
  EXPECT_TRUE(DefaultColumns(0).empty());
}

TEST(Header, SameColumnName) {
  EXPECT_TRUE(SameColumnName("Number of Plays", "number OF plays"));
  EXPECT_TRUE(SameColumnName("ÀÉÎÕÜ", "àéîõü"));
  EXPECT_FALSE(SameColumnName("e", "é"));
  EXPECT_EQ(FoldColumnName("aBc"), "ABC");
}

}  // namespace
}  // namespace sluice::csv
