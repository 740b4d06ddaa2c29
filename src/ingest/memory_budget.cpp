// MemoryBudget: the one byte budget ([server] memory_budget) that every
// upload's buffers count against — S3 parts, input not yet split, blocks
// waiting, blocks parsed and encoded but not yet loaded (DESIGN.md "The upload
// pipeline"). Jobs Take() what they hold and Give() it back; a producer that
// was told to pause waits with WhenAvailable(). The wake-ups run inside
// Give(), so they must be cheap and must not call back into the giver: jobs
// only schedule their on_writable for a later loop turn there.
#include <utility>

#include "ingest/ingest_job.hpp"

namespace sluice::ingest {

void MemoryBudget::Give(uint64_t bytes) {
  used_ -= bytes < used_ ? bytes : used_;
  if (used_ >= limit_ || waiting_.empty()) return;
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& wake : waiting) wake();
}

void MemoryBudget::WhenAvailable(std::function<void()> wake) { waiting_.push_back(std::move(wake)); }

}  // namespace sluice::ingest
