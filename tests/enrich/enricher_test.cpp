#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>

#include "../indicators/reference.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/resample.hpp"
#include "data/synth.hpp"
#include "enrich/enricher.hpp"
#include "enrich/shadow.hpp"
#include "lua/feature_file.hpp"

using namespace onepath;

namespace {

using P = std::map<std::string, std::variant<double, std::string>>;

FeatureSpec feature(std::string name, std::string kind, P params = {}, std::string input = "", const char* tf = nullptr) {
  FeatureSpec f;
  f.name = std::move(name);
  f.indicator = {std::move(kind), std::move(params)};
  f.input = std::move(input);
  if (tf) f.timeframe = Timeframe::parse(tf);
  return f;
}

// A pool that covers every kind, higher timeframes and features of features.
std::vector<FeatureSpec> pool() {
  return {
      feature("sma20", "sma", {{"period", 20.0}}), feature("ema12", "ema", {{"period", 12.0}}),
      feature("emaf", "ema", {{"period", 5.0}, {"seed", "first"}, {"input", "hl2"}}), feature("wma9", "wma", {{"period", 9.0}}),
      feature("rsi14", "rsi"), feature("tr", "trange"), feature("atr14", "atr"), feature("natr14", "natr"), feature("adx", "adx"),
      feature("macd", "macd"), feature("bb", "bbands"), feature("sd", "stddev"), feature("stoch", "stoch"),
      feature("willr", "willr"), feature("cci", "cci"), feature("obv", "obv"), feature("mfi", "mfi"),
      feature("ret", "returns", {{"period", 3.0}}), feature("lret", "log_returns"), feature("z", "zscore"),
      feature("lo", "min", {{"period", 10.0}}), feature("hi", "max", {{"period", 10.0}}),
      feature("q90", "quantile", {{"period", 30.0}, {"q", 0.9}}), feature("pr", "percentile_rank", {{"period", 30.0}}),
      feature("dc", "donchian"), feature("pk", "parkinson"), feature("gk", "garman_klass"), feature("rv", "realized_vol"),
      feature("vr", "volume_ratio"), feature("corr", "correlation"), feature("beta", "beta"),
      feature("cus", "cusum", {{"threshold", 0.02}}), feature("cal", "calendar"),
      feature("atr_1h", "atr", {{"period", 14.0}}, "", "1h"), feature("rsi_4h", "rsi", {{"period", 6.0}}, "", "4h"),
      feature("z_atr_1h", "zscore", {{"period", 50.0}}, "atr_1h"), feature("ema_rsi", "ema", {{"period", 5.0}}, "rsi14"),
      feature("sma_1h_of_1h", "sma", {{"period", 3.0}}, "atr_1h", "1h"), feature("corr_f", "correlation", {{"period", 20.0}}, "rsi14"),
  };
}

FeatureSet random_set(Rng& r) {
  auto all = pool();
  FeatureSet s;
  s.origin = "test";
  // Features of features need their inputs: keep the pool's order, take a random subset.
  std::set<std::string> chosen;
  for (const auto& f : all) {
    bool needs = !f.input.empty();
    if (needs && !chosen.count(f.input)) continue;
    if (r.chance(0.5) || needs) {
      s.features.push_back(f);
      chosen.insert(f.name);
    }
  }
  if (s.features.empty()) s.features.push_back(all[0]);
  return s;
}

FeatureSet full_set() {
  FeatureSet s;
  s.origin = "test";
  s.features = pool();
  return s;
}

CandleSeries candles(std::uint64_t seed, std::size_t bars = 3000, Scenario sc = Scenario::stress) {
  SynthOptions o;
  o.symbols = {preset_symbol("BTC", 1)};
  o.bars = bars;
  o.seed = seed;
  o.scenario = sc;
  o.start_ms = 1709251200000 + static_cast<TimestampMs>(seed % 7) * 15 * kMsPerMinute;
  return generate_market(o)[0];  // with gaps of 1, 5 and 50 and zero-volume candles
}

const Timeframe k15m = Timeframe::parse("15m");

FeatureColumns stream(Enricher& e, const CandleSeries& s, std::size_t from = 0) {
  FeatureColumns cols(e.columns().size(), std::vector<double>(s.size(), kNaN));
  std::vector<double> row(e.columns().size());
  for (std::size_t i = from; i < s.size(); ++i) {
    e.update(s[i]);
    e.emit(row.data());
    for (std::size_t k = 0; k < row.size(); ++k) cols[k][i] = row[k];
  }
  return cols;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void require_same(const FeatureColumns& a, const FeatureColumns& b, std::size_t from, const std::vector<std::string>& names) {
  for (std::size_t k = 0; k < a.size(); ++k)
    for (std::size_t i = from; i < a[k].size(); ++i) {
      if (same_bits(a[k][i], b[k][i])) continue;
      FAIL("column ", names[k], " row ", i, ": ", a[k][i], " vs ", b[k][i]);
    }
}

CandleSeries slice(const CandleSeries& s, std::size_t from, std::size_t to) {
  CandleSeries out;
  for (std::size_t i = from; i < to; ++i) out.push_back(s[i]);
  return out;
}

}  // namespace

TEST_CASE("batch equals streaming bit for bit: random feature sets, candles with gaps, random bootstrap splits") {
  Rng r(31);
  for (int trial = 0; trial < 12; ++trial) {
    FeatureSet set = random_set(r);
    CandleSeries s = candles(100 + trial, 2000 + r.below(1500));
    CAPTURE(trial);
    Enricher batch(set, k15m), streaming(set, k15m), threaded(set, k15m), booted(set, k15m);
    FeatureColumns b = batch.enrich_batch(s);
    require_same(b, stream(streaming, s), 0, batch.columns());
    require_same(b, threaded.enrich_batch(s, 4), 0, batch.columns());
    std::size_t split = 1 + r.below(s.size() - 1);
    booted.bootstrap(slice(s, 0, split), true);
    require_same(b, stream(booted, s, split), split, batch.columns());
    CHECK(batch.save_snapshot("X") == streaming.save_snapshot("X"));  // a batch run leaves the streaming state
  }
}

TEST_CASE("batch continued from a streamed or restored state gives the rows streaming gives: random sets, gaps, higher timeframes") {
  Rng r(36);
  for (int trial = 0; trial < 10; ++trial) {
    const FeatureSet set = trial == 0 ? full_set() : random_set(r);
    const CandleSeries s = candles(300 + trial, 1500 + r.below(1000));
    CAPTURE(trial);
    Enricher whole(set, k15m);
    const FeatureColumns expected = stream(whole, s);
    // Split anywhere (inside a higher bar too), then continue in batch in two pieces.
    const std::size_t a = 1 + r.below(s.size() - 2), b = a + 1 + r.below(s.size() - a - 1);
    Enricher live(set, k15m);
    stream(live, slice(s, 0, a));
    Enricher restored(set, k15m);
    restored.load_snapshot(live.save_snapshot("BTC"), "BTC");
    FeatureColumns got(expected.size(), std::vector<double>(s.size(), kNaN)), piece;
    for (Enricher* e : {&live, &restored}) {
      e->continue_batch(slice(s, a, b), piece);
      for (std::size_t k = 0; k < got.size(); ++k) std::copy(piece[k].begin(), piece[k].end(), got[k].begin() + static_cast<std::ptrdiff_t>(a));
      e->continue_batch(slice(s, b, s.size()), piece);
      for (std::size_t k = 0; k < got.size(); ++k) std::copy(piece[k].begin(), piece[k].end(), got[k].begin() + static_cast<std::ptrdiff_t>(b));
      require_same(expected, got, a, whole.columns());
      CHECK(e->save_snapshot("BTC") == whole.save_snapshot("BTC"));  // and it leaves the streaming state
    }
    // A candle not after the state's last is refused, changing nothing.
    const std::string before = live.save_snapshot("BTC");
    CHECK_THROWS_AS(live.continue_batch(slice(s, s.size() - 1, s.size()), piece), InputError);
    CHECK(live.save_snapshot("BTC") == before);
  }
}

TEST_CASE("shadow window: every N candles the last W are recomputed in batch, and a streamed value that differs is named at its bar") {
  const FeatureSet set = full_set();
  const CandleSeries s = candles(52, 1200);
  Enricher live(set, k15m);
  live.bootstrap(slice(s, 0, 100), true);
  ShadowWindow shadow(100, 30);
  std::vector<double> row(live.columns().size());
  std::size_t divergences = 0;
  for (std::size_t i = 100; i < s.size(); ++i) {
    shadow.before(live, "BTC");
    live.update(s[i]);
    live.emit(row.data());
    divergences += shadow.after(live, s[i], row.data()).has_value();
  }
  CHECK(divergences == 0);
  const std::size_t streamed = s.size() - 100;  // windows: the 71st to 100th candle, the 171st to 200th, ...
  CHECK(shadow.checks() == streamed / 100);
  CHECK(shadow.rows() == streamed / 100 * 30);
  CHECK(streamed / 100 >= 5);
  // A streamed row that is not what the batch path computes: reported at its bar and column.
  ShadowWindow again(10, 5);
  Enricher other(set, k15m);
  other.bootstrap(slice(s, 0, 100), true);
  std::optional<ShadowDivergence> found;
  std::size_t changed = 0;
  for (std::size_t i = 100; i < 120 && !found; ++i) {
    again.before(other, "BTC");
    other.update(s[i]);
    other.emit(row.data());
    if (i == 107) {  // a value changed between the stream and the strategy
      while (std::isnan(row[changed])) ++changed;
      row[changed] = std::nextafter(row[changed], INFINITY);
    }
    found = again.after(other, s[i], row.data());
  }
  REQUIRE(found);
  CHECK(found->column == other.columns()[changed]);
  CHECK(found->ts == s.ts[107]);
  CHECK_THROWS_AS(ShadowWindow(5, 10), std::invalid_argument);
}

TEST_CASE("skipping emit on any subset of candles changes no later value") {
  Rng r(32);
  FeatureSet set = full_set();
  CandleSeries s = candles(7, 2500);
  Enricher all(set, k15m), some(set, k15m);
  FeatureColumns expected = stream(all, s);
  std::vector<double> row(some.columns().size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    some.update(s[i]);
    if (!r.chance(0.2)) continue;  // the CUSUM gate's effect: emit skipped on most candles
    some.emit(row.data());
    for (std::size_t k = 0; k < row.size(); ++k) REQUIRE(same_bits(row[k], expected[k][i]));
  }
}

TEST_CASE("no lookahead: changing every candle after T changes no row at or before T") {
  FeatureSet set = full_set();
  CandleSeries s = candles(8, 2500);
  Enricher e(set, k15m);
  FeatureColumns base = e.enrich_batch(s);
  Rng r(33);
  for (int trial = 0; trial < 5; ++trial) {
    std::size_t t = 100 + r.below(s.size() - 200);
    CandleSeries changed = s;
    for (std::size_t i = t + 1; i < s.size(); ++i) {
      double f = 0.5 + r.uniform();
      changed.open[i] *= f, changed.high[i] *= f * 1.01, changed.low[i] *= f * 0.99, changed.close[i] *= f;
      changed.volume[i] *= r.uniform() * 3;
    }
    Enricher other(set, k15m);
    FeatureColumns moved = other.enrich_batch(changed);
    for (std::size_t k = 0; k < base.size(); ++k)
      for (std::size_t i = 0; i <= t; ++i) REQUIRE(same_bits(base[k][i], moved[k][i]));
  }
}

TEST_CASE("every base column agrees with the indicator library's reference loops") {
  FeatureSet set = full_set();
  CandleSeries s = candles(9, 2500);
  Enricher e(set, k15m);
  FeatureColumns cols = e.enrich_batch(s);
  std::size_t col = 0;
  for (const auto& f : set.features) {
    auto outputs = make_indicator(f.indicator)->outputs().size();
    if (!f.timeframe && f.input.empty()) {
      CAPTURE(f.name);
      auto want = reference::compute(f.indicator, s);
      for (std::size_t k = 0; k < outputs; ++k)
        for (std::size_t i = 0; i < s.size(); ++i) {
          double a = cols[col + k][i], b = want[k][i];
          bool ok = (std::isnan(a) && std::isnan(b)) || std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
          if (!ok) FAIL(f.name, " row ", i, ": ", a, " vs reference ", b);
        }
    }
    col += outputs;
  }
}

TEST_CASE("a higher-timeframe feature shows the last closed bar's value on every base row") {
  CandleSeries s = candles(10, 3000);
  FeatureSet set;
  set.features = {feature("atr_1h", "atr", {{"period", 14.0}}, "", "1h")};
  Enricher e(set, k15m);
  FeatureColumns cols = e.enrich_batch(s);
  // Independently: bars from resample(), each visible from the row whose candle closed it.
  Timeframe h = Timeframe::parse("1h");
  CandleSeries bars = resample(s, k15m, h);
  auto atr = reference::compute({"atr", {{"period", 14.0}}}, bars)[0];
  std::size_t b = 0;
  double shown = kNaN;
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Bar b closes at its last quarter, or at the first candle of a later hour.
    while (b < bars.size() && (h.floor(s.ts[i]) > bars.ts[b] || s.ts[i] + k15m.duration_ms() == bars.ts[b] + h.duration_ms())) {
      shown = atr[b];
      ++b;
    }
    double got = cols[0][i];
    REQUIRE(((std::isnan(got) && std::isnan(shown)) || std::fabs(got - shown) <= 1e-9 * std::max(1.0, std::fabs(shown))));
  }
}

