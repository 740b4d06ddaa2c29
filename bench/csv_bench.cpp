// CSV engine throughput (Google Benchmark), on one core, over a realistic CSV
// generated in memory (~64 MiB, seeded): integer ids, uuids, quoted
// "Last, First" names (some with doubled quotes), decimal amounts, dates,
// date-times, cities with some empty, small integers, and notes that are often
// empty and sometimes quoted with commas and line breaks.
//
//   BM_Split         BlockSplitter fed 64 KiB chunks, 4 MiB blocks, all kept
//   BM_SplitRecycled the same, each block's buffer recycled (steady state)
//   BM_Parse         ParseBlock of those blocks (UTF-8, validated)
//   BM_ParseLatin1   ParseBlock with Latin-1 → UTF-8 transcoding
//   BM_ParseInfer    ParseBlock + SchemaInference::Observe
//   BM_Pipeline      split + parse + infer + recycle, one thread: per-core figure
//   BM_ParseEncode   one upload worker's whole job per block: ParseBlock, type
//                    inference and column shapes per row, LOAD DATA encoding
//   BM_ValidateUtf8  simdjson::validate_utf8 alone, for reference
//
// Each benchmark is one thread, so rates are per core and computed from CPU
// time (on a shared machine, wall time also counts other processes).
// Run a Release build: bench_csv --benchmark_repetitions=5; Google Benchmark
// runs warm-up iterations to size the timed ones.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "csv/encoding.hpp"
#include "csv/header.hpp"
#include "csv/parser.hpp"
#include "csv/splitter.hpp"
#include "csv/type_inference.hpp"
#include "ingest/column_shape.hpp"
#include "ingest/load_encoder.hpp"

