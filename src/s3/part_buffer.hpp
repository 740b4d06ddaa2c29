// PartBuffer: the bytes of one multipart part (or of a small object's single
// PUT) in an anonymous memory mapping of their own.
//
// Why not a std::string: parts are megabytes, allocated and freed all the
// time, on the loop thread, while the worker pool hashes and curl reads
// them. glibc's malloc raises its mmap threshold after the first big free
// and then serves parts from the heap, keeping freed ones resident: measured
// with 8 MiB parts and 4 in flight, the process grew by 58 MB for 40 MiB of
// live parts. A mapping per part is resident only where written and returns
// to the kernel on destruction, so RSS follows buffered_bytes() — the figure
// the memory budget counts — and stays under part_size × (in flight + 2).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace sluice::s3 {

/// A fixed-capacity byte buffer in its own anonymous mapping. Move-only.
class PartBuffer {
 public:
  /// Maps `capacity` bytes (none resident until written); null when the
  /// kernel refuses (ENOMEM) or `capacity` is 0.
  static std::unique_ptr<PartBuffer> Create(size_t capacity);
  ~PartBuffer();
  PartBuffer(const PartBuffer&) = delete;
  PartBuffer& operator=(const PartBuffer&) = delete;

  /// Copies as much of `bytes` as fits; returns how many were taken.
  size_t Append(std::string_view bytes) noexcept;
  /// The bytes written so far.
  std::string_view view() const noexcept { return {data_, size_}; }
  /// Bytes written so far.
  size_t size() const noexcept { return size_; }
  /// Bytes mapped (the most it can hold).
  size_t capacity() const noexcept { return capacity_; }
  /// True when no more bytes fit.
  bool full() const noexcept { return size_ == capacity_; }

 private:
  PartBuffer(char* data, size_t capacity) : data_(data), capacity_(capacity) {}
  char* data_;
  size_t size_ = 0;
  size_t capacity_;
};

}  // namespace sluice::s3
