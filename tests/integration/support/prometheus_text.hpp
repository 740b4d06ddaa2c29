// A strict reader of the Prometheus text exposition format (version 0.0.4),
// for the tests of GET /metrics: it parses every line and lists every way the
// text breaks the format or the naming rules sluice follows, so a test can
// assert "no errors" and then read values.
//
// Checked: every line ends with "\n"; `# HELP` and `# TYPE` at most once per
// family, TYPE before the family's first sample, every family has both;
// a family's samples are contiguous; metric and label names are valid, label
// values use only the \\ \" \n escapes, no label twice in a sample, no series
// twice; values are floats (or +Inf/-Inf/NaN), an optional integer timestamp;
// counters are named `_total` (and only counters are), are finite and >= 0;
// histograms have `_bucket` series with an `le` label, bounds increasing,
// counts cumulative, a last bucket `le="+Inf"` equal to `_count`, and
// `_sum`/`_count` for every label set; gauges are plain samples.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::testing {

struct PromSample {
  std::string name;  ///< as written: `x_bucket` for a histogram's bucket
  std::vector<std::pair<std::string, std::string>> labels;  ///< in order, unescaped
  double value = 0;
};

struct PromExposition {
  std::vector<PromSample> samples;
  std::map<std::string, std::string> types;  ///< family → counter|gauge|histogram|summary|untyped
  std::map<std::string, std::string> help;   ///< family → help text (unescaped)
  std::vector<std::string> errors;           ///< "line N: what is wrong"; empty when valid

  /// The value of the series `name` with exactly these labels (any order).
  std::optional<double> Value(std::string_view name,
                              const std::vector<std::pair<std::string, std::string>>& labels = {}) const;
  /// The sum over every series of `name` (0 when none).
  double Sum(std::string_view name) const;
};

/// Parses `text` and checks it (see the top of the file).
PromExposition ParsePrometheusText(std::string_view text);

}  // namespace sluice::testing
