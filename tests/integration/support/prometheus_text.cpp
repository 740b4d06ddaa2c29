// See prometheus_text.hpp.
#include "support/prometheus_text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>

namespace sluice::testing {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

bool IsMetricName(std::string_view name) {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  return std::regex_match(name.begin(), name.end(), kName);
}

bool IsLabelName(std::string_view name) {
  static const std::regex kName("[a-zA-Z_][a-zA-Z0-9_]*");
  return std::regex_match(name.begin(), name.end(), kName);
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

/// A float as the format writes it: decimal (with exponent), +Inf, -Inf, NaN.
std::optional<double> ParseValue(std::string_view text) {
  if (text == "+Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN") return std::nan("");
  static const std::regex kFloat(R"([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?)");
  if (!std::regex_match(text.begin(), text.end(), kFloat)) return std::nullopt;
  return std::strtod(std::string(text).c_str(), nullptr);
}

/// `# HELP` text: only \\ and \n escapes.
std::optional<std::string> UnescapeHelp(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (i + 1 >= text.size()) return std::nullopt;
    char next = text[++i];
    if (next == '\\') out += '\\';
    else if (next == 'n') out += '\n';
    else return std::nullopt;
  }
  return out;
}

std::string SeriesKey(const std::string& name, Labels labels) {
  std::sort(labels.begin(), labels.end());
  std::string key = name + "{";
  for (const auto& [k, v] : labels) key += k + "=" + v + "\x01";
  return key + "}";
}

class Parser {
 public:
  explicit Parser(PromExposition& out) : out_(out) {}

  void Line(std::size_t number, std::string_view line) {
    number_ = number;
    if (line.empty()) return;
    if (line[0] == '#') return Comment(line);
    Sample(line);
  }

  void Finish() {
    for (const auto& [family, type] : out_.types) {
      if (out_.help.count(family) == 0) Error("family " + family + " has a TYPE but no HELP");
    }
    for (const auto& [family, help] : out_.help) {
      if (out_.types.count(family) == 0) Error("family " + family + " has a HELP but no TYPE");
    }
    CheckHistograms();
  }

 private:
  void Error(const std::string& what) {
    out_.errors.push_back("line " + std::to_string(number_) + ": " + what);
  }

  void Comment(std::string_view line) {
    bool help = line.starts_with("# HELP ");
    bool type = line.starts_with("# TYPE ");
    if (!help && !type) return;  // a plain comment
    std::string_view rest = line.substr(7);
    std::size_t space = rest.find(' ');
    std::string name(rest.substr(0, space));
    std::string_view text = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    if (!IsMetricName(name)) return Error("bad metric name in a comment: '" + name + "'");
    if (closed_.count(name) != 0 || current_ == name) {
      return Error(std::string(help ? "HELP" : "TYPE") + " for " + name + " after its samples");
    }
    if (help) {
      if (space == std::string_view::npos) return Error("HELP without text for " + name);
      auto unescaped = UnescapeHelp(text);
      if (!unescaped) return Error("bad escape in the HELP of " + name);
      if (!out_.help.emplace(name, *unescaped).second) Error("HELP twice for " + name);
      return;
    }
    static const std::set<std::string, std::less<>> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};
    if (kTypes.count(text) == 0) return Error("unknown TYPE '" + std::string(text) + "' for " + name);
    if (!out_.types.emplace(name, std::string(text)).second) return Error("TYPE twice for " + name);
    if (text == "counter" && !EndsWith(name, "_total")) Error("counter " + name + " is not named *_total");
    if (text != "counter" && EndsWith(name, "_total")) Error(std::string(text) + " " + name + " is named *_total");
  }