namespace sluice::csv {
namespace {

constexpr std::size_t kFileBytes = std::size_t{64} << 20;
constexpr std::size_t kChunk = std::size_t{64} << 10;
constexpr std::size_t kTarget = std::size_t{4} << 20;

std::string Generate() {
  std::mt19937_64 rng(42);
  const char* first[] = {"John", "Mary", "Pat", "Ana", "Li", "Olga", "Jean-Luc", "Zoë", "Kwame", "Aiko"};
  const char* last[] = {"Smith", "O\"\"Brien", "García", "Nguyen", "Müller", "Rossi", "Kowalski", "Dubois"};
  const char* cities[] = {"Paris", "New York", "São Paulo", "", "Berlin", "Tokyo", "", "Lagos", "Zürich"};
  const char* notes[] = {"", "", "", "ok", "\"late, again\"", "\"two\nlines\"", "refund", ""};
  std::string out = "id,uuid,name,amount,date,updated_at,city,qty,note\n";
  out.reserve(kFileBytes + 256);
  char buf[512];
  for (std::uint64_t id = 1; out.size() < kFileBytes; ++id) {
    const std::uint64_t r = rng();
    const int n = std::snprintf(
        buf, sizeof buf,
        "%llu,%08llx-%04llx-4%03llx-a%03llx-%012llx,\"%s, %s\",%llu.%02llu,2024-%02llu-%02llu,"
        "2024-%02llu-%02llu %02llu:%02llu:%02llu,%s,%llu,%s\n",
        static_cast<unsigned long long>(id), static_cast<unsigned long long>(r & 0xFFFFFFFF),
        static_cast<unsigned long long>((r >> 32) & 0xFFFF), static_cast<unsigned long long>((r >> 48) & 0xFFF),
        static_cast<unsigned long long>(rng() & 0xFFF), static_cast<unsigned long long>(rng() & 0xFFFFFFFFFFFF),
        last[rng() % std::size(last)], first[rng() % std::size(first)],
        static_cast<unsigned long long>(rng() % 100000), static_cast<unsigned long long>(rng() % 100),
        static_cast<unsigned long long>(1 + rng() % 12), static_cast<unsigned long long>(1 + rng() % 28),
        static_cast<unsigned long long>(1 + rng() % 12), static_cast<unsigned long long>(1 + rng() % 28),
        static_cast<unsigned long long>(rng() % 24), static_cast<unsigned long long>(rng() % 60),
        static_cast<unsigned long long>(rng() % 60), cities[rng() % std::size(cities)],
        static_cast<unsigned long long>(rng() % 50), notes[rng() % std::size(notes)]);
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

const std::string& File() {
  static const std::string file = Generate();
  return file;
}

/// The file in Latin-1 (its non-ASCII letters are all in Latin-1).
const std::string& Latin1File() {
  static const std::string file = [] {
    std::string out;
    const std::string& utf8 = File();
    out.reserve(utf8.size());
    for (std::size_t i = 0; i < utf8.size(); ++i) {
      const auto c = static_cast<unsigned char>(utf8[i]);
      if (c == 0xC3 && i + 1 < utf8.size()) {
        out.push_back(static_cast<char>(0xC0 | (static_cast<unsigned char>(utf8[++i]) & 0x3F)));
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    return out;
  }();
  return file;
}

std::vector<Block> Split(const std::string& file) {
  SplitterOptions so;
  so.target_bytes = kTarget;
  BlockSplitter splitter(Dialect{}, so);
  std::vector<Block> blocks;
  for (std::size_t pos = 0; pos < file.size(); pos += kChunk) {
    if (!splitter.Feed(std::string_view(file).substr(pos, kChunk), blocks).ok()) std::abort();
  }
  if (!splitter.Finish(blocks).ok()) std::abort();
  return blocks;
}

ParseOptions Options(const Block& b, std::size_t fields, Encoding encoding) {
  ParseOptions po;
  po.encoding = encoding;
  po.skip_header = b.index == 0;
  po.expected_fields = fields;
  return po;
}

void BM_Split(benchmark::State& state) {
  const std::string& file = File();
  for (auto _ : state) {
    std::vector<Block> blocks = Split(file);
    benchmark::DoNotOptimize(blocks.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file.size()));
}

// The steady state of an upload: each block's buffer comes back (Recycle)
// once it is loaded, so blocks reuse memory instead of faulting in new pages.
void BM_SplitRecycled(benchmark::State& state) {
  const std::string& file = File();
  std::uint64_t blocks_seen = 0;
  for (auto _ : state) {
    SplitterOptions so;
    so.target_bytes = kTarget;
    BlockSplitter splitter(Dialect{}, so);
    std::vector<Block> blocks;
    for (std::size_t pos = 0; pos < file.size(); pos += kChunk) {
      (void)splitter.Feed(std::string_view(file).substr(pos, kChunk), blocks);
      for (Block& b : blocks) splitter.Recycle(std::move(b.data));
      blocks_seen += blocks.size();
      blocks.clear();
    }
    (void)splitter.Finish(blocks);
    blocks_seen += blocks.size();
  }
  benchmark::DoNotOptimize(blocks_seen);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file.size()));
}

void ParseBench(benchmark::State& state, const std::string& file, Encoding encoding, bool infer) {
  const std::vector<Block> blocks = Split(file);
  const std::vector<Column> columns = DefaultColumns(9);
  std::size_t rows = 0, bad = 0;
  for (auto _ : state) {
    SchemaInference inference = *SchemaInference::Make(columns, {});
    for (const Block& original : blocks) {
      state.PauseTiming();
      Block copy = original;
      state.ResumeTiming();
      ParsedBlock pb = ParseBlock(std::move(copy), Options(original, 9, encoding));
      if (infer) inference.Observe(pb);
      rows += pb.row_count();
      bad += pb.bad_row_count();
    }
    benchmark::DoNotOptimize(inference.types().data());
  }
  if (bad != 0) state.SkipWithError("bad rows in the generated file");
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file.size()));
}

void BM_Parse(benchmark::State& state) { ParseBench(state, File(), Encoding::kUtf8, false); }
void BM_ParseLatin1(benchmark::State& state) { ParseBench(state, Latin1File(), Encoding::kLatin1, false); }
void BM_ParseInfer(benchmark::State& state) { ParseBench(state, File(), Encoding::kUtf8, true); }

void BM_Pipeline(benchmark::State& state) {
  const std::string& file = File();
  std::vector<std::string> types;
  for (auto _ : state) {
    SchemaInference inference = *SchemaInference::Make(DefaultColumns(9), {});
    SplitterOptions so;
    so.target_bytes = kTarget;
    BlockSplitter splitter(Dialect{}, so);
    std::vector<Block> blocks;
    auto drain = [&] {
      for (Block& b : blocks) {
        const std::size_t index = b.index;
        Block taken = std::move(b);
        ParseOptions po;
        po.skip_header = index == 0;
        po.expected_fields = 9;
        ParsedBlock pb = ParseBlock(std::move(taken), po);
        inference.Observe(pb);
        splitter.Recycle(pb.ReleaseText());
      }
      blocks.clear();
    };
    for (std::size_t pos = 0; pos < file.size(); pos += kChunk) {
      (void)splitter.Feed(std::string_view(file).substr(pos, kChunk), blocks);
      drain();
    }
    (void)splitter.Finish(blocks);
    drain();
    types = inference.SqlTypes();
  }
  state.SetLabel(types.empty() ? "" : types[0] + "," + types[3] + "," + types[4] + "," + types[5]);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file.size()));
}

