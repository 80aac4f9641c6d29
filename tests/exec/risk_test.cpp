#include <doctest/doctest.h>

#include "core/error.hpp"
#include "exec/risk.hpp"

using namespace onepath;

namespace {
RiskView view(double position = 0, double gross = 0, int open = 0) { return {10'000, 100, position, gross, open}; }
const RiskReason* find(const RiskAnswer& a, const std::string& code) {
  for (const auto& r : a.reasons)
    if (r.code == code) return &r;
  return nullptr;
}
}  // namespace

TEST_CASE("within every limit: approved as proposed") {
  RiskManager rm({});
  RiskAnswer a = rm.check(1, 20, view());
  CHECK(a.approved);
  CHECK(a.quantity == 20);
  CHECK(a.reasons.empty());
}

TEST_CASE("position size above 25 % of equity: rejected with the allowed quantity, or clipped to it") {
  RiskManager rm({});
  RiskAnswer a = rm.check(1, 30, view());
  CHECK_FALSE(a.approved);
  CHECK(a.quantity == doctest::Approx(25));
  const RiskReason* r = find(a, "CONCENTRATION_LIMIT");
  REQUIRE(r != nullptr);
  CHECK(r->limit == 0.25);
  CHECK(r->proposed == doctest::Approx(0.30));
  CHECK(r->message == "position would be 30% of equity (limit 25%)");

  RiskLimits clip;
  clip.mode = RiskMode::clip;
  RiskAnswer c = RiskManager(clip).check(1, 30, view());
  CHECK(c.approved);
  CHECK(c.quantity == doctest::Approx(25));

  CHECK(rm.check(1, 10, view(20, 2000, 1)).quantity == doctest::Approx(5));   // adding to 20 held
  CHECK(rm.check(1, 40, view(-20, 2000, 1)).approved);                       // reversing -20 to +20
}

TEST_CASE("gross leverage above 1.5x: rejected with the allowed quantity") {
  RiskManager rm({});
  RiskAnswer a = rm.check(-1, 20, view(0, 14'000, 3));
  CHECK_FALSE(a.approved);
  REQUIRE(find(a, "LEVERAGE_LIMIT") != nullptr);
  CHECK(find(a, "LEVERAGE_LIMIT")->proposed == doctest::Approx(1.6));
  CHECK(a.quantity == doctest::Approx(10));
}

TEST_CASE("maximum open positions: a new symbol is refused, an open one may add") {
  RiskLimits l;
  l.max_open_positions = 2;
  RiskManager rm(l);
  CHECK_FALSE(rm.check(1, 1, view(0, 200, 2)).approved);
  CHECK(find(rm.check(1, 1, view(0, 200, 2)), "MAX_OPEN_POSITIONS") != nullptr);
  CHECK(rm.check(1, 1, view(1, 200, 2)).approved);
}

TEST_CASE("daily loss limit: 2 % below the day's opening equity halts entries until the next UTC day") {
  RiskManager rm({});
  const TimestampMs day1 = 1709251200000;
  rm.on_time(day1, 10'000);
  CHECK_FALSE(rm.on_equity(9'850));
  CHECK(rm.on_equity(9'790));
  RiskAnswer a = rm.check(1, 1, view());
  CHECK_FALSE(a.approved);
  CHECK(a.quantity == 0);
  REQUIRE(find(a, "DAILY_LOSS_LIMIT") != nullptr);
  rm.on_time(day1 + 23 * kMsPerHour, 9'950);  // same day, even after a recovery
  CHECK(rm.halted());
  rm.on_time(day1 + kMsPerDay, 9'950);
  CHECK_FALSE(rm.halted());
  CHECK(rm.check(1, 1, view()).approved);
}

TEST_CASE("bad limits are refused") {
  RiskLimits l;
  l.max_gross_leverage = 0;
  CHECK_THROWS_AS(RiskManager{l}, InputError);
  l = {};
  l.daily_loss_fraction = 1.5;
  CHECK_THROWS_AS(RiskManager{l}, InputError);
}
