// Streaming gzip with zlib: GzipInflater for `Content-Encoding: gzip` / `.gz`
// uploads (decompressed as they stream; S3 still gets the original bytes) and
// GzipDeflater for `Accept-Encoding: gzip` answers. Both take input in chunks
// of any size and hand output to a sink in pieces of at most 64 KiB, so memory
// stays flat whatever the size. Per-byte work: callers run them on the worker
// pool for big bodies.
//
// Rules: one stream per object; not thread-safe; after an error every call
// fails with the same message.
#pragma once

#include <zlib.h>

#include <functional>
#include <string>
#include <string_view>

namespace sluice::glue {

using ByteSink = std::function<void(std::string_view)>;

class GzipInflater {
 public:
  GzipInflater();
  ~GzipInflater();
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  /// Decompresses `input`, calling `sink` with the output. Concatenated gzip
  /// members (as `cat a.gz b.gz` makes) decode as one stream. False on
  /// corrupt data (see error()).
  bool Feed(std::string_view input, const ByteSink& sink);
  /// The input ended: false when it stopped inside a gzip member.
  bool Finish();
  const std::string& error() const { return error_; }
  uint64_t bytes_out() const { return bytes_out_; }

 private:
  z_stream stream_{};
  bool member_done_ = false;  ///< the last member ended exactly at the input's end so far
  bool started_ = false;
  std::string error_;
  uint64_t bytes_out_ = 0;
};

class GzipDeflater {
 public:
  explicit GzipDeflater(int level = 6);
  ~GzipDeflater();
  GzipDeflater(const GzipDeflater&) = delete;
  GzipDeflater& operator=(const GzipDeflater&) = delete;

  void Feed(std::string_view input, const ByteSink& sink);
  /// Writes the gzip trailer.
  void Finish(const ByteSink& sink);

 private:
  void Run(std::string_view input, int flush, const ByteSink& sink);
  z_stream stream_{};
};

}  // namespace sluice::glue
