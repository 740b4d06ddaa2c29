// See ids.hpp. Randomness: a thread-local std::mt19937_64 seeded from
// std::random_device — ids must be unique, not secret.
#include "core/ids.hpp"

#include <chrono>
#include <random>

namespace sluice::core {

std::string FormatUlid(uint64_t unix_millis, uint64_t random_hi16, uint64_t random_lo64) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string out(26, '0');
  // 48 bits of time → 10 characters (the first holds 3 bits).
  for (int i = 9; i >= 0; --i) {
    out[i] = kAlphabet[unix_millis & 31];
    unix_millis >>= 5;
  }
  // 80 bits of randomness → 16 characters.
  random_hi16 &= 0xffff;
  for (int i = 25; i >= 10; --i) {
    out[i] = kAlphabet[random_lo64 & 31];
    random_lo64 = (random_lo64 >> 5) | ((random_hi16 & 31) << 59);
    random_hi16 >>= 5;
  }
  return out;
}

std::string NewUlid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto millis = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch()).count());
  return FormatUlid(millis, rng(), rng());
}

}  // namespace sluice::core
