// Encoder throughput (Google Benchmark): rows of `sluice gen` data, already
// split into fields, encoded for LOAD DATA and for multi-row INSERT; and the
// escaper alone on clean text and on text full of special bytes. Bytes/s are
// the CSV bytes the rows came from, so the figure adds to the parser's.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <vector>

#include "ingest/generator.hpp"
#include "ingest/load_encoder.hpp"

namespace {

using sluice::ingest::BlockEncoder;
using sluice::ingest::EncoderOptions;
using sluice::ingest::LoadMethod;

/// ~4 MiB of generated rows as field views (a naive split: gen's default
/// columns hold no embedded newlines; quoted fields keep their quotes, which
/// only matters for the byte count, not for the encoder's work).
struct Rows {
  std::string text;
  std::vector<std::string_view> fields;
  std::size_t columns = 0;
  std::size_t rows = 0;
};

const Rows& SampleRows() {
  static Rows rows = [] {
    Rows r;
    sluice::ingest::GeneratorOptions options;
    options.rows = 30000;
    options.header = false;
    sluice::ingest::CsvGenerator generator(options);
    while (generator.Next(r.text, 1 << 20)) {
    }
    r.columns = options.columns.size();
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < r.text.size(); ++i) {
      char c = r.text[i];
      if (c == '"') quoted = !quoted;
      if (!quoted && (c == ',' || c == '\n')) {
        r.fields.emplace_back(r.text.data() + start, i - start);
        start = i + 1;
        if (c == '\n') ++r.rows;
      }
    }
    return r;
  }();
  return rows;
}

void Encode(benchmark::State& state, LoadMethod method) {
  const Rows& rows = SampleRows();
  EncoderOptions options;
  options.method = method;
  options.column_count = rows.columns;
  options.insert_prefix = "INSERT INTO `t` (`_row`,`a`,`b`,`c`,`d`,`e`,`f`,`g`,`h`,`i`) VALUES ";
  options.reserve_bytes = rows.text.size() + rows.text.size() / 4;
  for (auto _ : state) {
    BlockEncoder encoder(options);
    std::span<const std::string_view> all(rows.fields);
    for (std::size_t r = 0; r < rows.rows; ++r) encoder.Add(r + 1, all.subspan(r * rows.columns, rows.columns));
    auto block = encoder.Finish();
    benchmark::DoNotOptimize(block);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * rows.text.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows.rows));
}

void BM_EncodeLoadData(benchmark::State& state) { Encode(state, LoadMethod::kLoadData); }
void BM_EncodeInsert(benchmark::State& state) { Encode(state, LoadMethod::kInsert); }

void Escape(benchmark::State& state, char special_every) {
  std::string value(4 << 20, 'x');
  if (special_every != 0) {
    for (std::size_t i = 0; i < value.size(); i += static_cast<std::size_t>(special_every)) value[i] = '\t';
  }
  std::string out;
  out.reserve(value.size() * 2);
  for (auto _ : state) {
    out.clear();
    sluice::ingest::AppendLoadValue(out, value);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * value.size()));
}

void BM_EscapeClean(benchmark::State& state) { Escape(state, 0); }
void BM_EscapeEvery16(benchmark::State& state) { Escape(state, 16); }

BENCHMARK(BM_EncodeLoadData)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeInsert)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EscapeClean)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EscapeEvery16)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
