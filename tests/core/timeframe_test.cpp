#include <doctest/doctest.h>

#include "core/error.hpp"
#include "core/timeframe.hpp"

using namespace onepath;

TEST_CASE("every timeframe parses and aligns bars to its boundaries") {
  const TimestampMs t = parse_timestamp("2024-03-13T17:47:31.500Z");  // a Wednesday
  struct Case { const char* name; const char* floor; };
  const Case cases[] = {
      {"1m", "2024-03-13T17:47:00Z"},  {"3m", "2024-03-13T17:45:00Z"},  {"5m", "2024-03-13T17:45:00Z"},
      {"15m", "2024-03-13T17:45:00Z"}, {"30m", "2024-03-13T17:30:00Z"}, {"1h", "2024-03-13T17:00:00Z"},
      {"2h", "2024-03-13T16:00:00Z"},  {"4h", "2024-03-13T16:00:00Z"},  {"6h", "2024-03-13T12:00:00Z"},
      {"8h", "2024-03-13T16:00:00Z"},  {"12h", "2024-03-13T12:00:00Z"}, {"1d", "2024-03-13T00:00:00Z"},
      {"1w", "2024-03-11T00:00:00Z"},  // Monday
  };
  CHECK(Timeframe::all().size() == std::size(cases));
  for (const auto& c : cases) {
    CAPTURE(c.name);
    Timeframe tf = Timeframe::parse(c.name);
    CHECK(tf.name() == c.name);
    TimestampMs f = parse_timestamp(c.floor);
    CHECK(tf.floor(t) == f);
    CHECK(tf.bar_open(t) == f);
    CHECK(tf.ceil(t) == f + tf.duration_ms());
    CHECK(tf.bar_close(t) == f + tf.duration_ms());
    CHECK(tf.is_aligned(f));
    CHECK_FALSE(tf.is_aligned(t));
    CHECK(tf.floor(f) == f);
    CHECK(tf.ceil(f) == f);
    CHECK(tf.floor(f - 1) == f - tf.duration_ms());
    CHECK(Timeframe::from_duration(tf.duration_ms()) == tf);
  }
}

TEST_CASE("1w bars start on Monday 00:00 UTC, before 1970 too") {
  Timeframe w = Timeframe::parse("1w");
  CHECK(w.floor(parse_timestamp("2024-03-17T23:59:59.999Z")) == parse_timestamp("2024-03-11"));  // Sunday
  CHECK(w.floor(parse_timestamp("2024-03-18")) == parse_timestamp("2024-03-18"));                // Monday
  CHECK(w.floor(0) == parse_timestamp("1969-12-29"));  // the epoch was a Thursday
  CHECK(w.floor(parse_timestamp("1969-07-20T20:17:00Z")) == parse_timestamp("1969-07-14"));
  CHECK(w.floor(parse_timestamp("2025-01-01")) == parse_timestamp("2024-12-30"));  // across a year end
}

TEST_CASE("daylight-saving dates change nothing: UTC days are 24 hours") {
  Timeframe h = Timeframe::parse("1h");
  // US (2024-03-10) and EU (2024-03-31) spring forward; EU falls back 2024-10-27.
  for (const char* day : {"2024-03-10", "2024-03-31", "2024-10-27", "2024-11-03"}) {
    TimestampMs d = parse_timestamp(day);
    CHECK(Timeframe::parse("1d").floor(d + 23 * kMsPerHour) == d);
    CHECK(h.floor(d + 2 * kMsPerHour + 30 * kMsPerMinute) == d + 2 * kMsPerHour);
  }
}

TEST_CASE("unknown timeframes list the supported ones") {
  for (const char* bad : {"", "2m", "1M", "1H", "60", "1y"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(Timeframe::parse(bad), InputError);
  }
  try {
    Timeframe::parse("2m");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("15m") != std::string::npos);
  }
  CHECK_THROWS_AS(Timeframe::from_duration(7 * kMsPerMinute), InputError);
}
