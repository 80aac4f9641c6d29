#pragma once
// Time inside onepath is int64 milliseconds since the Unix epoch, UTC. Text forms are
// parsed and printed only at the edges.
#include <cstdint>
#include <string>
#include <string_view>

namespace onepath {

using TimestampMs = std::int64_t;

constexpr TimestampMs kMsPerSecond = 1000;
constexpr TimestampMs kMsPerMinute = 60 * kMsPerSecond;
constexpr TimestampMs kMsPerHour = 60 * kMsPerMinute;
constexpr TimestampMs kMsPerDay = 24 * kMsPerHour;

// Parses a timestamp. Accepted forms (see docs/time.md):
//  - ISO-8601: "2024-03-01", "2024-03-01T12:30", "2024-03-01 12:30:00.250",
//    with "Z", "+02:00", "+0200" or "-05" (converted to UTC); no zone means UTC.
//  - An epoch number, its unit told by magnitude: |n| < 1e11 seconds (fractions allowed
//    down to the millisecond), < 1e14 milliseconds, < 1e17 microseconds, else
//    nanoseconds. Sub-millisecond precision that is not zero is refused.
// Throws InputError with a message naming the text and what is wrong.
TimestampMs parse_timestamp(std::string_view text);

// "2024-03-01T12:30:00Z", or "...:00.250Z" when the milliseconds are not zero.
std::string format_iso(TimestampMs ms);
// The last time an ISO-8601 timestamp (four-digit year) can say: 9999-12-31T23:59:59.999Z.
constexpr TimestampMs kLastIsoMs = 253402300799999;
// The wall clock, UTC.
TimestampMs now_ms();

// Days since 1970-01-01 for a proleptic Gregorian date; false when the date is invalid.
bool days_from_civil(int year, int month, int day, std::int64_t& days_out);

// Floor division for negative timestamps too: floor_div(-1, 1000) == -1.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace onepath
