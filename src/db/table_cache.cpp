// See table_cache.hpp.
#include "db/table_cache.hpp"

#include <utility>

namespace sluice::db {

/// More tables than this in memory is no longer a cache of the hot ones:
/// start again (entries are small, but names come from requests).
constexpr std::size_t kMaxEntries = 4096;

TableEntryCache::TableEntryCache(std::chrono::milliseconds max_age, Clock clock)
    : max_age_(max_age), clock_(std::move(clock)) {}

std::chrono::steady_clock::time_point TableEntryCache::Now() const {
  return clock_ ? clock_() : std::chrono::steady_clock::now();
}

std::shared_ptr<const TableEntry> TableEntryCache::Find(std::string_view name) const {
  auto found = entries_.find(std::string(name));
  if (found == entries_.end()) return nullptr;
  if (Now() - found->second.read_at >= max_age_) return nullptr;
  return found->second.entry;
}

void TableEntryCache::Remember(const std::string& name, std::shared_ptr<const TableEntry> entry,
                               std::uint64_t generation) {
  if (generation != generation_ || !entry) return;
  if (entries_.size() >= kMaxEntries && !entries_.contains(name)) entries_.clear();
  entries_[name] = Kept{std::move(entry), Now()};
}

void TableEntryCache::Changed() {
  ++generation_;
  entries_.clear();
}

}  // namespace sluice::db
