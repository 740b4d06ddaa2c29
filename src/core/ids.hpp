// Identifiers: ULIDs (26 Crockford base-32 characters, millisecond time first,
// so ids sort by creation time — what upload ids and request ids use).
#pragma once

#include <cstdint>
#include <string>

namespace sluice::core {

/// A new ULID from the wall clock and a thread-local random source.
std::string NewUlid();
/// The ULID for a given time and 80 random bits (pure; for tests).
std::string FormatUlid(uint64_t unix_millis, uint64_t random_hi16, uint64_t random_lo64);

}  // namespace sluice::core
