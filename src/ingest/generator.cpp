// `sluice gen`'s values (see generator.hpp). Each row draws from a SplitMix64
// stream seeded with (seed, row), so output is reproducible and chunking-
// independent; the word lists are small and fixed, so the distribution is the
// same at 1 000 rows and at 100 000 000.
#include "ingest/generator.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace sluice::ingest {
namespace {

/// SplitMix64: tiny, fast, and good enough for test data.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// In [0, n) (the modulo bias is below 2^-40 for the n used here).
  std::uint64_t Below(std::uint64_t n) { return Next() % n; }
  bool Percent(unsigned p) { return Below(100) < p; }

 private:
  std::uint64_t state_;
};

constexpr std::array<std::string_view, 24> kFirst = {
    "Mary", "James", "Ana", "Li", "Olga", "Mohammed", "Zoë", "Pat", "Jean-Luc", "Siobhán", "Kenji", "Amara",
    "José", "Ingrid", "Priya", "Tomás", "Chloé", "Ahmed", "Yuki", "Björn", "Nkechi", "Luca", "Hana", "Owen"};
constexpr std::array<std::string_view, 24> kLast = {
    "Smith", "O'Neil", "García", "Nguyen", "Müller", "Kowalski", "D'Angelo", "Ivanova", "Okafor", "Tanaka",
    "van der Berg", "Rossi", "Dubois", "Andersson", "Khan", "Silva", "McAllister", "Novák", "Haddad", "Kim",
    "Łukasiewicz", "Ó Briain", "Fernández", "Wong"};
constexpr std::array<std::string_view, 12> kNick = {"Mo", "Ace", "Doc", "Red", "Kiki", "Bear",
                                                    "Jojo", "Sunny", "Tex", "Ziggy", "Bo", "Pip"};
constexpr std::array<std::string_view, 14> kCity = {
    "London", "São Paulo", "Zürich", "東京", "Kraków", "Washington, D.C.", "Reykjavík", "Cairo", "Montréal",
    "Lagos", "Mumbai", "Sydney", "St. John's", "Москва"};
constexpr std::array<std::string_view, 10> kWords = {"shipped", "late", "fragile", "gift", "returned",
                                                     "express", "damaged", "repeat", "VIP", "backorder"};

constexpr std::array<std::string_view, 13> kNames = {"id",       "uuid", "name", "email", "date",
                                                     "datetime", "amount", "quantity", "code", "city",
                                                     "note",     "flag", "score"};

/// Appends `value` as a CSV field, quoted when it needs to be.
void AppendField(std::string& out, std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += value;
    return;
  }
  out.push_back('"');
  for (char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

/// Days since 1970-01-01 → civil date (Howard Hinnant's algorithm).
void CivilFromDays(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(year + (m <= 2));
}

constexpr std::int64_t kDay2000 = 10957;   // 2000-01-01
constexpr std::int64_t kDaySpan = 9497;    // to 2025-12-31

void AppendDate(std::string& out, Rng& rng) {
  int y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(kDay2000 + static_cast<std::int64_t>(rng.Below(kDaySpan)), y, m, d);
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}", y, m, d);
}

