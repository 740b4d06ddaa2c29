// The pipeline's two kinds of work item and the loop-side bookkeeping between
// them (see pipeline.hpp). A serial step takes the input written since the
// last one (and the buffers the splitter may reuse), hashes and inflates it,
// sniffs the delimiter once enough is there, and splits it into blocks; a
// parse task turns one block into an encoded block plus what it learnt (types
// widened, bad rows, the longest value per column). Only the loop thread
// decides what runs next, so no state is shared between running workers.
#include "ingest/pipeline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "db/table_ddl.hpp"
#include "ingest/defer.hpp"
#include "ingest/jsonl.hpp"
#include "ingest/pipeline_internal.hpp"
#include "loop/work_item.hpp"
#include "s3/sigv4.hpp"
#include "zlib/gzip_stream.hpp"

namespace sluice::ingest {
namespace {

/// A serial step takes at most this much input (latency and memory bound).
constexpr std::size_t kMaxStepBytes = std::size_t{4} << 20;
/// Writes are gathered into segments of about this size.
constexpr std::size_t kSegmentBytes = std::size_t{1} << 20;
/// The sniff sample grows (doubling) up to this when it holds no usable row.
constexpr std::size_t kMaxSniffBytes = std::size_t{8} << 20;
/// A gzip step takes less: its input may inflate many times over.
constexpr std::size_t kMaxGzipStepBytes = std::size_t{1} << 20;

/// True when `sample` holds no candidate delimiter outside quotes: a file of
/// one column, which sniffing cannot tell from anything (it needs > 1 field).
bool NoCandidateOutsideQuotes(std::string_view sample, char quote) {
  bool quoted = false;
  for (char c : sample) {
    if (c == quote) {
      quoted = !quoted;
    } else if (!quoted && csv::kSniffCandidates.find(c) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

/// What a block's text holds, for the memory budget.
std::uint64_t BlockBytes(const csv::Block& block) { return block.data.capacity(); }

bool IsBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n'; });
}

std::string Shorten(std::string_view value) {
  if (value.size() <= 40) return std::string(value);
  std::size_t cut = 40;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return std::string(value.substr(0, cut)) + "…";
}

}  // namespace

std::uint64_t TextCapacity(std::string_view sql_type) {
  auto type = db::ParseSqlType(sql_type);
  if (!type) return 0;
  switch (type->kind) {
    case db::SqlTypeKind::kText: return 0xFFFF;
    case db::SqlTypeKind::kMediumText: return 0xFFFFFF;
    case db::SqlTypeKind::kLongText: return 0xFFFFFFFFull;
    default: return 0;
  }
}

// ---- the serial chain (worker side) --------------------------------------------

struct Pipeline::SerialState {
  PipelineOptions options;
  s3::Sha256 sha;
  std::unique_ptr<glue::GzipInflater> gunzip;
  std::string sniff;  ///< the start of the (inflated) stream, until the dialect is known
  std::size_t sniff_threshold = 0;
  std::unique_ptr<csv::BlockSplitter> splitter;
  csv::Dialect dialect;
  bool header_done = false;
};

struct Pipeline::SerialStep {
  std::shared_ptr<SerialState> state;
  std::vector<std::string> segments;
  std::uint64_t segment_bytes = 0;
  bool finish = false;
  // Results.
  std::vector<csv::Block> blocks;
  std::optional<PipelineFailure> failure;
  bool header_now = false;
  std::vector<csv::Column> columns;
  std::unique_ptr<csv::SchemaInference> schema;  ///< what the first block says of the types
  std::vector<ColumnShape> shapes;                ///< and of their spellings
  csv::Dialect dialect;
  csv::Encoding encoding = csv::Encoding::kUtf8;
  std::uint64_t held_after = 0;
  std::string sha256;
};

namespace {

/// Makes the splitter from the sniff sample (whole: the input ended). Leaves
/// it null when more input is needed to tell the delimiter.
template <class State, class Step>
void MakeSplitter(State& s, Step& step, bool whole) {
  const csv::DialectOptions& opts = s.options.dialect;
  bool sniffing = (opts.delimiter == "auto" || opts.delimiter.empty()) && opts.format == csv::Format::kCsv &&
                  !s.options.jsonl;
  std::string_view sample = csv::StripUtf8Bom(s.sniff);
  core::Result<csv::Dialect> dialect = core::Status::Internal("unset");
  if (s.options.jsonl) {
    dialect = JsonlDialect();
  } else if (sniffing && IsBlank(sample)) {
    csv::DialectOptions comma = opts;
    comma.delimiter = ",";
    dialect = csv::ResolveDialect(comma, sample, whole);
  } else {
    dialect = csv::ResolveDialect(opts, sample, whole);
    if (!dialect && sniffing) {
      if (!whole && s.sniff.size() < kMaxSniffBytes) {  // maybe no whole row yet: look at more
        s.sniff_threshold = std::max(s.sniff_threshold * 2, s.sniff.size() + 1);
        return;
      }
      if (NoCandidateOutsideQuotes(sample, opts.quote.empty() ? '"' : opts.quote[0])) {
        csv::DialectOptions comma = opts;  // one column: any delimiter reads it; ',' as the default
        comma.delimiter = ",";
        dialect = csv::ResolveDialect(comma, sample, whole);
      }
    }
  }
  if (!dialect) {
    step.failure = PipelineFailure{"invalid_csv", dialect.error().message()};
    return;
  }
  s.dialect = *dialect;
  s.splitter = std::make_unique<csv::BlockSplitter>(s.dialect, csv::SplitterOptions{.target_bytes = s.options.block_bytes});
  std::string sniffed = std::move(s.sniff);
  s.sniff = std::string();
  if (!sniffed.empty()) {
    if (auto st = s.splitter->Feed(sniffed, step.blocks); !st.ok()) {
      step.failure = PipelineFailure{"invalid_csv", st.message()};
    }
  }
}

template <class State, class Step>
void Consume(State& s, Step& step, std::string_view data) {
  if (step.failure) return;
  if (!s.splitter) {
    s.sniff.append(data);
    const csv::DialectOptions& opts = s.options.dialect;
    bool sniffing = (opts.delimiter == "auto" || opts.delimiter.empty()) && opts.format == csv::Format::kCsv &&
                    !s.options.jsonl;
    if (!sniffing || s.sniff.size() >= s.sniff_threshold) MakeSplitter(s, step, false);
    return;
  }
  if (auto st = s.splitter->Feed(data, step.blocks); !st.ok()) {
    step.failure = PipelineFailure{"invalid_csv", st.message()};
  }
}

}  // namespace

namespace {

/// Worker: one serial step (see the top of the file).
template <class State, class Step>
void RunSerial(Step& step) {
  State& s = *step.state;
  for (const auto& segment : step.segments) {
    if (step.failure) break;
    s.sha.Update(segment);
    if (s.gunzip) {
      bool ok = s.gunzip->Feed(segment, [&](std::string_view out) { Consume(s, step, out); });
      if (!ok && !step.failure) {
        step.failure = PipelineFailure{"invalid_gzip", "the gzip data is corrupt: " + s.gunzip->error()};
      }
    } else {
      Consume(s, step, segment);
    }
  }
  if (step.finish && !step.failure) {
    if (s.gunzip && !s.gunzip->Finish()) {
      step.failure = PipelineFailure{"invalid_gzip", "the gzip data ends early: " + s.gunzip->error()};
    }
    if (!step.failure && !s.splitter) MakeSplitter(s, step, true);
    if (!step.failure && s.splitter) {
      if (auto st = s.splitter->Finish(step.blocks); !st.ok()) {
        step.failure = PipelineFailure{"invalid_csv", st.message()};
      }
    }
    step.sha256 = s.sha.FinalHex();
  }
  if (!step.failure && !s.header_done && !step.blocks.empty() && s.options.jsonl) {
    s.header_done = true;  // JSON Lines: the columns come from the parsed objects
  } else if (!step.failure && !s.header_done && !step.blocks.empty()) {
    const csv::Block& first = step.blocks.front();
    step.encoding = csv::DecideEncoding(s.options.encoding, first.data, s.splitter->had_bom());
    auto row = csv::ParseFirstRow(first.data, s.dialect, step.encoding, s.options.max_field_bytes);
    if (!row) {
      step.failure = PipelineFailure{"invalid_csv", fmt::format("the first row (line {}): {}", first.first_line,
                                                                row.error().message())};
    } else {
      step.columns = s.dialect.header ? csv::NameColumns(*row) : csv::DefaultColumns(row->size());
      step.dialect = s.dialect;
      step.header_now = true;
      s.header_done = true;
      // A first look at the types, so the staging table starts with them
      // (the block is parsed again, for real, like any other).
      auto schema = csv::SchemaInference::Make(step.columns, s.options.types);
      if (!schema) {
        step.failure = PipelineFailure{"invalid_parameter", schema.error().message()};
      } else {
        csv::Block probe = first;
        csv::ParseOptions po;
        po.dialect = s.dialect;
        po.encoding = step.encoding;
        po.expected_fields = step.columns.size();
        po.skip_header = s.dialect.header;
        po.max_field_bytes = s.options.max_field_bytes;
        csv::ParsedBlock parsed = csv::ParseBlock(std::move(probe), po);
        step.shapes.assign(step.columns.size(), ColumnShape{});
        for (std::size_t r = 0; r < parsed.row_count(); ++r) {
          auto fields = parsed.row(r).fields;
          schema->Observe(fields);
          for (std::size_t i = 0; i < fields.size(); ++i) step.shapes[i].Observe(fields[i]);
        }
        step.schema = std::make_unique<csv::SchemaInference>(std::move(*schema));
      }
    }
  }
  if (step.finish && !step.failure && !s.header_done) {
    step.failure = PipelineFailure{"no_header", s.options.jsonl ? "the file is empty: it has no JSON object"
                                                : s.options.dialect.header ? "the file is empty: it has no header row"
                                                                           : "the file is empty: it has no rows"};
  }
  step.held_after = s.splitter ? s.splitter->held_bytes() : s.sniff.capacity();
}

}  // namespace

// ---- parse tasks (worker side) -------------------------------------------------

struct Pipeline::ParseTask {
  csv::Block block;
  std::shared_ptr<const ParseContext> context;
  std::unique_ptr<csv::SchemaInference> local;
  std::uint64_t counted = 0;  ///< bytes counted for this task while it runs
  // Results.
  EncodedBlock encoded;
  std::vector<std::uint64_t> max_bytes;
  std::vector<ColumnShape> shapes;
  std::vector<csv::BadRow> bad;
  std::uint64_t bad_count = 0;
  std::uint64_t good = 0;
};

namespace {

/// Why `value` cannot go into column `i`, or empty when it can.
template <class Context>
std::string CheckValue(const Context& c, std::size_t i, std::string_view value) {
  if (c.plan.max_bytes[i] != 0 && value.size() > c.plan.max_bytes[i]) {
    return fmt::format("column '{}': a value of {} bytes is longer than the column holds ({} bytes)", c.names[i],
                       value.size(), c.plan.max_bytes[i]);
  }
  const auto& required = c.plan.required[i];
  if (required && !value.empty() && !csv::Fits(*required, value)) {
    return fmt::format("column '{}': '{}' is not a {} value", c.names[i], Shorten(value), csv::SqlTypeText(*required));
  }
  return {};
}

template <class Task>
void RunParse(Task& t) {
  const auto& c = *t.context;
  csv::ParseOptions options = c.parse;
  options.skip_header = t.block.index == 0 && c.header;
  const std::size_t text_bytes = t.block.data.size();
  csv::ParsedBlock parsed = csv::ParseBlock(std::move(t.block), options);

  const std::size_t columns = c.names.size();
  EncoderOptions encoder_options;
  encoder_options.method = LoadMethod::kLoadData;
  encoder_options.column_count = columns;
  encoder_options.empty_is_null = c.plan.empty_is_null;
  encoder_options.reserve_bytes = text_bytes + text_bytes / 8 + parsed.row_count() * 24;
  BlockEncoder encoder(std::move(encoder_options));

  t.max_bytes.assign(columns, 0);
  t.shapes.assign(columns, ColumnShape{});
  t.bad = parsed.bad_rows();
  t.bad_count = parsed.bad_row_count();
  bool resort = false;
  for (std::size_t r = 0; r < parsed.row_count(); ++r) {
    csv::RowView row = parsed.row(r);
    if (c.checks) {
      std::string reason;
      for (std::size_t i = 0; i < columns && reason.empty(); ++i) reason = CheckValue(c, i, row.fields[i]);
      if (!reason.empty()) {
        ++t.bad_count;
        if (t.bad.size() < c.parse.max_bad_rows) {
          t.bad.push_back(csv::BadRow{row.line, row.record, csv::BadRowKind::kFieldCount, std::move(reason)});
          resort = true;
        }
        continue;
      }
    }
    for (std::size_t i = 0; i < columns; ++i) {
      t.max_bytes[i] = std::max<std::uint64_t>(t.max_bytes[i], row.fields[i].size());
      t.shapes[i].Observe(row.fields[i]);
    }
    t.local->Observe(row.fields);
    encoder.Add(row.record + c.row_offset, row.fields);
    ++t.good;
  }
  if (resort) {
    std::stable_sort(t.bad.begin(), t.bad.end(), [](const csv::BadRow& a, const csv::BadRow& b) { return a.line < b.line; });
    if (t.bad.size() > c.parse.max_bad_rows) t.bad.resize(c.parse.max_bad_rows);
  }
  t.encoded = encoder.Finish();
}  // the block's text and field table are freed here, on the worker

}  // namespace

// ---- the loop side -------------------------------------------------------------

std::shared_ptr<Pipeline> Pipeline::Create(uv_loop_t* loop, PipelineOptions options,
                                           std::shared_ptr<MemoryAccount> account, PipelineEvents events) {
  return std::shared_ptr<Pipeline>(new Pipeline(loop, std::move(options), std::move(account), std::move(events)));
}

Pipeline::Pipeline(uv_loop_t* loop, PipelineOptions options, std::shared_ptr<MemoryAccount> account,
                   PipelineEvents events)
    : loop_(loop), options_(std::move(options)), account_(std::move(account)), events_(std::move(events)),
      serial_(std::make_shared<SerialState>()) {
  if (options_.parse_slots == 0) options_.parse_slots = 1;
  serial_->options = options_;
  serial_->sniff_threshold = options_.sniff_bytes;
  if (options_.gzip) serial_->gunzip = std::make_unique<glue::GzipInflater>();
  json_override_used_.assign(options_.types.overrides.size(), false);
}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::Write(std::string_view bytes) {
  if (stopped_ || finish_requested_ || bytes.empty()) return;
  bytes_in_ += bytes.size();
  account_->Take(bytes.size());
  input_bytes_ += bytes.size();
  if (!input_.empty() && input_.back().size() + bytes.size() <= kSegmentBytes) {
    input_.back().append(bytes);
  } else {
    input_.emplace_back(bytes);
  }
  PumpSerial();
}

void Pipeline::Finish() {
  if (stopped_ || finish_requested_) return;
  finish_requested_ = true;
  PumpSerial();
}

void Pipeline::SetPlan(RowPlan plan) {
  if (stopped_ || !header_known_) return;
  auto context = std::make_shared<ParseContext>();
  context->parse.dialect = dialect_;
  context->parse.encoding = encoding_;
  context->parse.expected_fields = columns_.size();
  context->parse.max_bad_rows = csv::kDefaultMaxBadRows;
  context->parse.max_field_bytes = options_.max_field_bytes;
  context->header = dialect_.header;
  context->row_offset = dialect_.header ? 0 : 1;
  plan.empty_is_null.resize(columns_.size(), 0);
  plan.required.resize(columns_.size());
  plan.max_bytes.resize(columns_.size(), 0);
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (plan.required[i] || plan.max_bytes[i] != 0) context->checks = true;
    context->names.push_back(columns_[i].name);
  }
  context->plan = std::move(plan);
  parse_context_ = std::move(context);
  PumpParse();
}

std::vector<std::string> Pipeline::SqlTypes() const {
  if (!options_.jsonl) return schema_ ? schema_->SqlTypes() : std::vector<std::string>{};
  std::vector<std::string> types;
  for (std::size_t i = 0; i < json_types_.size(); ++i) {
    csv::ColumnType type = json_forced_[i] ? *json_forced_[i] : json_types_[i];
    type.max_bytes = json_types_[i].max_bytes;
    types.push_back(csv::SqlTypeText(type));
  }
  return types;
}

csv::ColumnType Pipeline::Inferred(std::size_t i) const {
  if (options_.jsonl) {
    csv::ColumnType type = json_forced_[i] ? *json_forced_[i] : json_types_[i];
    type.max_bytes = json_types_[i].max_bytes;
    return type;
  }
  return schema_->types()[i];
}

std::optional<csv::ColumnType> Pipeline::Forced(std::size_t i) const {
  if (options_.jsonl) return i < json_forced_.size() ? json_forced_[i] : std::nullopt;
  if (!schema_ || !schema_->forced(i)) return std::nullopt;
  return schema_->types()[i];
}

void Pipeline::Stop() {
  if (stopped_) return;
  stopped_ = true;
  std::uint64_t give = input_bytes_ + splitter_held_;
  for (const auto& block : blocks_) give += BlockBytes(block);
  give += StopJson();
  input_.clear();
  input_bytes_ = 0;
  splitter_held_ = 0;
  blocks_.clear();
  account_->Give(give);
}

void Pipeline::MemoryFreed() {
  if (!waiting_for_memory_ || stopped_ || repump_scheduled_) return;
  repump_scheduled_ = true;
  // Never inside the Give that called us (it may be one of ours).
  Defer(loop_, [weak = std::weak_ptr<Pipeline>(shared_from_this())] {
    auto self = weak.lock();
    if (!self) return;
    self->repump_scheduled_ = false;
    self->waiting_for_memory_ = false;
    self->PumpSerial();
    self->PumpParse();
  });
}

void Pipeline::Fail(std::string code, std::string message) {
  if (stopped_) return;
  Stop();
  if (events_.on_failed) events_.on_failed(PipelineFailure{std::move(code), std::move(message)});
}

void Pipeline::PumpSerial() {
  if (stopped_ || serial_busy_) return;
  bool send_finish = finish_requested_ && !finish_sent_;
  if (input_.empty() && !send_finish) return;
  // Past the grant, blocks waiting for a parse must go first: a step turns
  // input into blocks byte for byte, but inflated gzip into many more.
  if ((!blocks_.empty() || parsing_ > 0) && !account_->Fits(0)) {
    waiting_for_memory_ = true;
    return;
  }
  const std::size_t max_step = options_.gzip ? kMaxGzipStepBytes : kMaxStepBytes;
  auto step = std::make_shared<SerialStep>();
  step->state = serial_;
  while (!input_.empty() && (step->segments.empty() || step->segment_bytes + input_.front().size() <= max_step)) {
    step->segment_bytes += input_.front().size();
    step->segments.push_back(std::move(input_.front()));
    input_.pop_front();
  }
  input_bytes_ -= step->segment_bytes;
  if (input_.empty() && finish_requested_) {
    step->finish = true;
    finish_sent_ = true;
  }
  serial_busy_ = true;
  loop::SubmitWork(
      loop_, [step] { RunSerial<SerialState>(*step); },
      [self = shared_from_this(), step](int status) mutable { self->OnSerialDone(std::move(step), status); });
}

void Pipeline::OnSerialDone(std::shared_ptr<SerialStep> step, int status) {
  serial_busy_ = false;
  account_->Give(step->segment_bytes);
  if (stopped_) return;
  if (status != 0) return Fail("internal", fmt::format("input processing did not run: {}", uv_strerror(status)));
  if (step->held_after > splitter_held_) {
    account_->Take(step->held_after - splitter_held_);
  } else {
    account_->Give(splitter_held_ - step->held_after);
  }
  splitter_held_ = step->held_after;
  if (step->failure) return Fail(std::move(step->failure->code), std::move(step->failure->message));
  for (auto& block : step->blocks) {
    account_->Take(BlockBytes(block));
    blocks_.push_back(std::move(block));
  }
  if (step->finish) {
    serial_finished_ = true;
    sha256_ = std::move(step->sha256);
  }
  if (step->header_now) {
    columns_ = std::move(step->columns);
    dialect_ = step->dialect;
    encoding_ = step->encoding;
    schema_ = std::move(step->schema);
    shapes_ = std::move(step->shapes);
    header_known_ = true;
    if (events_.on_header) events_.on_header();
    if (stopped_) return;
  }
  PumpSerial();
  PumpParse();
  MaybeDone();
}

void Pipeline::PumpParse() {
  if (options_.jsonl) {
    PumpJson();
    PumpJsonEncode();
    return;
  }
  if (stopped_ || !parse_context_) return;
  while (parsing_ < options_.parse_slots && !blocks_.empty()) {
    // One parse always runs (so the upload progresses); more only within the grant.
    if (parsing_ > 0 && !account_->Fits(2 * BlockBytes(blocks_.front()))) {
      waiting_for_memory_ = true;
      break;
    }
    auto task = std::make_shared<ParseTask>();
    task->block = std::move(blocks_.front());
    blocks_.pop_front();
    task->context = parse_context_;
    task->local = std::make_unique<csv::SchemaInference>(*schema_);
    // The block's text is counted already; the parse adds its field table and
    // the encoded copy (about twice the text at most).
    task->counted = BlockBytes(task->block);
    account_->Take(task->counted * 2);
    task->counted += task->counted * 2;
    ++parsing_;
    loop::SubmitWork(
        loop_, [task] { RunParse(*task); },
        [self = shared_from_this(), task](int status) mutable { self->OnParseDone(std::move(task), status); });
  }
}

void Pipeline::OnParseDone(std::shared_ptr<ParseTask> task, int status) {
  --parsing_;
  account_->Give(task->counted);
  if (stopped_) return;
  if (status != 0) return Fail("internal", fmt::format("parsing did not run: {}", uv_strerror(status)));
  schema_->Merge(*task->local);
  for (std::size_t i = 0; i < shapes_.size() && i < task->shapes.size(); ++i) shapes_[i].Join(task->shapes[i]);
  rows_good_ += task->good;
  rows_bad_ += task->bad_count;
  if (!MergeBadRows(task->bad, task->bad_count)) return;
  account_->Take(task->encoded.held_bytes());
  if (events_.on_block) {
    events_.on_block(PipelineBlock{std::move(task->encoded), std::move(task->max_bytes), columns_.size(),
                                   std::move(task->shapes)});
  }
  if (stopped_) return;
  PumpParse();
  MaybeDone();
}

bool Pipeline::MergeBadRows(const std::vector<csv::BadRow>& bad, std::uint64_t count) {
  if (options_.abort_on_bad_row && count > 0) {
    std::string where = bad.empty() ? std::string("a row") : fmt::format("line {}", bad.front().line);
    std::string reason = bad.empty() ? std::string("bad row") : bad.front().reason;
    Fail("bad_row", fmt::format("{}: {} (on_error=abort)", where, reason));
    return false;
  }
  if (bad.empty() || bad_rows_.size() >= csv::kDefaultMaxBadRows + bad.size()) return true;
  bad_rows_.insert(bad_rows_.end(), bad.begin(), bad.end());
  std::stable_sort(bad_rows_.begin(), bad_rows_.end(),
                   [](const csv::BadRow& a, const csv::BadRow& b) { return a.line < b.line; });
  if (bad_rows_.size() > csv::kDefaultMaxBadRows) bad_rows_.resize(csv::kDefaultMaxBadRows);
  return true;
}

void Pipeline::MaybeDone() {
  if (done_ || stopped_ || !serial_finished_ || !blocks_.empty() || parsing_ > 0) return;
  if (options_.jsonl) {
    if (!json_parsed_.empty()) return;
    if (!header_known_) return Fail("no_header", "no line of the file is a JSON object with at least one key");
    if (!json_to_encode_.empty()) return;
    for (std::size_t i = 0; i < options_.types.overrides.size(); ++i) {
      if (!json_override_used_[i]) {
        return Fail("invalid_parameter", fmt::format("type.{}: the file has no such column",
                                                     options_.types.overrides[i].first));
      }
    }
  }
  done_ = true;
  if (events_.on_done) events_.on_done();
}

}  // namespace sluice::ingest
