// See registry.hpp.
#include "metrics/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace sluice::metrics {
namespace {

std::string FormatValue(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (std::isnan(value)) return "NaN";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return fmt::format("{}", static_cast<int64_t>(value));
  return fmt::format("{}", value);
}

std::string_view TypeName(int type) {
  switch (type) {
    case 0: return "counter";
    case 1: return "gauge";
    default: return "histogram";
  }
}

}  // namespace

void Histogram::Observe(double value) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);  // first bound >= value (le semantics)
  if (it != bounds_.end()) ++counts_[static_cast<size_t>(it - bounds_.begin())];
  ++count_;
  sum_ += value;
}

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

std::string RenderLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i].first;
    out += "=\"";
    for (char c : labels[i].second) {
      if (c == '\\') out += "\\\\";
      else if (c == '"') out += "\\\"";
      else if (c == '\n') out += "\\n";
      else out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

Registry::Series& Registry::Find(std::string_view name, std::string_view help, Type type, const Labels& labels) {
  auto family_it = families_.find(name);
  if (family_it == families_.end()) {
    family_it = families_.emplace(std::string(name), Family{std::string(help), type, {}}).first;
  }
  Family& family = family_it->second;
  std::string key = RenderLabels(labels);
  auto series_it = family.series.find(key);
  if (series_it == family.series.end()) {
    series_it = family.series.emplace(key, Series{labels, nullptr, nullptr, nullptr}).first;
  }
  return series_it->second;
}

Counter& Registry::GetCounter(std::string_view name, std::string_view help, const Labels& labels) {
  Series& series = Find(name, help, Type::kCounter, labels);
  if (!series.counter) series.counter = std::make_unique<Counter>();
  return *series.counter;
}

Gauge& Registry::GetGauge(std::string_view name, std::string_view help, const Labels& labels) {
  Series& series = Find(name, help, Type::kGauge, labels);
  if (!series.gauge) series.gauge = std::make_unique<Gauge>();
  return *series.gauge;
}

Histogram& Registry::GetHistogram(std::string_view name, std::string_view help, const Labels& labels,
                                  const std::vector<double>& bounds) {
  Series& series = Find(name, help, Type::kHistogram, labels);
  if (!series.histogram) series.histogram = std::make_unique<Histogram>(bounds);
  return *series.histogram;
}

std::string Registry::Render() {
  for (auto& collector : collectors_) collector(*this);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, family.help, name,
                       TypeName(static_cast<int>(family.type)));
    for (const auto& [key, series] : family.series) {
      if (family.type == Type::kCounter && series.counter) {
        out += fmt::format("{}{} {}\n", name, key, FormatValue(series.counter->value()));
      } else if (family.type == Type::kGauge && series.gauge) {
        out += fmt::format("{}{} {}\n", name, key, FormatValue(series.gauge->value()));
      } else if (family.type == Type::kHistogram && series.histogram) {
        const Histogram& h = *series.histogram;
        uint64_t cumulative = 0;
        for (size_t i = 0; i <= h.bounds().size(); ++i) {
          Labels labels = series.labels;
          if (i < h.bounds().size()) {
            cumulative += h.counts()[i];
            labels.emplace_back("le", FormatValue(h.bounds()[i]));
          } else {
            cumulative = h.count();
            labels.emplace_back("le", "+Inf");
          }
          out += fmt::format("{}_bucket{} {}\n", name, RenderLabels(labels), cumulative);
        }
        out += fmt::format("{}_sum{} {}\n", name, key, FormatValue(h.sum()));
        out += fmt::format("{}_count{} {}\n", name, key, h.count());
      }
    }
  }
  return out;
}

}  // namespace sluice::metrics