void AppendValue(std::string& out, GenColumn column, std::uint64_t row, Rng& rng) {
  switch (column) {
    case GenColumn::kId:
      fmt::format_to(std::back_inserter(out), "{}", row);
      return;
    case GenColumn::kUuid: {
      std::uint64_t hi = rng.Next(), lo = rng.Next();
      hi = (hi & ~0xF000ull) | 0x4000ull;                            // version 4
      lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);            // variant 10
      fmt::format_to(std::back_inserter(out), "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF,
                     hi & 0xFFFF, lo >> 48, lo & 0xFFFFFFFFFFFFull);
      return;
    }
    case GenColumn::kName: {
      if (rng.Percent(3)) return;  // empty
      std::string name(kLast[rng.Below(kLast.size())]);
      name += ", ";
      name += kFirst[rng.Below(kFirst.size())];
      if (rng.Percent(10)) {
        name += " \"";
        name += kNick[rng.Below(kNick.size())];
        name += "\"";
      }
      AppendField(out, name);
      return;
    }
    case GenColumn::kEmail: {
      std::string_view first = kFirst[rng.Below(kFirst.size())];
      for (char c : first) {
        auto u = static_cast<unsigned char>(c);
        if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z')) out.push_back(static_cast<char>(u | 0x20));
      }
      fmt::format_to(std::back_inserter(out), ".{}@example.org", rng.Below(100000));
      return;
    }
    case GenColumn::kDate:
      AppendDate(out, rng);
      return;
    case GenColumn::kDatetime: {
      AppendDate(out, rng);
      std::uint64_t seconds = rng.Below(86400);
      fmt::format_to(std::back_inserter(out), " {:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
      return;
    }
    case GenColumn::kAmount: {
      if (rng.Percent(2)) return;
      std::int64_t cents = static_cast<std::int64_t>(rng.Below(10050000)) - 50000;  // -500.00 .. 99999.99
      if (cents < 0) out.push_back('-');
      std::uint64_t abs = static_cast<std::uint64_t>(cents < 0 ? -cents : cents);
      fmt::format_to(std::back_inserter(out), "{}.{:02}", abs / 100, abs % 100);
      return;
    }
    case GenColumn::kQuantity:
      fmt::format_to(std::back_inserter(out), "{}", 1 + rng.Below(500));
      return;
    case GenColumn::kCode:
      // A third are small numbers, so `00123`-style codes are common.
      fmt::format_to(std::back_inserter(out), "{:05}", rng.Below(rng.Percent(33) ? 1000 : 100000));
      return;
    case GenColumn::kCity:
      AppendField(out, kCity[rng.Below(kCity.size())]);
      return;
    case GenColumn::kNote: {
      if (rng.Percent(40)) return;
      std::string note;
      std::uint64_t words = 1 + rng.Below(6);
      for (std::uint64_t i = 0; i < words; ++i) {
        if (i > 0) note += rng.Percent(20) ? ", " : " ";
        note += kWords[rng.Below(kWords.size())];
      }
      if (rng.Percent(5)) note += " (said \"asap\")";
      if (rng.Percent(1)) note += "\nsecond line";
      AppendField(out, note);
      return;
    }
    case GenColumn::kFlag:
      out += rng.Percent(50) ? "true" : "false";
      return;
    case GenColumn::kScore: {
      std::uint64_t milli = rng.Below(100001);
      fmt::format_to(std::back_inserter(out), "{}.{:03}", milli / 1000, milli % 1000);
      return;
    }
  }
}

}  // namespace

std::vector<GenColumn> DefaultGenColumns() {
  return {GenColumn::kId,     GenColumn::kUuid,     GenColumn::kName, GenColumn::kEmail, GenColumn::kDate,
          GenColumn::kAmount, GenColumn::kQuantity, GenColumn::kCode, GenColumn::kCity};
}

std::string_view GenColumnName(GenColumn column) { return kNames[static_cast<std::size_t>(column)]; }

core::Result<std::vector<GenColumn>> ParseGenColumns(std::string_view list) {
  std::vector<GenColumn> columns;
  while (true) {
    auto comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    bool found = false;
    for (std::size_t i = 0; i < kNames.size(); ++i) {
      if (kNames[i] == name) {
        columns.push_back(static_cast<GenColumn>(i));
        found = true;
        break;
      }
    }
    if (!found) {
      std::string known;
      for (auto n : kNames) known += (known.empty() ? "" : ", ") + std::string(n);
      return core::Status::Invalid(fmt::format("unknown column kind '{}' (known: {})", name, known));
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return columns;
}

CsvGenerator::CsvGenerator(GeneratorOptions options) : options_(std::move(options)) {
  if (options_.columns.empty()) options_.columns = DefaultGenColumns();
}

std::string CsvGenerator::Header() const {
  std::string line;
  std::array<int, kNames.size()> seen{};
  for (std::size_t i = 0; i < options_.columns.size(); ++i) {
    if (i > 0) line.push_back(',');
    auto kind = static_cast<std::size_t>(options_.columns[i]);
    line += kNames[kind];
    if (++seen[kind] > 1) line += fmt::format("_{}", seen[kind]);
  }
  line.push_back('\n');
  return line;
}

void CsvGenerator::AppendRow(std::string& out, std::uint64_t row) const {
  Rng rng(options_.seed * 0x9E3779B97F4A7C15ull ^ (row * 0xD1B54A32D192ED03ull));
  for (std::size_t i = 0; i < options_.columns.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendValue(out, options_.columns[i], row, rng);
  }
  out.push_back('\n');
}

bool CsvGenerator::Next(std::string& out, std::size_t chunk_bytes) {
  bool wrote = false;
  if (!header_done_) {
    header_done_ = true;
    if (options_.header) {
      out += Header();
      wrote = true;
    }
  }
  std::size_t target = out.size() + chunk_bytes;
  while (next_row_ <= options_.rows && out.size() < target) {
    AppendRow(out, next_row_++);
    wrote = true;
  }
  return wrote;
}

core::Status WriteCsv(const GeneratorOptions& options, int fd) {
  CsvGenerator generator(options);
  std::string buffer;
  constexpr std::size_t kChunk = 1 << 20;
  buffer.reserve(kChunk + 4096);
  while (true) {
    buffer.clear();
    if (!generator.Next(buffer, kChunk)) return core::Status::Ok();
    const char* p = buffer.data();
    std::size_t left = buffer.size();
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return core::Status::Internal(fmt::format("write: {}", std::strerror(errno)));
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
}

}  // namespace sluice::ingest
