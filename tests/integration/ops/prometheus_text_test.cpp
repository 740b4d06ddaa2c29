// The strict Prometheus text reader the /metrics tests rely on: a valid
// exposition reads back value by value, and each kind of breakage is caught
// (so "no errors" in a metrics test means something).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/prometheus_text.hpp"

namespace sluice::testing {
namespace {

const std::string kValid =
    "# HELP up_total Things.\n"
    "# TYPE up_total counter\n"
    "up_total{route=\"a\\\"b\\\\c\\nd\",status=\"200\"} 3\n"
    "up_total{route=\"x\",} 1e3\n"
    "# A plain comment.\n"
    "\n"
    "# HELP open_now Open things, with a \\\\ and a \\n in the help.\n"
    "# TYPE open_now gauge\n"
    "open_now -1.5 1700000000000\n"
    "# HELP lat_seconds Latency.\n"
    "# TYPE lat_seconds histogram\n"
    "lat_seconds_bucket{route=\"r\",le=\"0.1\"} 2\n"
    "lat_seconds_bucket{route=\"r\",le=\"1\"} 3\n"
    "lat_seconds_bucket{route=\"r\",le=\"+Inf\"} 4\n"
    "lat_seconds_sum{route=\"r\"} 7.65\n"
    "lat_seconds_count{route=\"r\"} 4\n";

TEST(PrometheusTextCheck, ReadsAValidExposition) {
  PromExposition e = ParsePrometheusText(kValid);
  EXPECT_TRUE(e.errors.empty()) << ::testing::PrintToString(e.errors);
  EXPECT_EQ(e.Value("up_total", {{"status", "200"}, {"route", "a\"b\\c\nd"}}), 3);
  EXPECT_EQ(e.Value("up_total", {{"route", "x"}}), 1000);
  EXPECT_EQ(e.Value("open_now"), -1.5);
  EXPECT_EQ(e.Value("lat_seconds_count", {{"route", "r"}}), 4);
  EXPECT_EQ(e.Sum("up_total"), 1003);
  EXPECT_FALSE(e.Value("up_total", {{"route", "nope"}}));
  EXPECT_EQ(e.types["lat_seconds"], "histogram");
  EXPECT_EQ(e.help["open_now"], "Open things, with a \\ and a \n in the help.");
}

TEST(PrometheusTextCheck, CatchesEachKindOfBreakage) {
  const std::string head = "# HELP a_total A.\n# TYPE a_total counter\n";
  const std::string hist = "# HELP h H.\n# TYPE h histogram\n";
  struct Case {
    std::string name, text;
  };
  const std::vector<Case> cases = {
      {"no final newline", head + "a_total 1"},
      {"TYPE twice", head + "# TYPE a_total counter\na_total 1\n"},
      {"HELP twice", head + "# HELP a_total again\na_total 1\n"},
      {"no HELP", "# TYPE a_total counter\na_total 1\n"},
      {"no TYPE", "# HELP a_total A.\na_total 1\n"},
      {"sample before TYPE", "a_total 1\n" + head},
      {"TYPE after samples", "# HELP b B.\n# TYPE b gauge\nb 1\n# TYPE b gauge\n"},
      {"unknown type", "# HELP b B.\n# TYPE b meter\nb 1\n"},
      {"counter not _total", "# HELP b B.\n# TYPE b counter\nb 1\n"},
      {"gauge named _total", "# HELP b_total B.\n# TYPE b_total gauge\nb_total 1\n"},
      {"negative counter", head + "a_total -1\n"},
      {"bad metric name", head + "a-total 1\n"},
      {"bad label name", head + "a_total{1x=\"a\"} 1\n"},
      {"unquoted label value", head + "a_total{x=a} 1\n"},
      {"bad escape", head + "a_total{x=\"a\\t\"} 1\n"},
      {"unterminated labels", head + "a_total{x=\"a\" 1\n"},
      {"label twice", head + "a_total{x=\"a\",x=\"b\"} 1\n"},
      {"reserved label", head + "a_total{__x=\"a\"} 1\n"},
      {"value not a number", head + "a_total one\n"},
      {"two spaces", head + "a_total  1\n"},
      {"bad timestamp", head + "a_total 1 soon\n"},
      {"series twice", head + "a_total{x=\"a\"} 1\na_total{x=\"a\"} 2\n"},
      {"families interleaved",
       head + "a_total{x=\"a\"} 1\n# HELP b B.\n# TYPE b gauge\nb 1\na_total{x=\"b\"} 1\n"},
      {"buckets not cumulative",
       hist + "h_bucket{le=\"1\"} 3\nh_bucket{le=\"2\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 3\n"},
      {"le not increasing",
       hist + "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 3\n"},
      {"no +Inf bucket", hist + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"},
      {"+Inf differs from _count", hist + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n"},
      {"no _count", hist + "h_bucket{le=\"+Inf\"} 2\nh_sum 1\n"},
      {"bucket without le", hist + "h_bucket 2\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n"},
      {"plain histogram sample", hist + "h 2\n"},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(ParsePrometheusText(c.text).errors.empty()) << c.name << ":\n" << c.text;
  }
}

}  // namespace
}  // namespace sluice::testing