TEST_CASE("warm-up: started at several points, the rows after WARMUP_BARS agree within 1e-9") {
  FeatureSet set = full_set();
  std::erase_if(set.features, [](const FeatureSpec& f) { return f.indicator.kind == "obv" || f.indicator.kind == "cusum"; });
  Enricher probe(set, k15m);
  const std::size_t w = probe.warmup_bars();
  CHECK(w > 500);  // the Wilder and higher-timeframe features dominate
  CandleSeries s = candles(11, 3 * w + 800, Scenario::volatile_market);
  Enricher from_start(set, k15m);
  FeatureColumns full = from_start.enrich_batch(s);
  for (std::size_t start : {std::size_t{1}, w / 3, 2 * w / 3, w + 100}) {
    CAPTURE(start);
    Enricher late(set, k15m);
    FeatureColumns part = late.enrich_batch(slice(s, start, s.size()));
    for (std::size_t k = 0; k < full.size(); ++k)
      for (std::size_t i = start + w; i < s.size(); ++i) {
        double a = part[k][i - start], b = full[k][i];
        bool ok = (std::isnan(a) && std::isnan(b)) || std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
        if (!ok) FAIL(from_start.columns()[k], " row ", i, ": started at ", start, " gives ", a, ", from the start ", b);
      }
  }
}

