// BlockSplitter: cuts a CSV byte stream, fed in chunks of any size, into
// blocks of about `target_bytes` that end exactly at a row boundary, so each
// block can be parsed on its own (on a worker) and loaded in any order.
//
// The splitter follows the parser's quote rules exactly (parser.hpp): a quote
// opens a quoted field only at the start of a field, `""` inside one is a
// literal quote, and CR, LF or CRLF inside quotes are data. That is why it
// needs the delimiter as well as the quote: `5'11",x` has a literal quote,
// `"a,b",x` a quoted one. A CR that ends the bytes fed so far is not taken as
// a row end until the next byte is known, so a CRLF split across chunks is one
// line end, never an extra empty row.
//
// Each block knows its first record (0-based, counting every non-blank row of
// the file including the header; blank lines are not rows) and its first line
// (1-based; lines differ from rows when quoted fields hold newlines), so
// `_row` and the line numbers of bad rows follow the file whatever order blocks
// are parsed in. A UTF-8 BOM at the start of the stream is dropped.
//
// Memory: the splitter holds only the current partial block (at most
// target_bytes + 64 KiB + one row), plus up to two recycled buffers. A row longer than `max_row_bytes` (an
// unterminated quote, usually) fails the stream rather than growing without
// bound. Speed: 64 bytes at a time with SSE2 compares into bit masks; the quote
// state is resolved per quote character, not per byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.hpp"
#include "csv/dialect.hpp"

namespace sluice::csv {

/// Whole rows of the stream, as raw bytes (BOM removed, not yet decoded).
struct Block {
  std::string data;                ///< whole rows; may start with blank lines
  std::uint64_t index = 0;         ///< 0, 1, 2… in stream order
  std::uint64_t first_record = 0;  ///< 0-based record number of the first row (header = record 0)
  std::uint64_t record_count = 0;  ///< non-blank rows in `data` (> 0)
  std::uint64_t first_line = 1;    ///< 1-based line number of data[0]
  std::uint64_t line_count = 0;    ///< line ends in `data` (CR, LF or CRLF; inside quotes too)
  std::uint64_t byte_offset = 0;   ///< offset of data[0] in the stream (3 after a BOM)
};

/// Sizes that bound the splitter.
struct SplitterOptions {
  std::size_t target_bytes = std::size_t{4} << 20;    ///< cut at the first row end at or past this
  std::size_t max_row_bytes = std::size_t{64} << 20;  ///< longer rows fail the stream
  bool strip_bom = true;                              ///< drop a leading UTF-8 BOM
};

/// See the file comment. Not thread-safe; one per stream.
class BlockSplitter {
 public:
  /// `dialect` must pass ValidateDialect(); target_bytes >= 1.
  explicit BlockSplitter(const Dialect& dialect, SplitterOptions options = {});

  /// Takes the next bytes of the stream; appends every block completed by
  /// them to `out`. Error (kLimit) when a row exceeds max_row_bytes; after an
  /// error every call returns it again.
  core::Status Feed(std::string_view chunk, std::vector<Block>& out);

  /// The stream ended: appends the last block (its last row with or without a
  /// line end) to `out`, if it holds any row.
  core::Status Finish(std::vector<Block>& out);

  /// Hands back the bytes of a block that is done with (see
  /// ParsedBlock::ReleaseText), so a later block reuses that memory instead of
  /// faulting in fresh pages. At most two buffers are kept; others are freed.
  void Recycle(std::string buffer);

  /// True once a leading BOM was seen and dropped.
  bool had_bom() const noexcept { return had_bom_; }
  /// Bytes given to Feed so far (BOM included).
  std::uint64_t bytes_fed() const noexcept { return bytes_fed_; }
  /// Bytes held for the partial block.
  std::size_t buffered_bytes() const noexcept { return buf_.size(); }
  /// Bytes allocated: the partial block's buffer and the recycled ones (for
  /// the memory budget).
  std::size_t held_bytes() const noexcept {
    std::size_t total = buf_.capacity();
    for (const auto& spare : spare_) total += spare.capacity();
    return total;
  }
  /// Records in the blocks emitted so far.
  std::uint64_t records_emitted() const noexcept { return next_record_; }

  /// Quote state carried from one 64-byte window to the next.
  struct ScanState {
    bool in_quote = false;
    std::uint64_t field_start = 1;  ///< bit 0: the window's byte 0 starts a field
    std::uint64_t reopen = 0;       ///< bit 0: byte 0 directly follows a closing quote
    std::uint64_t eol1 = 1;         ///< bit 0: byte -1 is a line end outside quotes (or block start)
    std::uint64_t eol2 = 3;         ///< bits 0–1: bytes -2 and -1 are line ends (or block start)
    std::uint64_t crlf = 0;         ///< bit 0: byte 0 is the LF of a CRLF
  };

 private:
  core::Status Scan(bool final, std::vector<Block>& out);
  void Cut(std::size_t end, std::vector<Block>& out);
  void MaybeStripBom(bool final);

  Dialect dialect_;
  SplitterOptions options_;
  std::string buf_;              // the current partial block
  std::vector<std::string> spare_;  // recycled buffers for the next blocks
  std::size_t scanned_ = 0;      // bytes of buf_ already scanned
  ScanState state_;
  std::uint64_t block_records_ = 0;  // records in buf_[0, scanned_)
  std::uint64_t block_lines_ = 0;    // line ends in buf_[0, scanned_)
  std::size_t row_start_ = 0;        // where the row being read starts in buf_
  std::uint64_t row_start_lines_ = 0;  // line ends before row_start_

  std::uint64_t next_index_ = 0;
  std::uint64_t next_record_ = 0;
  std::uint64_t next_line_ = 1;
  std::uint64_t offset_ = 0;  // stream offset of buf_[0]
  std::uint64_t bytes_fed_ = 0;
  bool bom_pending_ = true;
  bool had_bom_ = false;
  bool finished_ = false;
  core::Status failed_;
};

}  // namespace sluice::csv
