// See column_shape.hpp. Observe() classifies a value with the type inference's
// own Classify (so a shape and the inferred type always agree on the kind)
// and then checks the spellings MariaDB would not give back.
#include "ingest/column_shape.hpp"

#include <algorithm>

namespace sluice::ingest {
namespace {

/// `-0`, `-0.00`: a typed column stores a plain zero.
bool NegativeZero(std::string_view value) {
  if (value.empty() || value[0] != '-') return false;
  for (char c : value.substr(1)) {
    if (c != '0' && c != '.') return false;
  }
  return true;
}

}  // namespace

void ColumnShape::Observe(std::string_view value) {
  if (value.empty()) {
    ++empties;
    return;
  }
  if (state == State::kText) return;
  const csv::ColumnType t = csv::Classify(value);
  bool exact = false;
  switch (t.kind) {
    case csv::TypeKind::kBigint: exact = !NegativeZero(value); break;
    case csv::TypeKind::kDecimal: exact = !NegativeZero(value); break;
    case csv::TypeKind::kDate: exact = true; break;
    case csv::TypeKind::kDatetime: exact = value.size() > 10 && value[10] == ' '; break;
    default: break;  // DOUBLE, TEXT
  }
  if (!exact) {
    state = State::kText;
    return;
  }
  if (state == State::kNone) {
    state = State::kExact;
    kind = t.kind;
    scale = t.scale;
    int_digits = t.int_digits;
    return;
  }
  if (t.kind != kind || t.scale != scale) {
    state = State::kText;
    return;
  }
  int_digits = std::max(int_digits, t.int_digits);
}

void ColumnShape::Join(const ColumnShape& other) {
  empties += other.empties;
  if (other.state == State::kNone || state == State::kText) return;
  if (other.state == State::kText || state == State::kNone) {
    const std::uint64_t count = empties;
    *this = other;
    empties = count;
    return;
  }
  if (other.kind != kind || other.scale != scale) {
    state = State::kText;
    return;
  }
  int_digits = std::max(int_digits, other.int_digits);
}

bool ColumnShape::FitsExact(const csv::ColumnType& staged) const {
  switch (state) {
    case State::kNone: return true;
    case State::kText: return false;
    case State::kExact: break;
  }
  if (staged.kind != kind || staged.scale != scale) return false;
  if (kind == csv::TypeKind::kDecimal) return int_digits <= staged.int_digits;
  return true;
}

std::string StagingType(const ColumnShape& shape, const csv::ColumnType& inferred, bool forced) {
  if (forced || (shape.state == ColumnShape::State::kExact && shape.FitsExact(inferred))) {
    return csv::SqlTypeText(inferred);
  }
  csv::ColumnType text;
  text.kind = csv::TypeKind::kText;
  text.max_bytes = inferred.max_bytes;
  return csv::SqlTypeText(text);
}

}  // namespace sluice::ingest
