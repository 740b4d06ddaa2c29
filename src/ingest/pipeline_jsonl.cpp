// Pipeline, the JSON Lines half (see pipeline.hpp and jsonl.hpp). A block
// goes through two work items instead of one: ParseJsonBlock turns its lines
// into values keyed by the block's own keys; then, once the keys of every
// earlier block are merged (so columns appear in the file's first-seen order,
// whatever order the workers finish in), the block's keys are mapped to the
// table's columns and a second work item checks, infers and encodes its rows
// against that many columns. New keys become new columns (on_columns_added);
// rows before them hold NULL there, and a block is always encoded with the
// columns known when it was merged, so its width never changes afterwards.
#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "db/sql_quote.hpp"
#include "ingest/jsonl.hpp"
#include "ingest/pipeline.hpp"
#include "ingest/pipeline_internal.hpp"
#include "loop/work_item.hpp"

namespace sluice::ingest {

struct Pipeline::JsonTask {
  csv::Block block;
  std::uint64_t index = 0;
  std::uint64_t counted = 0;  ///< bytes counted for this task now
  JsonBlock parsed;
  // Encoding inputs, set at merge time.
  std::vector<std::uint32_t> mapping;  ///< block key → column
  std::size_t width = 0;               ///< columns known at merge time
  std::vector<std::string> names;
  std::vector<std::optional<csv::ColumnType>> required;
  std::vector<std::uint64_t> caps;
  std::vector<std::uint8_t> empty_is_null;
  // Results.
  EncodedBlock encoded;
  std::vector<std::uint64_t> max_bytes;
  std::vector<csv::ColumnType> types;
  std::vector<csv::BadRow> bad;
  std::uint64_t bad_count = 0;
  std::uint64_t good = 0;
};

namespace {

std::string_view TrimAscii(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

/// Worker: check, infer and encode the rows of one parsed block.
template <class Task>
void RunJsonEncode(Task& t) {
  const std::size_t width = t.width;
  EncoderOptions options;
  options.method = LoadMethod::kLoadData;
  options.column_count = width;
  options.reserve_bytes = t.parsed.arena.size() + t.parsed.arena.size() / 4 + t.parsed.row_count() * (width + 8);
  BlockEncoder encoder(std::move(options));
  t.max_bytes.assign(width, 0);
  t.types.assign(width, csv::ColumnType{});
  t.bad = std::move(t.parsed.bad);
  t.bad_count = t.parsed.bad_count;
  std::vector<Field> fields(width);
  bool resort = false;
  for (std::size_t r = 0; r < t.parsed.row_count(); ++r) {
    std::fill(fields.begin(), fields.end(), Field{{}, true});  // a missing key is NULL
    for (std::uint32_t c = t.parsed.row_begin[r]; c < t.parsed.row_begin[r + 1]; ++c) {
      const JsonBlock::Cell& cell = t.parsed.cells[c];
      std::size_t column = t.mapping[cell.key];
      fields[column] = Field{t.parsed.Value(cell), cell.null};
    }
    std::string reason;
    for (std::size_t i = 0; i < width && reason.empty(); ++i) {
      Field& field = fields[i];
      if (field.null) continue;
      if (field.value.empty() && t.empty_is_null[i]) {
        field.null = true;
        continue;
      }
      if (t.caps[i] != 0 && field.value.size() > t.caps[i]) {
        reason = fmt::format("column '{}': a value of {} bytes is longer than the column holds ({} bytes)", t.names[i],
                             field.value.size(), t.caps[i]);
      } else if (t.required[i] && !field.value.empty() && !csv::Fits(*t.required[i], field.value)) {
        reason = fmt::format("column '{}': '{}' is not a {} value", t.names[i],
                             field.value.substr(0, std::min<std::size_t>(field.value.size(), 40)),
                             csv::SqlTypeText(*t.required[i]));
      }
    }
    if (!reason.empty()) {
      ++t.bad_count;
      if (t.bad.size() < csv::kDefaultMaxBadRows) {
        t.bad.push_back(csv::BadRow{t.parsed.lines[r], t.parsed.records[r], csv::BadRowKind::kFieldCount, reason});
        resort = true;
      }
      continue;
    }
    for (std::size_t i = 0; i < width; ++i) {
      if (fields[i].null) continue;
      t.max_bytes[i] = std::max<std::uint64_t>(t.max_bytes[i], fields[i].value.size());
      t.types[i] = csv::Widen(t.types[i], fields[i].value);
    }
    encoder.Add(t.parsed.records[r] + 1, fields);  // `_row` is the 1-based line-of-objects number
    ++t.good;
  }
  if (resort) {
    std::stable_sort(t.bad.begin(), t.bad.end(), [](const csv::BadRow& a, const csv::BadRow& b) { return a.line < b.line; });
  }
  t.encoded = encoder.Finish();
  t.parsed = JsonBlock();  // the values are in the encoded block now
}

}  // namespace

bool Pipeline::JsonIdle() const { return json_parsed_.empty() && json_to_encode_.empty(); }

std::uint64_t Pipeline::StopJson() {
  std::uint64_t counted = 0;
  for (const auto& [index, task] : json_parsed_) counted += task->counted;
  for (const auto& task : json_to_encode_) counted += task->counted;
  json_parsed_.clear();
  json_to_encode_.clear();
  return counted;
}

void Pipeline::PumpJson() {
  if (stopped_) return;
  while (parsing_ < options_.parse_slots && !blocks_.empty()) {
    // One parse always runs (so the upload progresses); more only within the grant.
    if (parsing_ > 0 && !account_->Fits(blocks_.front().data.capacity())) {
      waiting_for_memory_ = true;
      break;
    }
    auto task = std::make_shared<JsonTask>();
    task->block = std::move(blocks_.front());
    blocks_.pop_front();
    task->index = task->block.index;
    task->counted = task->block.data.capacity() * 2;  // the text, then about as much in values
    account_->Take(task->block.data.capacity());
    ++parsing_;
    loop::SubmitWork(
        loop_,
        [task, max_field_bytes = options_.max_field_bytes] {
          task->parsed = ParseJsonBlock(task->block, csv::kDefaultMaxBadRows, max_field_bytes);
          task->block.data = std::string();
        },
        [self = shared_from_this(), task](int status) mutable { self->OnJsonParsed(std::move(task), status); });
  }
}

void Pipeline::OnJsonParsed(std::shared_ptr<JsonTask> task, int status) {
  --parsing_;
  account_->Give(task->counted);
  if (stopped_) return;
  if (status != 0) return Fail("internal", fmt::format("parsing did not run: {}", uv_strerror(status)));
  task->counted = task->parsed.memory_bytes();
  account_->Take(task->counted);
  json_parsed_.emplace(task->index, std::move(task));
  MergeJson();
  if (stopped_) return;
  PumpJson();
  PumpJsonEncode();
  MaybeDone();
}

void Pipeline::MergeJson() {
  while (!stopped_) {
    auto it = json_parsed_.find(json_next_merge_);
    if (it == json_parsed_.end()) return;
    std::shared_ptr<JsonTask> task = std::move(it->second);
    json_parsed_.erase(it);
    ++json_next_merge_;
    const std::size_t before = columns_.size();
    for (const auto& key : task->parsed.keys) task->mapping.push_back(static_cast<std::uint32_t>(AddJsonColumn(key)));
    task->width = columns_.size();
    json_to_encode_.push_back(std::move(task));
    if (!header_known_ && !columns_.empty()) {
      header_known_ = true;
      if (events_.on_header) events_.on_header();
    } else if (header_known_ && columns_.size() > before) {
      if (events_.on_columns_added) events_.on_columns_added(before);
    }
  }
}

std::size_t Pipeline::AddJsonColumn(const std::string& key) {
  if (auto it = json_key_index_.find(key); it != json_key_index_.end()) return it->second;
  // Named as a header cell is (csv::NameColumns), then made unique against the
  // columns so far — incrementally, so a name once given never changes.
  std::string name = csv::NameColumns(std::vector<std::string>{key}).front().name;
  if (TrimAscii(key).empty()) name = fmt::format("c{}", columns_.size() + 1);
  auto taken = [&](const std::string& candidate) {
    return std::any_of(columns_.begin(), columns_.end(),
                       [&](const csv::Column& c) { return csv::SameColumnName(c.name, candidate); });
  };
  const std::string base = name;
  for (int k = 2; taken(name); ++k) {
    std::string suffix = fmt::format("_{}", k);
    std::string cut = base;
    while (!cut.empty() && db::Utf8Length(cut) + static_cast<long>(suffix.size()) > static_cast<long>(csv::kMaxColumnNameChars)) {
      do cut.pop_back();
      while (!cut.empty() && (static_cast<unsigned char>(cut.back()) & 0xC0) == 0x80);
      if (!cut.empty() && (static_cast<unsigned char>(cut.back()) & 0xC0) == 0xC0) cut.pop_back();
    }
    name = cut + suffix;
  }
  std::size_t index = columns_.size();
  columns_.push_back(csv::Column{name, key});
  json_key_index_.emplace(key, index);
  std::optional<csv::ColumnType> forced;
  if (options_.types.all_text) {
    forced = csv::ColumnType{};
    forced->kind = csv::TypeKind::kText;
  }
  for (std::size_t i = 0; i < options_.types.overrides.size(); ++i) {
    const auto& [column, type] = options_.types.overrides[i];
    if (!csv::SameColumnName(column, name)) continue;
    if (auto parsed = csv::ParseTypeName(type)) forced = *parsed;
    json_override_used_[i] = true;
  }
  json_types_.push_back(csv::ColumnType{});
  json_forced_.push_back(forced);
  return index;
}

void Pipeline::PumpJsonEncode() {
  if (stopped_ || !parse_context_) return;
  const RowPlan& plan = parse_context_->plan;
  while (parsing_ < options_.parse_slots && !json_to_encode_.empty()) {
    const auto& arena = json_to_encode_.front()->parsed.arena;
    std::uint64_t extra = arena.size() + arena.size() / 4;
    if (parsing_ > 0 && !account_->Fits(extra)) {  // one always runs; more within the grant
      waiting_for_memory_ = true;
      break;
    }
    std::shared_ptr<JsonTask> task = std::move(json_to_encode_.front());
    json_to_encode_.pop_front();
    const std::size_t width = task->width;
    for (std::size_t i = 0; i < width; ++i) {
      task->names.push_back(columns_[i].name);
      bool planned = i < plan.required.size();
      std::optional<csv::ColumnType> forced = json_forced_[i];
      if (forced && (forced->kind == csv::TypeKind::kText || forced->kind == csv::TypeKind::kNull)) forced.reset();
      task->required.push_back(planned && plan.required[i] ? plan.required[i] : forced);
      task->caps.push_back(planned ? plan.max_bytes[i] : 0);
      task->empty_is_null.push_back(planned ? plan.empty_is_null[i] : 0);
    }
    account_->Take(extra);
    task->counted += extra;
    ++parsing_;
    loop::SubmitWork(
        loop_, [task] { RunJsonEncode(*task); },
        [self = shared_from_this(), task](int status) mutable { self->OnJsonEncoded(std::move(task), status); });
  }
}

void Pipeline::OnJsonEncoded(std::shared_ptr<JsonTask> task, int status) {
  --parsing_;
  account_->Give(task->counted);
  if (stopped_) return;
  if (status != 0) return Fail("internal", fmt::format("encoding did not run: {}", uv_strerror(status)));
  for (std::size_t i = 0; i < task->width; ++i) {
    json_types_[i] = csv::Join(json_types_[i], task->types[i]);
    json_types_[i].max_bytes = std::max(json_types_[i].max_bytes, task->max_bytes[i]);
  }
  rows_good_ += task->good;
  rows_bad_ += task->bad_count;
  if (!MergeBadRows(task->bad, task->bad_count)) return;
  account_->Take(task->encoded.held_bytes());
  if (events_.on_block) {
    events_.on_block(PipelineBlock{std::move(task->encoded), std::move(task->max_bytes), task->width});
  }
  if (stopped_) return;
  PumpJson();
  PumpJsonEncode();
  MaybeDone();
}

}  // namespace sluice::ingest
