// PartBuffer (see part_buffer.hpp): mmap(MAP_PRIVATE | MAP_ANONYMOUS) on
// creation, munmap on destruction. Both are cheap system calls, not I/O, and
// happen once per part; the page faults of the first write are the cost of
// touching the memory at all.
#include "s3/part_buffer.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

namespace sluice::s3 {

std::unique_ptr<PartBuffer> PartBuffer::Create(size_t capacity) {
  if (capacity == 0) return nullptr;
  void* p = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  return std::unique_ptr<PartBuffer>(new PartBuffer(static_cast<char*>(p), capacity));
}

PartBuffer::~PartBuffer() { ::munmap(data_, capacity_); }

size_t PartBuffer::Append(std::string_view bytes) noexcept {
  const size_t n = std::min(bytes.size(), capacity_ - size_);
  std::memcpy(data_ + size_, bytes.data(), n);
  size_ += n;
  return n;
}

}  // namespace sluice::s3
