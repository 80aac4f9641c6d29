#include <doctest/doctest.h>

#include <cmath>

#include "enrich/registry.hpp"
#include "enrich/shadow.hpp"

using namespace onepath;

namespace {
FeatureSet set_of(double period) {
  FeatureSet s;
  FeatureSpec f;
  f.name = "ema";
  f.indicator = {"ema", {{"period", period}}};
  s.features = {f};
  return s;
}
}  // namespace

TEST_CASE("registry: one enricher per key, shared and reference-counted, evicted after the idle time") {
  TimestampMs now = 0;
  EnricherRegistry reg(10 * kMsPerMinute, [&] { return now; });
  const Timeframe tf = Timeframe::parse("15m");
  {
    EnricherLease a = reg.acquire("BTC", set_of(12), tf);
    EnricherLease b = reg.acquire("BTC", set_of(12), tf);
    EnricherLease c = reg.acquire("ETH", set_of(12), tf);
    EnricherLease d = reg.acquire("BTC", set_of(26), tf);
    CHECK(a.get() == b.get());
    CHECK(a.get() != c.get());
    CHECK(a.get() != d.get());
    CHECK(reg.size() == 3);
    CHECK(reg.leases("BTC", a->version(), tf) == 2);
  }
  now = 9 * kMsPerMinute;
  CHECK(reg.evict_idle() == 0);
  EnricherLease again = reg.acquire("BTC", set_of(12), tf);  // back in use: not evicted
  now = 30 * kMsPerMinute;
  CHECK(reg.evict_idle() == 2);
  CHECK(reg.size() == 1);
}

TEST_CASE("shadow comparison logs divergences and fails past the budget") {
  ShadowComparator cmp({"a", "b"}, 1e-9, 5);
  double x[] = {1.0, NAN}, same[] = {1.0 + 1e-12, NAN}, off[] = {1.1, NAN};
  cmp.compare(0, 0, x, same);
  CHECK(cmp.divergences() == 0);
  for (int i = 1; i <= 5; ++i) cmp.compare(static_cast<std::size_t>(i), i, x, off);
  CHECK(cmp.divergences() == 5);
  REQUIRE(cmp.first().has_value());
  CHECK(cmp.first()->column == "a");
  CHECK(cmp.first()->row == 1);
  CHECK_THROWS_WITH(cmp.compare(6, 6, x, off), doctest::Contains("enrichment_shadow_budget_exceeded"));
}