  /// The family a sample name belongs to, or "" when it has no TYPE.
  std::string FamilyOf(const std::string& name) const {
    if (out_.types.count(name) != 0) return name;
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (!EndsWith(name, suffix)) continue;
      std::string base = name.substr(0, name.size() - suffix.size());
      auto it = out_.types.find(base);
      if (it != out_.types.end() && (it->second == "histogram" || (it->second == "summary" && suffix != "_bucket"))) {
        return base;
      }
    }
    return "";
  }

  void Sample(std::string_view line) {
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    PromSample sample;
    sample.name = std::string(line.substr(0, i));
    if (!IsMetricName(sample.name)) return Error("bad metric name '" + sample.name + "'");
    std::set<std::string> seen_labels;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        if (i >= line.size()) return Error("unterminated label set");
        if (line[i] == '}') {
          ++i;
          break;
        }
        std::size_t eq = line.find('=', i);
        if (eq == std::string_view::npos) return Error("label without '='");
        std::string label(line.substr(i, eq - i));
        if (!IsLabelName(label)) return Error("bad label name '" + label + "'");
        if (label.starts_with("__")) return Error("reserved label name '" + label + "'");
        if (!seen_labels.insert(label).second) return Error("label " + label + " twice");
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') return Error("label value of " + label + " is not quoted");
        ++i;
        std::string value;
        bool closed = false;
        while (i < line.size()) {
          char c = line[i++];
          if (c == '"') {
            closed = true;
            break;
          }
          if (c != '\\') {
            value += c;
            continue;
          }
          if (i >= line.size()) break;
          char next = line[i++];
          if (next == '\\') value += '\\';
          else if (next == '"') value += '"';
          else if (next == 'n') value += '\n';
          else return Error("bad escape in the value of label " + label);
        }
        if (!closed) return Error("unterminated value of label " + label);
        sample.labels.emplace_back(label, value);
        if (i < line.size() && line[i] == ',') {
          ++i;
        } else if (i >= line.size() || line[i] != '}') {
          return Error("expected ',' or '}' after label " + label);
        }
      }
    }
    if (i >= line.size() || line[i] != ' ') return Error("no space before the value");
    ++i;
    std::string_view rest = line.substr(i);
    std::size_t space = rest.find(' ');
    auto value = ParseValue(rest.substr(0, space));
    if (!value) return Error("bad value '" + std::string(rest.substr(0, space)) + "'");
    if (space != std::string_view::npos) {
      static const std::regex kTimestamp("-?[0-9]+");
      std::string stamp(rest.substr(space + 1));
      if (!std::regex_match(stamp, kTimestamp)) return Error("bad timestamp '" + stamp + "'");
    }
    sample.value = *value;

    std::string family = FamilyOf(sample.name);
    if (family.empty()) return Error("sample " + sample.name + " before (or without) its TYPE");
    if (family != current_) {
      if (closed_.count(family) != 0) return Error("samples of " + family + " are not together");
      if (!current_.empty()) closed_.insert(current_);
      current_ = family;
    }
    const std::string& type = out_.types[family];
    if (type == "counter" && !(sample.value >= 0 && std::isfinite(sample.value))) {
      Error("counter " + sample.name + " is negative or not finite");
    }
    if (type == "histogram") {
      bool bucket = sample.name == family + "_bucket";
      if (bucket != (seen_labels.count("le") != 0)) Error("histogram " + sample.name + ": le only on _bucket");
      if (sample.name == family) Error("histogram " + family + " has a plain sample");
    }
    if (!series_.insert(SeriesKey(sample.name, sample.labels)).second) {
      Error("series twice: " + std::string(line.substr(0, line.rfind(' '))));
    }
    out_.samples.push_back(std::move(sample));
  }

  void CheckHistograms() {
    struct Group {
      std::vector<std::pair<double, double>> buckets;  // (le, count) in file order
      std::optional<double> count, sum;
    };
    std::map<std::string, Group> groups;
    for (const auto& s : out_.samples) {
      std::string family = FamilyOf(s.name);
      auto type = out_.types.find(family);
      if (type == out_.types.end() || type->second != "histogram") continue;
      Labels rest;
      std::optional<std::string> le;
      for (const auto& label : s.labels) {
        if (label.first == "le") le = label.second;
        else rest.push_back(label);
      }
      Group& g = groups[SeriesKey(family, rest)];
      if (s.name == family + "_bucket") {
        auto bound = le ? ParseValue(*le) : std::nullopt;
        if (!bound) {
          out_.errors.push_back(family + ": bad le");
          continue;
        }
        g.buckets.emplace_back(*bound, s.value);
      } else if (s.name == family + "_count") {
        g.count = s.value;
      } else if (s.name == family + "_sum") {
        g.sum = s.value;
      }
    }
    for (const auto& [key, g] : groups) {
      if (g.buckets.empty()) {
        out_.errors.push_back(key + ": histogram without buckets");
        continue;
      }
      for (std::size_t i = 1; i < g.buckets.size(); ++i) {
        if (!(g.buckets[i].first > g.buckets[i - 1].first)) out_.errors.push_back(key + ": le not increasing");
        if (g.buckets[i].second < g.buckets[i - 1].second) out_.errors.push_back(key + ": buckets not cumulative");
      }
      for (const auto& [le, count] : g.buckets) {
        if (count < 0 || count != std::floor(count)) out_.errors.push_back(key + ": bucket count not a whole number");
      }
      if (!std::isinf(g.buckets.back().first) || g.buckets.back().first < 0) {
        out_.errors.push_back(key + ": the last bucket is not le=\"+Inf\"");
      }
      if (!g.count || !g.sum) {
        out_.errors.push_back(key + ": _count or _sum missing");
      } else if (*g.count != g.buckets.back().second) {
        out_.errors.push_back(key + ": the +Inf bucket differs from _count");
      }
    }
  }

  PromExposition& out_;
  std::size_t number_ = 0;
  std::string current_;
  std::set<std::string> closed_;
  std::set<std::string> series_;
};

}  // namespace

std::optional<double> PromExposition::Value(std::string_view name, const Labels& labels) const {
  std::string key = SeriesKey(std::string(name), labels);
  for (const auto& s : samples) {
    if (s.name == name && SeriesKey(s.name, s.labels) == key) return s.value;
  }
  return std::nullopt;
}

double PromExposition::Sum(std::string_view name) const {
  double total = 0;
  for (const auto& s : samples) {
    if (s.name == name) total += s.value;
  }
  return total;
}

PromExposition ParsePrometheusText(std::string_view text) {
  PromExposition out;
  if (text.empty()) {
    out.errors.push_back("empty exposition");
    return out;
  }
  if (text.back() != '\n') out.errors.push_back("the text does not end with a newline");
  Parser parser(out);
  std::size_t number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    parser.Line(++number, text.substr(start, end - start));
    start = end + 1;
  }
  parser.Finish();
  return out;
}

}  // namespace sluice::testing
