// MemoryBudget and MemoryAccount: the one byte budget ([server] memory_budget,
// "bytes in flight for all uploads together") and each upload's share of it.
//
// Two figures. `reserved` is what the budget has granted to uploads; it never
// passes the limit, because an upload is only admitted when its working set
// (its floor: one S3 part plus a few blocks, what one upload needs to make
// progress) fits beside the grants already given — otherwise it waits, in
// order of arrival, before a byte of its body is read. `used` is what the
// uploads' buffers hold right now (S3 parts, input not yet split, blocks,
// parses, encoded blocks; counted at their capacity); each upload keeps its
// `held` within its grant (the producer pauses, a parse waits), so `used`
// stays within `reserved`. An upload may grow its grant past its floor (up to
// its own maximum) while nobody waits for admission, and gives the extra
// back as soon as someone does.
//
// No deadlock: a floor larger than the whole limit is still admitted when no
// other upload holds a grant (one upload always runs), and within its grant
// an upload can always make progress (UploadJob sizes the floor for that).
//
// Loop thread only. Admission callbacks run inside Release()/Give() (or the
// destructor of an account): they must only schedule work, never call back.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <utility>

namespace sluice::ingest {

/// Bytes in flight for all uploads together ([server] memory_budget).
class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t limit) : limit_(limit) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  uint64_t limit() const noexcept { return limit_; }
  /// Bytes the uploads' buffers hold now (sluice_memory_budget_used_bytes).
  uint64_t used() const noexcept { return used_; }
  /// Bytes granted to admitted uploads (≤ limit, but for one lone oversized floor).
  uint64_t reserved() const noexcept { return reserved_; }
  /// Uploads waiting for admission.
  std::size_t waiting() const noexcept { return waiters_.size(); }

  /// Counts buffer bytes (the accounts do this).
  void Take(uint64_t bytes) noexcept { used_ += bytes; }
  void Give(uint64_t bytes) noexcept { used_ -= bytes < used_ ? bytes : used_; }

  /// Grants `bytes` now when they fit beside the other grants and nobody
  /// waits before (or when no grant is held at all). False: not granted.
  bool TryReserve(uint64_t bytes);
  /// Grants `bytes` as soon as they fit, in order of arrival; `admitted` runs
  /// then (possibly at once, inside this call). Returns a ticket for Cancel.
  uint64_t Reserve(uint64_t bytes, std::function<void()> admitted);
  /// Drops a waiting Reserve (its callback never runs). False when the ticket
  /// is not waiting (admitted already, or unknown).
  bool Cancel(uint64_t ticket);
  /// Adds `bytes` to a grant when they fit and nobody waits for admission.
  bool TryGrow(uint64_t bytes);
  /// Gives back `bytes` of grants; admits the waiters that now fit.
  void Release(uint64_t bytes);

 private:
  struct Waiter {
    uint64_t ticket;
    uint64_t bytes;
    std::function<void()> admitted;
  };
  bool Fits(uint64_t bytes) const noexcept { return reserved_ == 0 || (bytes <= limit_ && reserved_ <= limit_ - bytes); }
  void AdmitWaiters();

  uint64_t limit_;
  uint64_t used_ = 0;
  uint64_t reserved_ = 0;
  uint64_t next_ticket_ = 1;
  std::deque<Waiter> waiters_;
  bool admitting_ = false;
};

/// One upload's share of the MemoryBudget: its grant (given at admission, from
/// `floor` up to `max_grant`) and the bytes its buffers hold. What it Take()s
/// is counted in the budget's `used` too; what it still holds and its grant
/// go back when it dies. With no budget (null) the grant is simply max_grant.
class MemoryAccount {
 public:
  /// `floor` bytes were reserved for this account already (TryReserve or
  /// Reserve); it owns them from now on.
  MemoryAccount(MemoryBudget* budget, uint64_t floor, uint64_t max_grant);
  ~MemoryAccount();
  MemoryAccount(const MemoryAccount&) = delete;
  MemoryAccount& operator=(const MemoryAccount&) = delete;

  /// Counts `bytes` more.
  void Take(uint64_t bytes);
  /// Counts `bytes` less, gives back grant beyond what it needs (at once when
  /// an upload waits for admission), then runs the on_give hook (cheap: it
  /// only schedules).
  void Give(uint64_t bytes);
  /// True when `bytes` more fit in the grant, growing it from the budget when
  /// there is room (never past max_grant).
  bool Fits(uint64_t bytes);
  /// Bytes held now, and the most held at once.
  uint64_t held() const noexcept { return held_; }
  uint64_t peak() const noexcept { return peak_; }
  /// The bytes this account may hold now (its floor at least).
  uint64_t grant() const noexcept { return grant_; }
  uint64_t floor() const noexcept { return floor_; }
  /// The shared budget (may be null: nothing shared).
  MemoryBudget* budget() const noexcept { return budget_; }
  /// Runs after every Give (the job re-checks whether its producer may go on).
  void OnGive(std::function<void()> hook) { on_give_ = std::move(hook); }

  /// A grant grows and shrinks in steps of this many bytes.
  static constexpr uint64_t kStep = uint64_t{4} << 20;

 private:
  void Shrink();

  MemoryBudget* budget_;
  uint64_t floor_;
  uint64_t max_grant_;
  uint64_t grant_;
  uint64_t held_ = 0;
  uint64_t peak_ = 0;
  std::function<void()> on_give_;
};

}  // namespace sluice::ingest