TEST_CASE("bootstrap: too little history is an error unless partial warm-up is allowed, none is always one") {
  FeatureSet set;
  set.features = {feature("ema12", "ema", {{"period", 12.0}})};
  Enricher e(set, k15m);
  CandleSeries s = candles(12, 400);
  REQUIRE(e.warmup_bars() > 100);
  try {
    e.bootstrap(slice(s, 0, 50));
    FAIL("no error");
  } catch (const InputError& x) {
    CHECK(std::string(x.what()).starts_with("enrichment_bootstrap_insufficient_history"));
  }
  CHECK_NOTHROW(e.bootstrap(slice(s, 0, 50), true));
  CHECK_THROWS_AS(e.bootstrap(CandleSeries{}), InputError);
  CHECK_THROWS_AS(e.bootstrap(CandleSeries{}, true), InputError);
  CHECK_NOTHROW(e.bootstrap(s));
}

TEST_CASE("late, repeated and non-finite candles are rejected and change nothing") {
  Enricher e(full_set(), k15m);
  CandleSeries s = candles(13, 500);
  for (std::size_t i = 0; i < 300; ++i) e.update(s[i]);
  std::string before = e.save_snapshot("X");
  CHECK_THROWS_AS(e.update(s[299]), InputError);   // repeated
  CHECK_THROWS_AS(e.update(s[100]), InputError);   // late
  Candle bad = s[300];
  bad.close = NAN;
  CHECK_THROWS_AS(e.update(bad), InputError);
  bad = s[300];
  bad.low = 0;
  CHECK_THROWS_AS(e.update(bad), InputError);
  CHECK(e.save_snapshot("X") == before);
  CHECK_NOTHROW(e.update(s[300]));
}

