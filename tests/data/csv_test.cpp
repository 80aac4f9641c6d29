#include <doctest/doctest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <random>

#include "core/error.hpp"
#include "data/candle_io.hpp"

using namespace onepath;

namespace {
std::string error_of(auto&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST_CASE("CSV headers: any case, any order, aliases, extra columns ignored") {
  const char* texts[] = {
      "ts,open,high,low,close,volume\n2024-03-01T00:00:00Z,10,12,9,11,100\n",
      "Volume,Close,Low,High,Open,Timestamp,Trades\n100,11,9,12,10,1709251200000,7\n",
      "open_time,o,h,l,c,v\r\n1709251200,10,12,9,11,100\r\n",
      "\xEF\xBB\xBF\"Date\",\"Open\",\"High\",\"Low\",\"Close\",\"Vol\"\n\"2024-03-01 00:00:00\",10,12,9,11,100\n",
      "1709251200000,10,12,9,11,100,1709252099999,1100.5,7,50,550,0\n",  // headerless exchange dump
  };
  for (const char* text : texts) {
    CAPTURE(text);
    CandleFile f = parse_csv(text, "t.csv");
    REQUIRE(f.series.size() == 1);
    CHECK(f.series[0] == Candle{1709251200000, 10, 12, 9, 11, 100});
  }
}

TEST_CASE("CSV keeps the file line of every row, past blank lines and comments") {
  CandleFile f = parse_csv("# exported\nts,open,high,low,close,volume\n\n1,1,1,1,1,1\n2,1,1,1,1,1\n", "t.csv");
  REQUIRE(f.lines.size() == 2);
  CHECK(f.lines[0] == 4);
  CHECK(f.lines[1] == 5);
}

TEST_CASE("CSV errors name file, line, column and value") {
  CHECK(error_of([] { parse_csv("ts,open,high,low,close,volume\n1,1,1,1,1,1\n2,1,abc,1,1,1\n", "m.csv"); }) ==
        "m.csv:3: column 'high': value 'abc': not a number");
  CHECK(error_of([] { parse_csv("ts,open,high,low,close,volume\nnoon,1,1,1,1,1\n", "m.csv"); })
            .starts_with("m.csv:2: column 'ts': value 'noon'"));
  CHECK(error_of([] { parse_csv("ts,open,high,low,close\n1,1,1,1,1\n", "m.csv"); }).find("no column for 'volume'") !=
        std::string::npos);
  CHECK(error_of([] { parse_csv("ts,open,high,low,close,volume\n1,1,1,1\n", "m.csv"); }) ==
        "m.csv:2: expected at least 6 fields, found 4");
  CHECK(error_of([] { parse_csv("ts,time,open,high,low,close,volume\n", "m.csv"); }).find("two columns mean 'ts'") !=
        std::string::npos);
  // a number is one sign at most, then digits: '+-5' is not -5
  CHECK(error_of([] { parse_csv("ts,open,high,low,close,volume\n1,+-5,1,1,1,1\n", "m.csv"); }) == "m.csv:2: column 'open': value '+-5': not a number");
  CHECK(error_of([] { parse_csv("ts,open,high,low,close,volume\n1,++5,1,1,1,1\n", "m.csv"); }) == "m.csv:2: column 'open': value '++5': not a number");
  CHECK(parse_csv("ts,open,high,low,close,volume\n1,+5,1,1,1,1\n", "m.csv").series.open[0] == 5);
}

TEST_CASE("CSV reads empty numbers as NaN and NaN/inf as themselves, for validation to judge") {
  CandleFile f = parse_csv("ts,open,high,low,close,volume\n1,1,,1,nan,inf\n", "t.csv");
  CHECK(std::isnan(f.series.high[0]));
  CHECK(std::isnan(f.series.close[0]));
  CHECK(std::isinf(f.series.volume[0]));
}

TEST_CASE("CSV round trip: what is written reads back to the same doubles") {
  CandleSeries s;
  s.push_back({1709251200000, 0.1, 0.30000000000000004, 1e-9, 62345.67, 123456789.125});
  s.push_back({1709252100000, 1.0 / 3.0, 2.0 / 3.0, 0.002, 0.0021, 0});
  for (TsFormat f : {TsFormat::iso, TsFormat::epoch_ms}) {
    CandleFile back = parse_csv(to_csv(s, f), "t.csv");
    REQUIRE(back.series.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) CHECK(back.series[i] == s[i]);
  }
  CHECK(to_csv(s).starts_with("ts,open,high,low,close,volume\n2024-03-01T00:00:00Z,0.1,0.30000000000000004,"));
}

TEST_CASE("JSON exchange form: numbers or quoted strings, extra elements ignored") {
  CandleFile f = parse_json(
      "[\n [1709251200000, 10, 12, 9, 11, 100],\n"
      " [1709252100000, \"11\", \"13.5\", \"10\", \"12\", \"50.25\", 1709252999999, \"600\", 12]\n]",
      "k.json");
  REQUIRE(f.series.size() == 2);
  CHECK(f.series[0] == Candle{1709251200000, 10, 12, 9, 11, 100});
  CHECK(f.series[1] == Candle{1709252100000, 11, 13.5, 10, 12, 50.25});
  CHECK(f.lines[0] == 2);
  CHECK(f.lines[1] == 3);
  CHECK(parse_json("[]", "k.json").series.empty());
}

TEST_CASE("JSON errors name file, line and value") {
  CHECK(error_of([] { parse_json("[\n[1,2,3,4,5,6],\n[1,2,\"x\",4,5,6]\n]", "k.json"); }) ==
        "k.json:3: column 'high': value 'x': not a number");
  CHECK(error_of([] { parse_json("[[1,2,3]]", "k.json"); }).find("needs 6 elements") != std::string::npos);
  CHECK(error_of([] { parse_json("[[1,2,3,4,5,6]", "k.json"); }).find("expected ']'") != std::string::npos);
  CHECK(error_of([] { parse_json("{\"a\":1}", "k.json"); }).find("expected '['") != std::string::npos);
}

TEST_CASE("symbol names come from the file name") {
  CHECK(symbol_from_path("market/BTC.csv") == "BTC");
  CHECK(symbol_from_path("ETH.json") == "ETH");
}

TEST_CASE("a file separated by semicolons or tabs says so: only commas are read") {
  CHECK_THROWS_WITH_AS(parse_csv("ts;open;high;low;close;volume\n2024-01-01T00:00:00Z;1;1;1;1;1\n", "semi.csv"),
                       doctest::Contains("semi.csv:1: the columns are separated by ';'; only commas are read"), InputError);
  CHECK_THROWS_WITH_AS(parse_csv("ts\topen\thigh\tlow\tclose\tvolume\n", "tabs.csv"),
                       doctest::Contains("tabs.csv:1: the columns are separated by tabs"), InputError);
}

TEST_CASE("CSV numbers: the short-decimal fast path gives from_chars' bits, and the rest still goes to it") {
  // Random decimals of 1 to 17 digits with the point anywhere (or none), signs, leading
  // zeros and exponents: every one read through a CSV equals std::from_chars of its text.
  std::mt19937_64 rng(15);
  std::vector<std::string> texts = {"0", "-0", "0.0", "-0.000", "5.", ".5", "-.25", "000123.4500", "999999999999999", "9999999999999999",
                                    "0.000000000000001", "123456789012345.6", "1e5", "2.5E-3", "1.7976931348623157e308", "4.9e-324"};
  for (int k = 0; k < 20000; ++k) {
    std::string t = rng() % 4 == 0 ? "-" : "";
    const int digits = 1 + static_cast<int>(rng() % 17), point = static_cast<int>(rng() % (digits + 2)) - 1;
    for (int d = 0; d < digits; ++d) {
      if (d == point) t += '.';
      t += static_cast<char>('0' + rng() % 10);
    }
    if (rng() % 10 == 0) t += "e" + std::to_string(static_cast<int>(rng() % 40) - 20);
    texts.push_back(t);
  }
  std::string csv = "ts,open,high,low,close,volume\n";
  for (std::size_t i = 0; i < texts.size(); ++i) csv += std::to_string(i + 1) + "," + texts[i] + ",1,1,1,1\n";
  const CandleFile f = parse_csv(csv, "t.csv");
  REQUIRE(f.series.size() == texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string& t = texts[i];
    double want = 0;
    REQUIRE(std::from_chars(t.data(), t.data() + t.size(), want).ec == std::errc());
    if (std::memcmp(&want, &f.series.open[i], sizeof want) != 0) FAIL("'" << t << "' read as " << f.series.open[i] << ", from_chars gives " << want);
  }
}
