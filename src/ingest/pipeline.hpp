// Pipeline: the byte side of an upload — original bytes in, encoded blocks of
// rows out (DESIGN.md "The upload pipeline"). It knows nothing of S3 or the
// database; IngestJob feeds it and loads what it gives.
//
//   Write(bytes) ─▶ serial chain (worker pool, one step at a time, in order):
//                     SHA-256 of the original bytes, gzip inflate, delimiter
//                     sniffing on the first 64 KiB, BlockSplitter, and — on the
//                     first block — encoding decision and header → columns
//                ─▶ parse + check + infer + encode (worker pool, in parallel,
//                     at most `parse_slots` blocks at once) ─▶ on_block
//
// The loop thread only moves buffers between the stages. The serial state
// (hash, inflater, splitter) lives in one object that exactly one work item
// touches at a time, so the loop never touches it. Blocks are parsed only once the job
// said how rows are stored (SetPlan: which fields must fit a type, which empty
// fields are NULL) — for append that needs the target's columns.
//
// Memory: every buffer is counted in the job's MemoryAccount at its capacity —
// input not yet split, the splitter's buffer, blocks waiting, blocks being
// parsed (their text plus an estimate of the parse), and encoded blocks. An
// encoded block's bytes stay counted when on_block hands it over: the receiver
// Give()s them once the block is loaded or dropped. The pipeline keeps within
// the account's grant: a second parse starts only when it fits, and no more
// input is split while blocks wait past the grant (the producer's pausing is
// the job's). One parse always runs, so an upload always progresses.
//
// Rules: loop thread only; events come from work-completion callbacks (later
// loop turns), never from inside Write/Finish/SetPlan/Stop; after Stop() or a
// failure no event runs any more. Work in flight keeps what it touches alive.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "csv/dialect.hpp"
#include "csv/encoding.hpp"
#include "csv/header.hpp"
#include "csv/parser.hpp"
#include "csv/splitter.hpp"
#include "csv/type_inference.hpp"
#include "ingest/column_shape.hpp"
#include "ingest/ingest_job.hpp"
#include "ingest/load_encoder.hpp"
#include "ingest/memory_budget.hpp"

namespace sluice::ingest {

/// How the pipeline reads the bytes.
struct PipelineOptions {
  csv::DialectOptions dialect;                    ///< format (csv/tsv), delimiter, quote, header
  csv::Encoding encoding = csv::Encoding::kAuto;  ///< the `encoding` option
  csv::TypeOptions types;                         ///< `types` and `type.{column}`
  bool gzip = false;                              ///< inflate before splitting
  bool abort_on_bad_row = false;                  ///< on_error=abort: the first bad row fails
  std::size_t block_bytes = std::size_t{4} << 20; ///< splitter target
  std::size_t parse_slots = 2;                    ///< blocks parsed at once
  std::size_t sniff_bytes = std::size_t{64} << 10;  ///< the delimiter is sniffed on this much
  bool jsonl = false;                             ///< JSON Lines (jsonl.hpp) instead of CSV/TSV
  std::size_t max_field_bytes = csv::kDefaultMaxFieldBytes;  ///< longer fields make their row bad
};

/// How rows are stored, decided by the job once the header is known.
struct RowPlan {
  /// Per column: 1 when an empty field is SQL NULL (typed columns).
  std::vector<std::uint8_t> empty_is_null;
  /// Per column: a type every value must fit (forced types, an append target's
  /// types), else the row is bad. nullopt: any value.
  std::vector<std::optional<csv::ColumnType>> required;
  /// Per column: the longest value in bytes (a target's TEXT size); 0 = no cap.
  std::vector<std::uint64_t> max_bytes;
};

/// A block of rows ready for the Loader.
struct PipelineBlock {
  EncodedBlock encoded;                 ///< its bytes() are still counted: Give them when loaded or dropped
  std::vector<std::uint64_t> max_bytes; ///< per column: the longest value loaded from this block
  std::size_t columns = 0;              ///< fields per row: the first `columns` columns (JSON Lines may have fewer)
  std::vector<ColumnShape> shapes;      ///< CSV, per column: the spellings in this block (column_shape.hpp)
};

/// Why the pipeline stopped: an API error code and a message.
struct PipelineFailure {
  std::string code;  ///< no_header, bad_row, invalid_csv, invalid_gzip, internal
  std::string message;
};

/// What the pipeline tells its job (all optional; loop thread; later turns).
struct PipelineEvents {
  /// The columns are known (after the first block); call SetPlan next.
  std::function<void()> on_header;
  /// JSON Lines: keys first seen after on_header added columns from index
  /// `first` on (they are NULL in the rows before). Blocks using them follow.
  std::function<void(std::size_t first)> on_columns_added;
  /// One block of good rows, encoded.
  std::function<void(PipelineBlock block)> on_block;
  /// The input cannot be ingested; nothing more comes.
  std::function<void(PipelineFailure failure)> on_failed;
  /// Finish() was called and every block was handed over.
  std::function<void()> on_done;
};

/// See the top of this file.
class Pipeline : public std::enable_shared_from_this<Pipeline> {
 public:
  /// A pipeline on `loop`'s worker pool; `account` counts its memory.
  static std::shared_ptr<Pipeline> Create(uv_loop_t* loop, PipelineOptions options,
                                          std::shared_ptr<MemoryAccount> account, PipelineEvents events);
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  ~Pipeline();

