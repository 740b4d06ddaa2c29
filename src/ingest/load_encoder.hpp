// Row encoding for the bulk load: parsed rows (field views, a NULL flag per
// field, the row's number) → the bytes the database takes, on a worker thread.
//
// Two forms, so both load paths can be measured (DESIGN.md "measure, keep the
// faster"):
//  - kLoadData: the text format of
//      LOAD DATA LOCAL INFILE … FIELDS TERMINATED BY '\t' ESCAPED BY '\\'
//      LINES TERMINATED BY '\n' (_row, c1, …)
//    (db::LoadDataSql): one line per row, `_row` first; inside a value tab,
//    newline, backslash and NUL become \t \n \\ \0, so any bytes survive, and
//    SQL NULL is \N (an empty value stays an empty string). One payload per
//    block, served from memory by MysqlConnection::LoadDataLocal.
//  - kInsert: multi-row `INSERT INTO t (_row, c1, …) VALUES (…),(…)`
//    statements (db::InsertPrefixSql), each cut before it would exceed
//    max_statement_bytes (max_allowed_packet less a margin), values as
//    escaped string literals (MariaDB converts them to the column type).
//
// The value escaper is the hot loop: it scans 8 bytes at a time for the four
// special bytes (SWAR) and copies clean runs whole, into a buffer grown
// geometrically and written through a pointer. It touches nothing shared, so
// any number of workers run it at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::ingest {

/// How blocks reach the staging table.
enum class LoadMethod {
  kLoadData,  ///< LOAD DATA LOCAL INFILE fed from memory (the default: faster)
  kInsert,    ///< multi-row INSERT statements
};

/// One field value: its bytes, or SQL NULL.
struct Field {
  std::string_view value;  ///< ignored when `null`
  bool null = false;       ///< SQL NULL (an empty `value` with null=false is '')
};

/// A block of rows ready to load: what a worker hands the Loader.
struct EncodedBlock {
  LoadMethod method = LoadMethod::kLoadData;
  std::uint64_t first_row = 0;  ///< `_row` of the first row (0 when empty)
  std::uint64_t last_row = 0;   ///< `_row` of the last row
  std::uint64_t row_count = 0;  ///< rows in the block
  /// kLoadData: the LOAD DATA payload (shared: the connection holds it while
  /// the statement runs).
  std::shared_ptr<const std::string> data;
  /// kInsert: complete INSERT statements, in row order.
  std::vector<std::string> statements;

  /// Bytes of payload or statements (what is sent).
  std::size_t bytes() const noexcept;
  /// Bytes allocated for them (their capacity), for the memory budget.
  std::size_t held_bytes() const noexcept;
};

/// Appends `value` escaped for LOAD DATA (tab, LF, backslash, NUL).
void AppendLoadValue(std::string& out, std::string_view value);

/// Appends one LOAD DATA line: `row`, then each field (\N for NULL), tab
/// separated, ending with '\n'.
void AppendLoadRow(std::string& out, std::uint64_t row, std::span<const Field> fields);

/// Appends one INSERT tuple: `(row,'v1',NULL,…)`.
void AppendInsertRow(std::string& out, std::uint64_t row, std::span<const Field> fields);

/// What a BlockEncoder makes.
struct EncoderOptions {
  LoadMethod method = LoadMethod::kLoadData;
  std::size_t column_count = 0;  ///< fields per row (without `_row`)
  /// Per column: 1 when an empty field is SQL NULL (typed columns), 0 when it
  /// is '' (TEXT). Used by Add(row, views); empty = never NULL.
  std::vector<std::uint8_t> empty_is_null;
  /// kInsert: the statement head, from db::InsertPrefixSql.
  std::string insert_prefix;
  /// kInsert: cut statements before they pass this many bytes (a single row
  /// longer than that still gets a statement of its own).
  std::size_t max_statement_bytes = 16u << 20;
  /// Initial buffer size; a good guess (the block's text size + 10%) saves
  /// regrowth.
  std::size_t reserve_bytes = 0;
};

/// Encodes the rows of one block. Worker-thread safe (one encoder per block);
/// rows must come in `_row` order.
class BlockEncoder {
 public:
  /// A fresh encoder for one block.
  explicit BlockEncoder(EncoderOptions options);

  /// Adds one row; fields.size() must be column_count.
  void Add(std::uint64_t row, std::span<const Field> fields);
  /// Adds one row of plain values; options.empty_is_null decides which empty
  /// fields are NULL.
  void Add(std::uint64_t row, std::span<const std::string_view> fields);

  /// Rows added so far.
  std::uint64_t row_count() const noexcept { return rows_; }
  /// The finished block; the encoder is empty afterwards.
  EncodedBlock Finish();

 private:
  template <class Get>
  void AddRow(std::uint64_t row, std::size_t count, Get get);
  void CloseStatement(bool reopen);

  EncoderOptions options_;
  std::string buffer_;      // kLoadData payload, or the statement being built
  std::size_t used_ = 0;    // bytes of buffer_ in use (buffer_.size() is capacity)
  std::vector<std::string> statements_;
  std::uint64_t first_row_ = 0;
  std::uint64_t last_row_ = 0;
  std::uint64_t rows_ = 0;
  std::uint64_t rows_in_statement_ = 0;
};

}  // namespace sluice::ingest