TEST_CASE("twins (natr beside atr, stddev beside bbands, stoch, willr and donchian) stream one state and save their own") {
  // Only equal states are shared: another period or input is a separate state.
  FeatureSet set;
  set.origin = "test";
  set.features = {feature("atr14", "atr"), feature("natr14", "natr"), feature("natr10", "natr", {{"period", 10.0}}),
                  feature("bb", "bbands"), feature("sd", "stddev"), feature("sd_hl2", "stddev", {{"input", "hl2"}}),
                  feature("bb_k1", "bbands", {{"k", 1.0}}), feature("sd10", "stddev", {{"period", 10.0}}),
                  feature("willr", "willr"), feature("stoch", "stoch"), feature("dc14", "donchian", {{"period", 14.0}}),
                  feature("dc", "donchian"), feature("willr20", "willr", {{"period", 20.0}})};
  const CandleSeries s = candles(41, 1500);
  Enricher batch(set, k15m), streaming(set, k15m);
  const FeatureColumns b = batch.enrich_batch(s);
  require_same(b, stream(streaming, s), 0, batch.columns());
  CHECK(batch.save_snapshot("X") == streaming.save_snapshot("X"));
  // A restored session streams on from the saved twins as the unbroken one does.
  Enricher half(set, k15m), restored(set, k15m);
  stream(half, slice(s, 0, 700));
  restored.load_snapshot(half.save_snapshot("X"), "X");
  require_same(b, stream(restored, s, 700), 700, batch.columns());
}

