// See gzip_stream.hpp.
#include "zlib/gzip_stream.hpp"

#include <fmt/format.h>

namespace sluice::glue {
namespace {
constexpr size_t kOutChunk = 64 * 1024;
}  // namespace

GzipInflater::GzipInflater() {
  inflateInit2(&stream_, 16 + MAX_WBITS);  // gzip wrapper only
}

GzipInflater::~GzipInflater() { inflateEnd(&stream_); }

bool GzipInflater::Feed(std::string_view input, const ByteSink& sink) {
  if (!error_.empty()) return false;
  char out[kOutChunk];
  stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream_.avail_in = static_cast<uInt>(input.size());
  while (stream_.avail_in > 0) {
    if (member_done_) {  // another member follows
      inflateReset(&stream_);
      member_done_ = false;
    }
    started_ = true;
    stream_.next_out = reinterpret_cast<Bytef*>(out);
    stream_.avail_out = sizeof out;
    int rc = inflate(&stream_, Z_NO_FLUSH);
    size_t produced = sizeof out - stream_.avail_out;
    if (produced > 0) {
      bytes_out_ += produced;
      sink(std::string_view(out, produced));
    }
    if (rc == Z_STREAM_END) {
      member_done_ = true;
      continue;
    }
    if (rc == Z_BUF_ERROR && stream_.avail_in == 0) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      error_ = fmt::format("the gzip data is corrupt: {}", stream_.msg != nullptr ? stream_.msg : zError(rc));
      return false;
    }
    if (produced == 0 && stream_.avail_in > 0 && rc == Z_BUF_ERROR) {
      error_ = "the gzip data is corrupt";
      return false;
    }
  }
  // Drain output zlib may still hold for input it already took.
  while (!member_done_ && started_) {
    stream_.next_out = reinterpret_cast<Bytef*>(out);
    stream_.avail_out = sizeof out;
    int rc = inflate(&stream_, Z_NO_FLUSH);
    size_t produced = sizeof out - stream_.avail_out;
    if (produced > 0) {
      bytes_out_ += produced;
      sink(std::string_view(out, produced));
    }
    if (rc == Z_STREAM_END) {
      member_done_ = true;
      break;
    }
    if (produced == 0) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      error_ = fmt::format("the gzip data is corrupt: {}", stream_.msg != nullptr ? stream_.msg : zError(rc));
      return false;
    }
  }
  return true;
}

bool GzipInflater::Finish() {
  if (!error_.empty()) return false;
  if (!started_) {
    error_ = "the gzip data is empty";
    return false;
  }
  if (!member_done_) {
    error_ = "the gzip data ends in the middle of a member (truncated file?)";
    return false;
  }
  return true;
}

GzipDeflater::GzipDeflater(int level) {
  deflateInit2(&stream_, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
}

GzipDeflater::~GzipDeflater() { deflateEnd(&stream_); }

void GzipDeflater::Run(std::string_view input, int flush, const ByteSink& sink) {
  char out[kOutChunk];
  stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  stream_.avail_in = static_cast<uInt>(input.size());
  do {
    stream_.next_out = reinterpret_cast<Bytef*>(out);
    stream_.avail_out = sizeof out;
    deflate(&stream_, flush);
    size_t produced = sizeof out - stream_.avail_out;
    if (produced > 0) sink(std::string_view(out, produced));
  } while (stream_.avail_out == 0 || stream_.avail_in > 0);
}

void GzipDeflater::Feed(std::string_view input, const ByteSink& sink) {
  if (!input.empty()) Run(input, Z_NO_FLUSH, sink);
}

void GzipDeflater::Finish(const ByteSink& sink) { Run({}, Z_FINISH, sink); }

}  // namespace sluice::glue
