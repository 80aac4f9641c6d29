#include <doctest/doctest.h>

#include "core/error.hpp"
#include "core/time.hpp"

using namespace onepath;

namespace {
// The plainest possible definition: count days year by year, month by month.
std::int64_t reference_days(int y, int m, int d) {
  auto leap = [](int yy) { return (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0; };
  static const int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  std::int64_t days = 0;
  for (int yy = 1970; yy < y; ++yy) days += leap(yy) ? 366 : 365;
  for (int yy = y; yy < 1970; ++yy) days -= leap(yy) ? 366 : 365;
  for (int mm = 1; mm < m; ++mm) days += len[mm - 1] + (mm == 2 && leap(y));
  return days + d - 1;
}
}  // namespace

TEST_CASE("ISO dates and times parse to UTC milliseconds") {
  struct Case { const char* text; TimestampMs ms; };
  const Case cases[] = {
      {"1970-01-01T00:00:00Z", 0},
      {"1970-01-01", 0},
      {"2024-03-01T00:00:00Z", 1709251200000},
      {"2024-03-01 00:00:00", 1709251200000},          // no zone: UTC
      {"2024-03-01T00:00", 1709251200000},
      {"2024-03-01T12:30:45.250Z", 1709296245250},
      {"2024-03-01T12:30:45.25Z", 1709296245250},
      {"2024-03-01T12:30:45.250000Z", 1709296245250},  // zeros past the millisecond
      {"2024-03-01T14:30:45.250+02:00", 1709296245250},
      {"2024-03-01T14:30:45.250+0200", 1709296245250},
      {"2024-03-01T07:30:45.250-05", 1709296245250},
      {"2024-03-01T00:00:00-00:30", 1709253000000},
      {"\"2024-03-01T00:00:00Z\"", 1709251200000},
      {"1969-12-31T23:59:59.999Z", -1},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    CHECK(parse_timestamp(c.text) == c.ms);
  }
}

TEST_CASE("leap years follow the Gregorian rules") {
  CHECK(parse_timestamp("2024-02-29") == parse_timestamp("2024-02-28") + kMsPerDay);
  CHECK(parse_timestamp("2000-02-29") == parse_timestamp("2000-03-01") - kMsPerDay);
  CHECK_THROWS_AS(parse_timestamp("2023-02-29"), InputError);
  CHECK_THROWS_AS(parse_timestamp("1900-02-29"), InputError);  // divisible by 100, not 400
  CHECK_THROWS_AS(parse_timestamp("2100-02-29"), InputError);
  CHECK(parse_timestamp("2024-12-31") - parse_timestamp("2024-01-01") == 365 * kMsPerDay);
  CHECK(parse_timestamp("2023-12-31") - parse_timestamp("2023-01-01") == 364 * kMsPerDay);
}

TEST_CASE("days_from_civil agrees with a day-by-day count over four centuries") {
  for (int y = 1890; y <= 2110; y += 1)
    for (int m = 1; m <= 12; ++m)
      for (int d : {1, 15, 28}) {
        std::int64_t days = 0;
        REQUIRE(days_from_civil(y, m, d, days));
        CHECK(days == reference_days(y, m, d));
      }
}

TEST_CASE("epoch numbers: the unit is told by magnitude") {
  CHECK(parse_timestamp("1709251200") == 1709251200000);         // seconds
  CHECK(parse_timestamp("1709251200.5") == 1709251200500);       // seconds with a fraction
  CHECK(parse_timestamp("1709251200000") == 1709251200000);      // milliseconds
  CHECK(parse_timestamp("1709251200000000") == 1709251200000);   // microseconds
  CHECK(parse_timestamp("1709251200000000000") == 1709251200000);// nanoseconds
  CHECK(parse_timestamp("99999999999") == 99999999999000);       // the largest seconds value
  CHECK(parse_timestamp("100000000000") == 100000000000);        // the smallest milliseconds value
  CHECK(parse_timestamp("0") == 0);
  CHECK(parse_timestamp("-86400") == -kMsPerDay);
  CHECK_THROWS_AS(parse_timestamp("1709251200000001"), InputError);  // sub-millisecond
  CHECK_THROWS_AS(parse_timestamp("1709251200.0001"), InputError);
  CHECK_THROWS_AS(parse_timestamp("1709251200000.5"), InputError);
}

TEST_CASE("bad timestamps are refused with the text in the message") {
  for (const char* bad : {"", "yesterday", "2024-13-01", "2024-00-10", "2024-01-32", "2024-01-01T24:00",
                          "2024-01-01T12:60", "2024-01-01T12:00:61", "2024-01-01T12:00Zjunk", "2024-1-1",
                          "2024-01-01T12:00+25:00", "12:00"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_timestamp(bad), InputError);
  }
  try {
    parse_timestamp("2024-13-01");
    FAIL("no throw");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("2024-13-01") != std::string::npos);
  }
}

TEST_CASE("ISO output prints Z, milliseconds only when present, and reads back") {
  CHECK(format_iso(0) == "1970-01-01T00:00:00Z");
  CHECK(format_iso(1709296245250) == "2024-03-01T12:30:45.250Z");
  CHECK(format_iso(-1) == "1969-12-31T23:59:59.999Z");
  for (TimestampMs t : {TimestampMs{0}, TimestampMs{951782400000}, TimestampMs{1709296245250}, TimestampMs{-123456789},
                        TimestampMs{4102444799999}})
    CHECK(parse_timestamp(format_iso(t)) == t);
}

TEST_CASE("floor_div rounds toward negative infinity") {
  CHECK(floor_div(7, 2) == 3);
  CHECK(floor_div(-7, 2) == -4);
  CHECK(floor_div(-8, 2) == -4);
  CHECK(floor_div(0, 5) == 0);
}
