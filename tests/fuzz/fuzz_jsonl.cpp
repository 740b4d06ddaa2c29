// Fuzz target: JSON Lines — the splitter with JsonlDialect() fed in pieces,
// ParseJsonBlock per block (simdjson On Demand). Invariant on top of "no
// crash, no sanitizer report": the good rows (every key → value, null or
// not, and line), the bad rows (line, reason) and the counts are the same as
// the whole input parsed as one block, whatever the pieces and block target;
// record numbers rise strictly (they become `_row`).
//
// Input: bytes 0–3 seed the pieces, byte 4 the block target (1…256 bytes),
// the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "csv/splitter.hpp"
#include "fuzz_support.hpp"
#include "ingest/jsonl.hpp"

namespace {

using sluice::ingest::JsonBlock;

struct Outcome {
  std::vector<std::vector<std::tuple<std::string, std::string, bool>>> rows;  // key, value, null
  std::vector<std::uint64_t> lines;
  std::vector<std::pair<std::uint64_t, std::string>> bad;
  std::uint64_t bad_count = 0;
  bool operator==(const Outcome&) const = default;
};

void Collect(const JsonBlock& b, Outcome& out, std::uint64_t& last_record, bool& any) {
  FUZZ_CHECK(b.row_begin.size() == b.row_count() + 1 || (b.row_count() == 0 && b.row_begin.size() <= 1),
             "row_begin has %zu entries for %zu rows", b.row_begin.size(), b.row_count());
  for (std::size_t r = 0; r < b.row_count(); ++r) {
    std::vector<std::tuple<std::string, std::string, bool>> row;
    for (std::uint32_t i = b.row_begin[r]; i < b.row_begin[r + 1]; ++i) {
      const JsonBlock::Cell& cell = b.cells[i];
      FUZZ_CHECK(cell.key < b.keys.size(), "cell key out of range");
      FUZZ_CHECK(std::size_t{cell.offset} + cell.length <= b.arena.size(), "cell past the arena");
      row.emplace_back(b.keys[cell.key], std::string(b.Value(cell)), cell.null);
    }
    out.rows.push_back(std::move(row));
    out.lines.push_back(b.lines[r]);
    FUZZ_CHECK(!any || b.records[r] > last_record, "record numbers must rise");
    last_record = b.records[r];
    any = true;
  }
  for (const auto& bad : b.bad) {
    if (out.bad.size() < sluice::csv::kDefaultMaxBadRows) out.bad.emplace_back(bad.line, bad.reason);
  }
  out.bad_count += b.bad_count;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::fuzz::ByteReader in(data, size);
  const std::uint32_t seed = in.U32();
  const std::size_t target_bytes = 1 + in.Byte();
  const std::string_view file = in.Rest();

  sluice::csv::SplitterOptions so;
  so.target_bytes = target_bytes;
  sluice::csv::BlockSplitter splitter(sluice::ingest::JsonlDialect(), so);
  std::vector<sluice::csv::Block> blocks;
  std::size_t pos = 0;
  for (std::size_t n : sluice::fuzz::Pieces(seed, file.size())) {
    FUZZ_CHECK(splitter.Feed(file.substr(pos, n), blocks).ok(), "Feed failed");
    pos += n;
  }
  FUZZ_CHECK(splitter.Finish(blocks).ok(), "Finish failed");
  Outcome split;
  std::uint64_t last = 0;
  bool any = false;
  for (const auto& b : blocks) Collect(sluice::ingest::ParseJsonBlock(b), split, last, any);

  // The whole file as one block (a leading BOM dropped, as the splitter does).
  Outcome one;
  std::uint64_t last_one = 0;
  bool any_one = false;
  sluice::csv::Block whole;
  whole.data = std::string(file.substr(file.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0));
  Collect(sluice::ingest::ParseJsonBlock(whole), one, last_one, any_one);
  FUZZ_CHECK(split == one, "chunked JSON Lines differ from the whole (%zu vs %zu rows, %llu vs %llu bad)",
             split.rows.size(), one.rows.size(), static_cast<unsigned long long>(split.bad_count),
             static_cast<unsigned long long>(one.bad_count));
  return 0;
}
