// MemoryBudget and MemoryAccount (memory_budget.hpp has the rules): admission
// by floor in order of arrival, grants that grow in steps while nobody waits
// and shrink back as an upload's buffers drain, and the byte counts behind
// sluice_memory_budget_used_bytes.
#include "ingest/memory_budget.hpp"

#include <algorithm>

namespace sluice::ingest {

// ---- MemoryBudget ----------------------------------------------------------------

bool MemoryBudget::TryReserve(uint64_t bytes) {
  if (!waiters_.empty() || !Fits(bytes)) return false;
  reserved_ += bytes;
  return true;
}

uint64_t MemoryBudget::Reserve(uint64_t bytes, std::function<void()> admitted) {
  uint64_t ticket = next_ticket_++;
  if (TryReserve(bytes)) {
    if (admitted) admitted();
    return ticket;
  }
  waiters_.push_back(Waiter{ticket, bytes, std::move(admitted)});
  return ticket;
}

bool MemoryBudget::Cancel(uint64_t ticket) {
  auto it = std::find_if(waiters_.begin(), waiters_.end(), [ticket](const Waiter& w) { return w.ticket == ticket; });
  if (it == waiters_.end()) return false;
  waiters_.erase(it);
  AdmitWaiters();  // the head may have left: the next may fit
  return true;
}

bool MemoryBudget::TryGrow(uint64_t bytes) {
  if (!waiters_.empty() || reserved_ > limit_ || bytes > limit_ - reserved_) return false;
  reserved_ += bytes;
  return true;
}

void MemoryBudget::Release(uint64_t bytes) {
  reserved_ -= std::min(bytes, reserved_);
  AdmitWaiters();
}

void MemoryBudget::AdmitWaiters() {
  if (admitting_) return;  // an admitted callback released or cancelled: the loop below goes on
  admitting_ = true;
  while (!waiters_.empty() && Fits(waiters_.front().bytes)) {
    Waiter next = std::move(waiters_.front());
    waiters_.pop_front();
    reserved_ += next.bytes;
    if (next.admitted) next.admitted();
  }
  admitting_ = false;
}

// ---- MemoryAccount -----------------------------------------------------------------

MemoryAccount::MemoryAccount(MemoryBudget* budget, uint64_t floor, uint64_t max_grant)
    : budget_(budget), floor_(floor), max_grant_(std::max(floor, max_grant)),
      grant_(budget != nullptr ? floor : std::max(floor, max_grant)) {}

MemoryAccount::~MemoryAccount() {
  if (budget_ == nullptr) return;
  budget_->Give(held_);
  budget_->Release(grant_);
}

void MemoryAccount::Take(uint64_t bytes) {
  held_ += bytes;
  peak_ = std::max(peak_, held_);
  if (budget_ != nullptr) budget_->Take(bytes);
}

void MemoryAccount::Give(uint64_t bytes) {
  bytes = std::min(bytes, held_);
  held_ -= bytes;
  if (budget_ != nullptr) {
    budget_->Give(bytes);
    Shrink();
  }
  if (on_give_) on_give_();
}

bool MemoryAccount::Fits(uint64_t bytes) {
  if (held_ + bytes <= grant_) return true;
  if (budget_ == nullptr || held_ + bytes > max_grant_) return false;
  uint64_t need = held_ + bytes - grant_;
  uint64_t step = std::min((need + kStep - 1) / kStep * kStep, max_grant_ - grant_);
  if (budget_->TryGrow(step)) {
    grant_ += step;
    return true;
  }
  if (step != need && budget_->TryGrow(need)) {
    grant_ += need;
    return true;
  }
  return false;
}

void MemoryAccount::Shrink() {
  // Keep what the buffers hold (and a step of slack while nobody waits, so a
  // busy upload does not give and take on every block); never below the floor.
  const bool wanted = budget_->waiting() > 0;
  uint64_t keep = std::max(floor_, wanted ? held_ : held_ + kStep);
  if (grant_ <= keep || (!wanted && grant_ - keep < kStep)) return;
  uint64_t extra = grant_ - keep;
  grant_ = keep;
  budget_->Release(extra);
}

}  // namespace sluice::ingest
