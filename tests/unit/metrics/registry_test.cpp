// Registry: the exact Prometheus text for counters, gauges, histograms
// (cumulative buckets, +Inf, _sum, _count), label escaping and collectors.
#include "metrics/registry.hpp"

#include <gtest/gtest.h>

namespace sluice::metrics {
namespace {

TEST(Registry, RendersCountersAndGaugesSorted) {
  Registry registry;
  registry.GetCounter("sluice_requests_total", "Requests.", {{"route", "healthz"}, {"status", "200"}}).Inc();
  registry.GetCounter("sluice_requests_total", "Requests.", {{"route", "healthz"}, {"status", "200"}}).Inc(2);
  registry.GetCounter("sluice_requests_total", "Requests.", {{"route", "a"}, {"status", "404"}}).Inc();
  registry.GetGauge("sluice_open", "Open things.").Set(1.5);
  EXPECT_EQ(registry.Render(),
            "# HELP sluice_open Open things.\n"
            "# TYPE sluice_open gauge\n"
            "sluice_open 1.5\n"
            "# HELP sluice_requests_total Requests.\n"
            "# TYPE sluice_requests_total counter\n"
            "sluice_requests_total{route=\"a\",status=\"404\"} 1\n"
            "sluice_requests_total{route=\"healthz\",status=\"200\"} 3\n");
}

TEST(Registry, HistogramBucketsAreCumulative) {
  Registry registry;
  auto& h = registry.GetHistogram("lat_seconds", "Latency.", {{"route", "r"}}, {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.1);  // le is inclusive
  h.Observe(0.5);
  h.Observe(7);
  EXPECT_EQ(registry.Render(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{route=\"r\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{route=\"r\",le=\"1\"} 3\n"
            "lat_seconds_bucket{route=\"r\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{route=\"r\"} 7.65\n"
            "lat_seconds_count{route=\"r\"} 4\n");
}

TEST(Registry, EscapesLabelValues) {
  EXPECT_EQ(RenderLabels({{"a", "x\"y\\z\nw"}}), "{a=\"x\\\"y\\\\z\\nw\"}");
  EXPECT_EQ(RenderLabels({}), "");
}

TEST(Registry, CollectorsRunAtRenderTime) {
  Registry registry;
  int scrapes = 0;
  registry.AddCollector([&](Registry& r) { r.GetGauge("scrapes", "Scrapes.").Set(++scrapes); });
  EXPECT_NE(registry.Render().find("scrapes 1\n"), std::string::npos);
  EXPECT_NE(registry.Render().find("scrapes 2\n"), std::string::npos);
}

TEST(Registry, CollectorsCopyTotalsIntoCounters) {
  Registry registry;
  uint64_t owned_total = 0;  // a count kept by its owner, e.g. the S3 client
  registry.AddCollector([&](Registry& r) {
    r.GetCounter("owned_total", "Owned.", {{"op", "Put"}}).Set(static_cast<double>(owned_total));
  });
  EXPECT_NE(registry.Render().find("# TYPE owned_total counter\nowned_total{op=\"Put\"} 0\n"), std::string::npos);
  owned_total = 7;
  EXPECT_NE(registry.Render().find("owned_total{op=\"Put\"} 7\n"), std::string::npos);
}

TEST(Registry, SeriesReferencesStayValid) {
  Registry registry;
  Counter& first = registry.GetCounter("c", "C.", {{"k", "0"}});
  for (int i = 1; i < 100; ++i) registry.GetCounter("c", "C.", {{"k", std::to_string(i)}}).Inc();
  first.Inc(5);
  EXPECT_EQ(registry.GetCounter("c", "C.", {{"k", "0"}}).value(), 5);
}

}  // namespace
}  // namespace sluice::metrics
