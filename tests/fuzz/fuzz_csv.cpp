// Fuzz target: the CSV engine as an upload uses it — delimiter sniffing,
// BlockSplitter fed in pieces, ParseBlock per block, header naming and type
// inference — with one invariant on top of "no crash, no sanitizer report":
// whatever the piece sizes and block target, the rows (fields, lines, record
// numbers), bad rows and record count are exactly those of the whole input
// parsed as one block.
//
// Input: byte 0 picks the dialect (delimiter `,` `;` tab `|` or sniffed,
// quote `"` or `'`, header or not) and the encoding; bytes 1–4 seed the
// piece sizes; byte 5 the block target (1…256 bytes, so inputs make many
// blocks); the rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "csv/dialect.hpp"
#include "csv/encoding.hpp"
#include "csv/header.hpp"
#include "csv/parser.hpp"
#include "csv/splitter.hpp"
#include "csv/type_inference.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace sluice::csv;

struct Outcome {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::uint64_t> lines;
  std::vector<std::uint64_t> records;
  std::vector<std::pair<std::uint64_t, std::string>> bad;  // line, reason
  std::uint64_t bad_count = 0;
  std::uint64_t record_count = 0;
  bool operator==(const Outcome&) const = default;
};

void Collect(const ParsedBlock& pb, Outcome& out) {
  for (std::string_view h : pb.header()) out.header.emplace_back(h);
  for (std::size_t i = 0; i < pb.row_count(); ++i) {
    const RowView row = pb.row(i);
    out.rows.emplace_back(row.fields.begin(), row.fields.end());
    out.lines.push_back(row.line);
    out.records.push_back(row.record);
  }
  for (const BadRow& b : pb.bad_rows()) {
    if (out.bad.size() < kDefaultMaxBadRows) out.bad.emplace_back(b.line, b.reason);
  }
  out.bad_count += pb.bad_row_count();
  out.record_count += pb.record_count();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::fuzz::ByteReader in(data, size);
  const std::uint8_t mode = in.Byte();
  const std::uint32_t seed = in.U32();
  const std::size_t target_bytes = 1 + in.Byte();
  const std::string_view file = in.Rest();

  static constexpr char kDelimiters[] = {',', ';', '\t', '|'};
  const char quote = (mode & 0x08) != 0 ? '\'' : '"';
  const bool header = (mode & 0x10) == 0;
  Dialect dialect;
  if ((mode & 0x04) != 0) {  // delimiter=auto, on the whole file
    DialectOptions options;
    options.quote = std::string(1, quote);
    options.header = header;
    auto resolved = ResolveDialect(options, StripUtf8Bom(file), true);
    if (!resolved) return 0;  // "cannot tell the delimiter": an answer, not a finding
    dialect = *resolved;
  } else {
    dialect = Dialect{kDelimiters[mode & 0x03], quote, header};
  }
  FUZZ_CHECK(ValidateDialect(dialect).ok(), "dialect invalid");
  const Encoding requested = (mode & 0x20) != 0 ? Encoding::kLatin1 : Encoding::kAuto;

  // Split in pieces, parse block by block as the pipeline does.
  SplitterOptions so;
  so.target_bytes = target_bytes;
  BlockSplitter splitter(dialect, so);
  std::vector<Block> blocks;
  std::size_t pos = 0;
  for (std::size_t n : sluice::fuzz::Pieces(seed, file.size())) {
    FUZZ_CHECK(splitter.Feed(file.substr(pos, n), blocks).ok(), "Feed failed");
    pos += n;
  }
  FUZZ_CHECK(splitter.Finish(blocks).ok(), "Finish failed");

  Encoding encoding = Encoding::kUtf8;
  Outcome split;
  std::size_t expected = 0;
  std::uint64_t next_record = 0;
  std::uint64_t next_line = 1;
  std::vector<Column> columns;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    Block& b = blocks[i];
    FUZZ_CHECK(b.index == i, "block index %zu", i);
    FUZZ_CHECK(b.first_record == next_record, "block %zu first_record", i);
    FUZZ_CHECK(b.first_line >= next_line, "block %zu first_line", i);
    FUZZ_CHECK(b.record_count > 0, "block %zu empty", i);
    next_record += b.record_count;
    next_line = b.first_line + b.line_count;
    if (i == 0) {
      encoding = DecideEncoding(requested, b.data, splitter.had_bom());
      auto first = ParseFirstRow(b.data, dialect, encoding);
      if (first) columns = dialect.header ? NameColumns(*first) : DefaultColumns(first->size());
    }
    const std::uint64_t block_records = b.record_count;
    ParseOptions po;
    po.dialect = dialect;
    po.encoding = encoding;
    po.expected_fields = expected;
    po.skip_header = (i == 0) && dialect.header;
    ParsedBlock pb = ParseBlock(std::move(b), po);
    FUZZ_CHECK(pb.record_count() == block_records, "block %zu: parser and splitter disagree on records", i);
    if (i == 0) expected = pb.field_count();
    Collect(pb, split);
    if (!columns.empty() && pb.field_count() == columns.size()) {
      auto schema = SchemaInference::Make(columns, TypeOptions{});
      if (schema) {
        schema->Observe(pb);
        for (const std::string& t : schema->SqlTypes()) FUZZ_CHECK(!t.empty(), "empty SQL type");
      }
    }
  }
  FUZZ_CHECK(splitter.records_emitted() == next_record, "records_emitted");

  // The whole file as one block.
  Block whole;
  whole.data = std::string(StripUtf8Bom(file));
  Outcome one;
  if (!whole.data.empty()) {
    ParseOptions po;
    po.dialect = dialect;
    po.encoding = encoding;
    po.skip_header = dialect.header;
    Collect(ParseBlock(std::move(whole), po), one);
  }
  if (blocks.empty()) {
    FUZZ_CHECK(one.rows.empty() && one.bad_count == 0 && one.header.empty(), "splitter found no rows, parser did");
    return 0;
  }
  FUZZ_CHECK(split == one, "chunked parse differs from the whole parse (%zu vs %zu rows, %llu vs %llu bad)",
             split.rows.size(), one.rows.size(), static_cast<unsigned long long>(split.bad_count),
             static_cast<unsigned long long>(one.bad_count));
  for (const Column& c : columns) FUZZ_CHECK(!c.name.empty() && IsValidUtf8(c.name), "bad column name");
  return 0;
}
