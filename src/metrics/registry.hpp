// Metrics in the Prometheus text format (version 0.0.4), for GET /metrics.
// A Registry holds families (name, help, type) of series (one per label set):
// counters, gauges and histograms, plus "collectors" — callbacks that set
// gauges at scrape time from state owned elsewhere (pool sizes, memory).
// Loop thread only: every update and the rendering happen on the loop, so no
// locks are needed. Series are created on first use and live as long as the
// registry (references stay valid).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(double by = 1) { value_ += by; }
  /// For a total kept by its owner (a pool, a client) and copied at scrape
  /// time by a collector; the owner's count only grows.
  void Set(double total) { value_ = total; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

class Gauge {
 public:
  void Set(double value) { value_ = value; }
  void Add(double by) { value_ += by; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}
  void Observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  const std::vector<uint64_t>& counts() const { return counts_; }  ///< per bucket, not cumulative
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

/// Latency buckets in seconds, 1 ms … 30 s.
std::vector<double> LatencyBuckets();

class Registry {
 public:
  Counter& GetCounter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& GetHistogram(std::string_view name, std::string_view help, const Labels& labels,
                          const std::vector<double>& bounds);
  /// Runs before every Render (to refresh gauges from their owners).
  void AddCollector(std::function<void(Registry&)> collector) { collectors_.push_back(std::move(collector)); }

  /// The whole exposition, families sorted by name, series by labels.
  std::string Render();

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string help;
    Type type = Type::kCounter;
    std::map<std::string, Series> series;  ///< keyed by the rendered label set
  };
  Series& Find(std::string_view name, std::string_view help, Type type, const Labels& labels);

  std::map<std::string, Family, std::less<>> families_;
  std::vector<std::function<void(Registry&)>> collectors_;
};

/// `{a="x",b="y"}` with values escaped (backslash, quote, newline); "" when empty.
std::string RenderLabels(const Labels& labels);

}  // namespace sluice::metrics