  /// The next original bytes (copied).
  void Write(std::string_view bytes);
  /// The input is complete.
  void Finish();
  /// How rows are stored (after on_header); blocks are parsed from now on.
  void SetPlan(RowPlan plan);
  /// Stops: no more events; queued data is dropped (and given back).
  void Stop();
  /// The account gave bytes back: a step or parse that waited for room in the
  /// grant is tried again (on a later loop turn).
  void MemoryFreed();

  /// After on_header: the columns and the header row's cells ("" without header).
  const std::vector<csv::Column>& columns() const noexcept { return columns_; }
  /// After on_header: the dialect and encoding in use.
  const csv::Dialect& dialect() const noexcept { return dialect_; }
  csv::Encoding encoding() const noexcept { return encoding_; }
  /// The SQL types of the columns as far as seen (after on_header).
  std::vector<std::string> SqlTypes() const;
  /// Column `i`'s type as far as seen (a forced one as forced), with max_bytes.
  csv::ColumnType Inferred(std::size_t i) const;
  /// CSV: the spellings seen per column (after on_header, the first block's
  /// already); empty for JSON Lines, which always stages TEXT.
  const std::vector<ColumnShape>& shapes() const noexcept { return shapes_; }
  /// The type forced on column `i` (types=text, type.{column}); nullopt when inferred.
  std::optional<csv::ColumnType> Forced(std::size_t i) const;
  /// After on_done: the lower-case hex SHA-256 of the original bytes.
  const std::string& sha256() const noexcept { return sha256_; }
  /// Original bytes written so far.
  std::uint64_t bytes_in() const noexcept { return bytes_in_; }
  /// Data rows in the blocks handed over (good) and rejected (bad) so far.
  std::uint64_t rows_good() const noexcept { return rows_good_; }
  std::uint64_t rows_bad() const noexcept { return rows_bad_; }
  /// The first kDefaultMaxBadRows bad rows by line.
  const std::vector<csv::BadRow>& bad_rows() const noexcept { return bad_rows_; }
  /// True once on_done ran.
  bool done() const noexcept { return done_; }
  /// Counted bytes that only more input moves on: the splitter's buffer (or
  /// the sniff sample).
  std::uint64_t standing_bytes() const noexcept { return splitter_held_; }

 private:
  struct SerialState;
  struct SerialStep;
  struct ParseContext;
  struct ParseTask;
  struct JsonTask;

  Pipeline(uv_loop_t* loop, PipelineOptions options, std::shared_ptr<MemoryAccount> account, PipelineEvents events);
  void PumpSerial();
  void OnSerialDone(std::shared_ptr<SerialStep> step, int status);
  void PumpParse();
  void OnParseDone(std::shared_ptr<ParseTask> task, int status);
  void Fail(std::string code, std::string message);
  /// Keeps the first bad rows by line; false when on_error=abort failed the pipeline.
  bool MergeBadRows(const std::vector<csv::BadRow>& bad, std::uint64_t count);
  void MaybeDone();
  // JSON Lines (pipeline_jsonl.cpp).
  void PumpJson();
  void OnJsonParsed(std::shared_ptr<JsonTask> task, int status);
  void MergeJson();
  void PumpJsonEncode();
  void OnJsonEncoded(std::shared_ptr<JsonTask> task, int status);
  std::size_t AddJsonColumn(const std::string& key);
  bool JsonIdle() const;
  std::uint64_t StopJson();  ///< drops the JSON tasks waiting; their counted bytes

  uv_loop_t* loop_;
  PipelineOptions options_;
  std::shared_ptr<MemoryAccount> account_;
  PipelineEvents events_;
  std::shared_ptr<SerialState> serial_;

  std::deque<std::string> input_;      ///< written, not yet in a serial step
  std::uint64_t input_bytes_ = 0;
  bool serial_busy_ = false;
  bool finish_requested_ = false;      ///< Finish() called
  bool finish_sent_ = false;           ///< the serial chain got the end
  bool serial_finished_ = false;       ///< … and ran it: no more blocks
  std::uint64_t splitter_held_ = 0;    ///< counted for the splitter's partial block

  std::deque<csv::Block> blocks_;      ///< split, waiting for a parse slot
  std::size_t parsing_ = 0;
  std::shared_ptr<const ParseContext> parse_context_;  ///< set by SetPlan

  std::vector<csv::Column> columns_;
  bool header_known_ = false;
  csv::Dialect dialect_;
  csv::Encoding encoding_ = csv::Encoding::kUtf8;
  std::unique_ptr<csv::SchemaInference> schema_;
  std::vector<ColumnShape> shapes_;
  std::string sha256_;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t rows_good_ = 0;
  std::uint64_t rows_bad_ = 0;
  std::vector<csv::BadRow> bad_rows_;
  bool stopped_ = false;
  bool done_ = false;
  bool waiting_for_memory_ = false;    ///< a step or parse waits for room in the grant
  bool repump_scheduled_ = false;

  // JSON Lines: blocks parsed out of order wait here until the keys of every
  // block before them are merged (first-seen order is file order).
  std::map<std::uint64_t, std::shared_ptr<JsonTask>> json_parsed_;
  std::uint64_t json_next_merge_ = 0;
  std::deque<std::shared_ptr<JsonTask>> json_to_encode_;
  std::vector<csv::ColumnType> json_types_;
  std::vector<std::optional<csv::ColumnType>> json_forced_;
  std::vector<bool> json_override_used_;
  std::unordered_map<std::string, std::size_t> json_key_index_;  ///< key → column
};

/// The row cap of an SQL text type: TEXT 65535, MEDIUMTEXT 16 MiB - 1,
/// LONGTEXT 4 GiB - 1; 0 for other types.
std::uint64_t TextCapacity(std::string_view sql_type);

}  // namespace sluice::ingest
