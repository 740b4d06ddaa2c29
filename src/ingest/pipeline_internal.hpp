// What pipeline.cpp (CSV) and pipeline_jsonl.cpp (JSON Lines) share inside
// Pipeline: how the blocks of one upload are parsed once the job set the plan.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "csv/parser.hpp"
#include "ingest/pipeline.hpp"

namespace sluice::ingest {

/// Fixed after SetPlan; shared (read-only) by every parse task.
struct Pipeline::ParseContext {
  csv::ParseOptions parse;
  bool header = true;
  std::uint64_t row_offset = 0;  ///< `_row` = record number + this
  RowPlan plan;
  bool checks = false;           ///< some column has a required type or a cap
  std::vector<std::string> names;
};

}  // namespace sluice::ingest
