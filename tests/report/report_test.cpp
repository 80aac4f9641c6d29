// The run report: what is drawn of long series, and the page's own numbers.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "core/time.hpp"
#include "report/report.hpp"

using namespace onepath;

TEST_CASE("decimate keeps every point of a short series") {
  std::vector<double> v = {3, 1, 2};
  auto kept = decimate(v.data(), v.size(), 4000);
  CHECK(kept == std::vector<std::size_t>{0, 1, 2});
}

TEST_CASE("decimate of a million points keeps the ends, the extremes and the order, within the budget") {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> step(0, 1);
  std::vector<double> v(1'000'000);
  double x = 0;
  for (auto& e : v) e = x += step(rng);
  v[123'457] = 1e6;    // a spike
  v[876'543] = -1e6;   // a crash
  const auto kept = decimate(v.data(), v.size(), 4000);
  CHECK(kept.size() <= 4000);
  CHECK(kept.size() > 2000);
  CHECK(kept.front() == 0);
  CHECK(kept.back() == v.size() - 1);
  CHECK(std::is_sorted(kept.begin(), kept.end()));
  CHECK(std::adjacent_find(kept.begin(), kept.end()) == kept.end());
  CHECK(std::find(kept.begin(), kept.end(), 123'457u) != kept.end());
  CHECK(std::find(kept.begin(), kept.end(), 876'543u) != kept.end());
  // every bucket's extremes: the drawn curve's range over any bucket is the data's
  const std::size_t buckets = 1000;
  for (std::size_t b = 0; b < buckets; b += 97) {
    const std::size_t lo = v.size() * b / buckets, hi = v.size() * (b + 1) / buckets;
    const double mx = *std::max_element(v.begin() + static_cast<std::ptrdiff_t>(lo), v.begin() + static_cast<std::ptrdiff_t>(hi));
    bool found = false;
    for (std::size_t k : kept) found |= k >= lo && k < hi && v[k] == mx;
    CHECK(found);
  }
}

TEST_CASE("the report of a million equity marks draws a few thousand, works offline and computes monthly returns") {
  ReportInput in;
  in.title = "backtest run 9";
  in.run.id = 9;
  in.run.kind = "backtest";
  in.run.status = "complete";
  in.run.metrics = "{\"sharpe\": 1.25, \"strategy\": \"s.lua\"}";
  in.run.config_text = "[data]\nsymbols = [\"<BTC>\"]\n";
  const TimestampMs jan1 = parse_timestamp("2024-01-01");
  for (int i = 0; i < 1'000'000; ++i) in.equity.push_back({jan1 + static_cast<TimestampMs>(i) * 60'000, 100.0 + (i % 1000) * 0.001, 0, 0});
  // the last mark of January is 100 + 0.999 * ... ; pin two month ends exactly
  const TimestampMs jan_end = parse_timestamp("2024-01-31T23:59:00Z"), feb_end = parse_timestamp("2024-02-29T23:59:00Z");
  for (auto& e : in.equity) {
    if (e.ts == jan_end) e.equity = 200;
    if (e.ts == feb_end) e.equity = 220;
  }
  const std::string html = render_report(in, ChartLibrary{"/* library */", ""});
  CHECK(html.size() < 2'000'000);
  CHECK(html.find("Drawn from") != std::string::npos);
  CHECK(html.find("of 1000000 marks") != std::string::npos);
  CHECK(html.find("<link") == std::string::npos);  // nothing fetched: no stylesheet, no script source
  CHECK(html.find(" src=") == std::string::npos);
  CHECK(html.find("&lt;BTC&gt;") != std::string::npos);  // the config is escaped, not markup
  CHECK(html.find(">10.0</td>") != std::string::npos);   // February: 220 / 200 - 1
  CHECK(html.find("<th>sharpe</th><td>1.25</td>") != std::string::npos);
  CHECK(html.find("No trades.") != std::string::npos);
}