TEST_CASE("snapshots: restore and continue is bit-identical, damaged or foreign snapshots are refused") {
  Rng r(34);
  FeatureSet set = full_set();
  CandleSeries s = candles(14, 2500);
  Enricher whole(set, k15m);
  FeatureColumns expected = stream(whole, s);
  std::size_t at = 200 + r.below(2000);
  Enricher first(set, k15m);
  for (std::size_t i = 0; i < at; ++i) first.update(s[i]);
  std::string snap = first.save_snapshot("BTC");
  Enricher restored(set, k15m);
  restored.load_snapshot(snap, "BTC");
  CHECK(restored.last_ts() == s.ts[at - 1]);
  require_same(expected, stream(restored, s, at), at, restored.columns());

  Enricher fresh(set, k15m);
  std::string empty = fresh.save_snapshot("BTC");
  std::string damaged = snap;
  damaged[damaged.size() / 2] ^= 1;
  CHECK_THROWS_WITH_AS(fresh.load_snapshot(damaged, "BTC"), doctest::Contains("checksum"), InputError);
  CHECK_THROWS_WITH_AS(fresh.load_snapshot(snap, "ETH"), doctest::Contains("belongs to"), InputError);
  FeatureSet other = set;
  other.features.pop_back();
  Enricher different(other, k15m);
  CHECK_THROWS_AS(different.load_snapshot(snap, "BTC"), InputError);
  CHECK_THROWS_AS(fresh.load_snapshot(snap.substr(0, 10), "BTC"), InputError);
  CHECK(fresh.save_snapshot("BTC") == empty);
}