// What a parse task of an upload does with one block (pipeline.cpp RunParse,
// without the checks only forced types need): the target is >= 300 MB/s of
// CSV per core.
void BM_ParseEncode(benchmark::State& state) {
  const std::string& file = File();
  const std::vector<Block> blocks = Split(file);
  const std::vector<Column> columns = DefaultColumns(9);
  std::size_t rows = 0, bad = 0, encoded = 0;
  for (auto _ : state) {
    SchemaInference inference = *SchemaInference::Make(columns, {});
    std::vector<ingest::ColumnShape> shapes(columns.size());
    for (const Block& original : blocks) {
      state.PauseTiming();
      Block copy = original;
      state.ResumeTiming();
      const std::size_t text_bytes = copy.data.size();
      ParsedBlock pb = ParseBlock(std::move(copy), Options(original, 9, Encoding::kUtf8));
      ingest::EncoderOptions eo;
      eo.method = ingest::LoadMethod::kLoadData;
      eo.column_count = columns.size();
      eo.empty_is_null = {1, 0, 0, 1, 1, 1, 0, 1, 0};  // the typed columns: id, amount, dates, qty
      eo.reserve_bytes = text_bytes + text_bytes / 8 + pb.row_count() * 24;
      ingest::BlockEncoder encoder(std::move(eo));
      for (std::size_t r = 0; r < pb.row_count(); ++r) {
        RowView row = pb.row(r);
        for (std::size_t i = 0; i < columns.size(); ++i) shapes[i].Observe(row.fields[i]);
        inference.Observe(row.fields);
        encoder.Add(row.record + 1, row.fields);
      }
      ingest::EncodedBlock block = encoder.Finish();
      encoded += block.bytes();
      rows += pb.row_count();
      bad += pb.bad_row_count();
    }
    benchmark::DoNotOptimize(inference.types().data());
  }
  if (bad != 0) state.SkipWithError("bad rows in the generated file");
  benchmark::DoNotOptimize(encoded);
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file.size()));
}

void BM_ValidateUtf8(benchmark::State& state) {
  const std::string& file = File();
  for (auto _ : state) benchmark::DoNotOptimize(IsValidUtf8(file));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * file.size()));
}

BENCHMARK(BM_Split)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SplitRecycled)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Parse)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseLatin1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseInfer)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Pipeline)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseEncode)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ValidateUtf8)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice::csv

BENCHMARK_MAIN();
