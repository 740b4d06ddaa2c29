// TableEntryCache: the catalog's table entries kept in memory, so a query
// (/rows, /aggregate) does not spend a round trip to MariaDB reading its
// table's entry each time — on a small page that lookup was a third of the
// request's time.
//
// Freshness, in two layers:
//  - This process's own changes (publish of an upload, append, DELETE, a new
//    index) call Changed(), which forgets every entry at once; a change is
//    seen by the next request. A lookup that was already on its way when a
//    change happened cannot put its (maybe older) entry back: Remember() takes
//    the generation read before the lookup and keeps the entry only when no
//    change came in between.
//  - Another process writing the same catalog (`sluice ingest` next to a
//    running server) is not told: an entry is trusted for at most `max_age`
//    (1 s by default) and then read again.
// Loop thread only (no locking). Names are the names asked for: Changed()
// forgets everything, so two spellings of one table never disagree.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "db/catalog_records.hpp"

namespace sluice::db {

/// See the top of this file.
class TableEntryCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  /// Entries older than `max_age` are not given out; `clock` is for tests.
  explicit TableEntryCache(std::chrono::milliseconds max_age = std::chrono::seconds(1), Clock clock = {});

  /// The entry remembered for `name`, when younger than max_age; else null.
  std::shared_ptr<const TableEntry> Find(std::string_view name) const;
  /// Read before a catalog lookup; pass it to Remember().
  std::uint64_t generation() const noexcept { return generation_; }
  /// Keeps `entry` under `name` unless Changed() ran since `generation`.
  void Remember(const std::string& name, std::shared_ptr<const TableEntry> entry, std::uint64_t generation);
  /// A table changed (or may have): forgets every entry.
  void Changed();
  /// How many entries are kept (for tests).
  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Kept {
    std::shared_ptr<const TableEntry> entry;
    std::chrono::steady_clock::time_point read_at;
  };
  std::chrono::steady_clock::time_point Now() const;

  std::chrono::milliseconds max_age_;
  Clock clock_;
  std::uint64_t generation_ = 0;
  std::unordered_map<std::string, Kept> entries_;
};

}  // namespace sluice::db
