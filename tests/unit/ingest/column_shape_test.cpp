// ColumnShape (src/ingest/column_shape.cpp): which spellings a typed staging
// column gives back exactly, how shapes join, and the staging type chosen.
#include <gtest/gtest.h>

#include "ingest/column_shape.hpp"

namespace sluice::ingest {
namespace {

ColumnShape Shape(std::initializer_list<std::string_view> values) {
  ColumnShape shape;
  for (auto value : values) shape.Observe(value);
  return shape;
}

csv::ColumnType Infer(std::initializer_list<std::string_view> values) {
  csv::ColumnType type;
  for (auto value : values) type = csv::Widen(type, value);
  return type;
}

TEST(ColumnShape, ExactSpellings) {
  EXPECT_EQ(Shape({"1", "-42", "", "9000000000"}).state, ColumnShape::State::kExact);
  EXPECT_EQ(Shape({"1.50", "-0.25", "100.00"}).state, ColumnShape::State::kExact);
  EXPECT_EQ(Shape({"2024-02-29", "1999-12-31"}).state, ColumnShape::State::kExact);
  EXPECT_EQ(Shape({"2024-02-29 10:00:00.123", "2024-01-01 00:00:00.000"}).state, ColumnShape::State::kExact);
  EXPECT_EQ(Shape({"", ""}).state, ColumnShape::State::kNone);
  EXPECT_EQ(Shape({"", ""}).empties, 2u);
}

TEST(ColumnShape, SpellingsATypedColumnWouldChange) {
  EXPECT_EQ(Shape({"1", "-0"}).state, ColumnShape::State::kText);           // -0 comes back 0
  EXPECT_EQ(Shape({"1.50", "1.5"}).state, ColumnShape::State::kText);       // 1.5 comes back 1.50
  EXPECT_EQ(Shape({"1", "1.5"}).state, ColumnShape::State::kText);          // 1 comes back 1.0
  EXPECT_EQ(Shape({"-0.00"}).state, ColumnShape::State::kText);
  EXPECT_EQ(Shape({"1e5"}).state, ColumnShape::State::kText);               // DOUBLE
  EXPECT_EQ(Shape({"2024-01-01T10:00:00"}).state, ColumnShape::State::kText);
  EXPECT_EQ(Shape({"2024-01-01", "2024-01-01 10:00:00"}).state, ColumnShape::State::kText);
  EXPECT_EQ(Shape({"2024-01-01 10:00:00", "2024-01-01 10:00:00.5"}).state, ColumnShape::State::kText);
  EXPECT_EQ(Shape({"007"}).state, ColumnShape::State::kText);
  EXPECT_EQ(Shape({"1", "x", "2"}).state, ColumnShape::State::kText);       // text for good
}

TEST(ColumnShape, Join) {
  ColumnShape a = Shape({"1.25", ""});
  a.Join(Shape({"12345.50"}));
  EXPECT_EQ(a.state, ColumnShape::State::kExact);
  EXPECT_EQ(a.int_digits, 5);
  EXPECT_EQ(a.empties, 1u);
  ColumnShape none = Shape({""});
  none.Join(a);
  EXPECT_EQ(none.state, ColumnShape::State::kExact);
  EXPECT_EQ(none.empties, 2u);
  a.Join(Shape({"1.5"}));
  EXPECT_EQ(a.state, ColumnShape::State::kText);
  ColumnShape b = Shape({"1"});
  b.Join(Shape({"2024-01-01"}));
  EXPECT_EQ(b.state, ColumnShape::State::kText);
}

TEST(ColumnShape, FitsExactAndStagingType) {
  ColumnShape money = Shape({"1.25", "99999.99"});
  EXPECT_EQ(StagingType(money, Infer({"1.25", "99999.99"}), false), "DECIMAL(7,2)");
  csv::ColumnType narrow = Infer({"1.25"});
  EXPECT_FALSE(money.FitsExact(narrow));  // needs more integer digits
  EXPECT_EQ(StagingType(Shape({"1", "2"}), Infer({"1", "2"}), false), "BIGINT");
  EXPECT_EQ(StagingType(Shape({"1", "1.5"}), Infer({"1", "1.5"}), false), "TEXT");  // DECIMAL at publish
  EXPECT_EQ(StagingType(Shape({""}), Infer({""}), false), "TEXT");
  EXPECT_EQ(StagingType(Shape({"1e5"}), Infer({"1e5"}), false), "TEXT");
  csv::ColumnType forced = *csv::ParseTypeName("decimal(10,2)");
  EXPECT_EQ(StagingType(Shape({"1"}), forced, true), "DECIMAL(10,2)");
  csv::ColumnType long_text = Infer({std::string(70000, 'x')});
  EXPECT_EQ(StagingType(Shape({"x"}), long_text, false), "MEDIUMTEXT");
}

}  // namespace
}  // namespace sluice::ingest