TEST_CASE("kill switch: paused, state is frozen and emit repeats the last row") {
  FeatureSet set = full_set();
  CandleSeries s = candles(15, 600);
  Enricher e(set, k15m);
  for (std::size_t i = 0; i < 400; ++i) e.update(s[i]);
  std::vector<double> last = e.emit();
  std::string state = e.save_snapshot("X");
  e.pause(true);
  for (std::size_t i = 400; i < 450; ++i) e.update(s[i]);
  std::vector<double> repeated = e.emit();
  CHECK(std::memcmp(last.data(), repeated.data(), last.size() * sizeof(double)) == 0);
  CHECK(e.save_snapshot("X") == state);
  e.pause(false);
  e.update(s[450]);
  CHECK(e.last_ts() == s.ts[450]);

  ::setenv("ONEPATH_ENRICHMENT_PAUSE", "1", 1);
  Enricher from_env(set, k15m);
  ::unsetenv("ONEPATH_ENRICHMENT_PAUSE");
  CHECK(from_env.paused());
}

TEST_CASE("row hashes: 16 hex digits, stable for equal rows, NaN payloads canonical") {
  double a[] = {1.5, NAN, -3.25};
  double b[] = {1.5, -NAN, -3.25};
  double c[] = {1.5, NAN, -3.2500000000000004};
  CHECK(row_hash(a, 3).size() == 16);
  CHECK(row_hash(a, 3) == row_hash(b, 3));
  CHECK(row_hash(a, 3) != row_hash(c, 3));
}

TEST_CASE("feature-set errors name the file and the entry") {
  auto error_of = [](const char* code) {
    try {
      Enricher e(parse_feature_source(code, "f.lua"), k15m);
    } catch (const InputError& x) {
      return std::string(x.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("return {{name='a', kind='smma', period=3}}").starts_with("f.lua: entry 1 ('a'): unknown indicator kind 'smma'"));
  CHECK(error_of("return {{name='a', kind='ema'}}").find("'period' is required") != std::string::npos);
  CHECK(error_of("return {{name='a', kind='ema', period=3, input='b'}}").find("input 'b' is not a feature column") != std::string::npos);
  CHECK(error_of("return {{name='a', kind='ema', period=3, input='b'}, {name='b', kind='ema', period=3, input='a'}}")
            .find("cycle") != std::string::npos);
  CHECK(error_of("return {{name='a', kind='atr', period=3, input='a'}}").find("reads whole candles") != std::string::npos);
  CHECK(error_of("return {{name='a', kind='atr', timeframe='7m'}}").find("unknown timeframe") != std::string::npos);
  CHECK(error_of("return {{name='a', kind='ema', period=3}, {name='a', kind='sma', period=3}}").find("twice") != std::string::npos);
  CHECK(error_of("return {{name='x', kind='ema', period=3}, {name='y', kind='ema', period=3, input='x', timeframe='1h'}}")
            .find("another timeframe") != std::string::npos);
  CHECK(error_of("return {{kind='ema', period=3}}").find("entry 1: needs a name") != std::string::npos);
  CHECK(error_of("return {").starts_with("f.lua:1:"));
  CHECK(error_of("local x = nil\nreturn {{name = x.y}}").starts_with("f.lua:2:"));
}

TEST_CASE("feature files run in a sandbox: data only, bounded time and memory") {
  for (const char* code : {"io.write('x') return {}", "os.execute('true') return {}", "require('ffi') return {}",
                           "loadstring('return 1')() return {}", "dofile('/etc/passwd') return {}"}) {
    CAPTURE(code);
    CHECK_THROWS_AS(parse_feature_source(code, "f.lua"), InputError);
  }
  CHECK_THROWS_WITH_AS(parse_feature_source("while true do end", "f.lua"), doctest::Contains("ran too long"), InputError);
  CHECK_THROWS_WITH_AS(parse_feature_source("local t = {} for i = 1, 1e9 do t[i] = i end", "f.lua"),
                       doctest::Contains("not enough memory"), InputError);
  FeatureSet ok = parse_feature_source("local p = {}\nfor _, n in ipairs({9, 21}) do p[#p+1] = {name = 'ema' .. n, kind = 'ema', period = n} end\nreturn p", "f.lua");
  CHECK(ok.features.size() == 2);
  CHECK(ok.features[1].name == "ema21");
}

TEST_CASE("feature_set_version: the same features give the same version whatever the layout") {
  auto v = [](const char* code) { return feature_set_version(parse_feature_source(code, "f.lua")); };
  std::string a = v("return {{name='e', kind='ema', period=12}, {name='r', kind='rsi'}}");
  CHECK(a.size() == 16);
  CHECK(a == v("-- a comment\nreturn {\n  { period = 12, kind = 'ema', name = 'e' },\n  { kind = 'rsi', name = 'r' },\n}"));
  CHECK(a != v("return {{name='e', kind='ema', period=13}, {name='r', kind='rsi'}}"));
  CHECK(a != v("return {{name='r', kind='rsi'}, {name='e', kind='ema', period=12}}"));  // the order is the column order
}

TEST_CASE("a feature list with a hole is an error naming the missing entry, not a list one shorter") {
  CHECK_THROWS_WITH_AS(parse_feature_source("return { [1] = { name = 'a', kind = 'sma', period = 3 }, [3] = { name = 'b', kind = 'ema', period = 3 } }", "f.lua"),
                       doctest::Contains("f.lua: entry 2: missing: the list has a hole there"), InputError);
  CHECK_THROWS_WITH_AS(parse_feature_source("return { { name = 'a', kind = 'sma', period = 3 }, extra = { name = 'b', kind = 'ema' } }", "f.lua"),
                       doctest::Contains("the feature list has 'extra'"), InputError);
  CHECK(parse_feature_source("return { { name = 'a', kind = 'sma', period = 3 }, { name = 'b', kind = 'ema', period = 3 } }", "f.lua").features.size() == 2);
}

TEST_CASE("a reload carries the running state of every feature computed alike, and only the new ones warm up on the history") {
  const FeatureSet before = parse_feature_source(R"(return {
    { name = "ema200", kind = "ema", period = 200 },
    { name = "rsi", kind = "rsi", period = 14 },
    { name = "z", kind = "zscore", period = 20, input = "rsi" },
  })", "before.lua");
  const FeatureSet after = parse_feature_source(R"(return {
    { name = "ema200", kind = "ema", period = 200 },
    { name = "rsi", kind = "rsi", period = 14 },
    { name = "z", kind = "zscore", period = 30, input = "rsi" },
    { name = "ret", kind = "returns", period = 4 },
  })", "after.lua");
  const CandleSeries s = candles(21, 3000);
  const Timeframe tf = Timeframe::parse("15m");
  Enricher running(before, tf), reloaded(after, tf), fresh(after, tf);
  const std::size_t n = s.size(), cut = n * 2 / 3;  // the generator leaves gaps: fewer than 3000
  for (std::size_t i = 0; i < cut; ++i) running.update(s[i]);
  // z changed and ret is new: they need their own settling only, not ema200's thousands.
  CHECK(reloaded.warmup_bars_beyond(running) < 60);
  CHECK(reloaded.warmup_bars() > 1000);
  reloaded.bootstrap(slice(s, cut - 100, cut), true);  // the session's recent candles
  reloaded.carry_state(running);
  fresh.enrich_batch(slice(s, 0, cut));
  std::vector<double> a(3), b(4), c(4);
  for (std::size_t i = cut; i < n; ++i) {
    running.update(s[i]), reloaded.update(s[i]), fresh.update(s[i]);
    running.emit(a.data()), reloaded.emit(b.data()), fresh.emit(c.data());
    REQUIRE(std::memcmp(&a[0], &b[0], sizeof(double)) == 0);  // ema200: its running state, not a 100-candle bootstrap
    REQUIRE(std::memcmp(&a[1], &b[1], sizeof(double)) == 0);
    if (i >= cut + 40) {  // z and ret, once settled, as a history from the start gives them
      CHECK(b[2] == doctest::Approx(c[2]).epsilon(1e-9));
      CHECK(b[3] == c[3]);
    }
  }
  CHECK(reloaded.warmup_bars_beyond(reloaded) == 0);
}
