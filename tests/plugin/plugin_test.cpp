// The plugin loader: bad plugins refused with clear errors and nothing registered; a good
// one loaded once; a native filter, a native feed and a service used by real sessions.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "data/candle_io.hpp"
#include "data/synth.hpp"
#include "exec/filter.hpp"
#include "plugin/loader.hpp"
#include "run/backtest.hpp"
#include "run/paper.hpp"
#include "onepath/plugin.h"

#include "error_of.hpp"

using namespace onepath;

namespace {

namespace fs = std::filesystem;
const std::string kSource = ONEPATH_SOURCE_DIR, kPlugins = ONEPATH_PLUGINS, kTest = ONEPATH_TEST_PLUGINS;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("onepath-plugin-test-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

std::vector<CandleSeries> market(std::size_t bars, std::uint64_t seed) {
  SynthOptions o;
  o.symbols = {preset_symbol("BTC", 1), preset_symbol("ETH", 0.8)};
  o.bars = bars;
  o.seed = seed;
  o.start_ms = 1709251200000;
  o.scenario = Scenario::stress;
  o.with_defects = true;
  return generate_market(o);
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("bad plugins are refused with a clear error naming the file, and nothing of them is registered") {
  const auto kinds_before = indicator_kinds().size();
  const auto plugins_before = loaded_plugins().size();
  struct Bad {
    std::string file, message;
  };
  TempDir dir;
  std::ofstream(dir / "text.so") << "not a shared object\n";
  const std::string minor = std::to_string(ONEPATH_ABI_MINOR);
  const std::vector<Bad> bad = {
      {dir / "text.so", "not a loadable plugin"},
      {dir / "missing.so", "no such plugin file"},
      {kTest + "/test_no_entry.so", "not an onepath plugin (it exports no onepath_plugin_manifest())"},
      {kTest + "/test_wrong_major.so", "another ABI major version: the plugin is built for ABI 2." + minor + ", this onepath has ABI 1." + minor},
      {kTest + "/test_newer_minor.so",
       "a newer ABI than this onepath's: the plugin is built for ABI 1." + std::to_string(ONEPATH_ABI_MINOR + 1) + ", this onepath has ABI 1." + minor},
      {kTest + "/test_init_fails.so", "the plugin's init failed: the licence file is missing"},
      {kTest + "/test_small_struct.so", "indicator kind #1 has struct_size 8, smaller than any version of this ABI"},
      {kTest + "/test_clash.so", "indicator kind 'ema' is already defined (built-in)"},
      {kTest + "/test_null_update.so", "indicator kind 'test_null_update' has no 'update' function (NULL)"},
      {kTest + "/test_tolerance_unsaid.so", "indicator kind 'test_tolerance_unsaid' declares a tolerance without saying why"},
      {kTest + "/test_tolerance_huge.so", "indicator kind 'test_tolerance_huge' declares a tolerance of 0.500000: it must be 0 (exact) or a relative"},
  };
  for (const auto& b : bad) {
    CAPTURE(b.file);
    CHECK_THROWS_WITH_AS(load_plugin(b.file), doctest::Contains(b.message.c_str()), InputError);
    const std::string file = fs::path(b.file).filename().string();
    CHECK_THROWS_WITH_AS(load_plugin(b.file), doctest::Contains(file.c_str()), InputError);
  }
  CHECK(indicator_kinds().size() == kinds_before);
  CHECK(loaded_plugins().size() == plugins_before);
  CHECK_THROWS_WITH_AS(make_indicator({"test_constant", {}}), doctest::Contains("unknown indicator kind 'test_constant'"), InputError);

  // The good variant of the same source loads, once, and its kind works like a built-in one.
  const PluginInfo& good = load_plugin(kTest + "/test_good.so");
  CHECK(good.name == "test_good");
  CHECK(good.abi_major == 1);
  CHECK(good.indicators == std::vector<std::string>{"test_constant"});
  CHECK(&load_plugin(kTest + "/test_good.so") == &good);
  auto ind = make_indicator({"test_constant", {}});
  double v = 0;
  ind->update({0, 1, 1, 1, 1, 1});
  ind->emit(&v);
  CHECK(v == 1);
  CHECK(indicator_kinds().back().origin == good.path);
}

TEST_CASE("the vol_regime filter (a C++ plugin) drops entries exactly where a plain loop says the regime is out of band") {
  load_plugin(kPlugins + "/regime.so");
  auto m = market(1500, 3);
  FilterArgs args;
  args.params = {{"short", 10.0}, {"long", 60.0}, {"max_ratio", 1.3}, {"min_ratio", 0.5}};
  args.symbols = {"BTC", "ETH"};
  auto f = make_filter("vol_regime", args);
  CHECK(f->wants_bars());
  auto sd = [](const std::vector<double>& r, std::size_t end, std::size_t n) {
    double mean = 0, ss = 0;
    for (std::size_t i = end - n; i < end; ++i) mean += r[i];
    mean /= static_cast<double>(n);
    for (std::size_t i = end - n; i < end; ++i) ss += (r[i] - mean) * (r[i] - mean);
    return std::sqrt(ss / static_cast<double>(n));
  };
  std::vector<double> returns;
  std::size_t dropped = 0, passed = 0;
  for (std::size_t i = 0; i < m[0].size(); ++i) {
    f->on_bar(0, m[0][i]);
    if (i > 0) returns.push_back(std::log(m[0].close[i] / m[0].close[i - 1]));
    Intent in;
    FilterContext ctx{0, static_cast<std::int64_t>(i), m[0].ts[i], 0, false, m[0].close[i]};
    const std::string why = f->apply(in, ctx);
    bool want_drop = false;
    if (returns.size() >= 60) {
      const double ratio = sd(returns, returns.size(), 10) / sd(returns, returns.size(), 60);
      want_drop = ratio > 1.3 || ratio < 0.5;
    }
    REQUIRE(why.empty() == !want_drop);
    if (!why.empty()) CHECK(why.starts_with("vol_regime: volatility ratio"));
    (why.empty() ? passed : dropped) += 1;
  }
  CHECK(dropped > 20);
  CHECK(passed > 20);
  // Its state goes with the chain: saved, restored, it answers the same.
  auto g = make_filter("vol_regime", args);
  g->load(f->save());
  Intent in;
  FilterContext ctx{0, 0, 0, 0, false, 0};
  CHECK(g->apply(in, ctx) == f->apply(in, ctx));
  CHECK_THROWS_WITH_AS(make_filter("vol_regime", {0, {{"shortt", 5.0}}, {"X"}}), doctest::Contains("unknown parameter 'shortt'"), InputError);
}

TEST_CASE("a paper session on the csv_tail feed (a plugin) trades exactly as the backtest on the same files") {
  load_plugin(kPlugins + "/csv_tail.so");
  TempDir dir;
  auto m = market(2500, 8);
  fs::create_directories(dir.path / "live");
  for (const auto& s : m) std::ofstream(dir / ("live/" + s.symbol + ".csv")) << to_csv(s);
  const std::string toml = dir / "RUN.toml";
  std::ofstream(toml) << "[[plugins]]\npath = \"" << kPlugins << "/csv_tail.so\"\n"
                      << "[data]\nsymbols = [\"BTC\", \"ETH\"]\ndir = \"" << (dir / "live") << "\"\n[strategy]\nscript = \"" << kSource
                      << "/scripts/strategies/ema_crossover.lua\"\nscripts_root = \"" << kSource
                      << "/scripts\"\n[strategy.params]\nfast = 4\nslow = 11\n[output]\ndb = \"" << (dir / "j.db")
                      << "\"\n[paper]\nfeed = \"csv_tail\"\nfeed_params = { dir = \"" << (dir / "live")
                      << "\", max_wait_ms = 0, end_after_idle_ms = 200 }\nport = -1\ndir = \"" << (dir / "paper") << "\"\n";
  RunConfig c = load_run_config(toml);
  BacktestResult b = run_backtest(c);
  REQUIRE(b.trades.size() > 20);
  PaperOutcome p = run_paper(c, PaperOptions{});
  CHECK(p.complete);
  CHECK(p.candles == b.candles);
  auto trades = Journal::open(c.journal)->trades(p.run_id);
  REQUIRE(trades.size() == b.trades.size());
  for (std::size_t i = 0; i < trades.size(); ++i) {
    CHECK(same_bits(trades[i].trade.pnl, b.trades[i].pnl));
    CHECK(trades[i].trade.exit_ts == b.trades[i].exit_ts);
  }
  c.paper.feed_params = {{"dir", (dir / "live")}, {"speed", 2.0}};
  CHECK_THROWS_WITH_AS(run_paper(c, PaperOptions{}), doctest::Contains("unknown parameter 'speed'"), InputError);
}

TEST_CASE("a service plugin runs with the session: Lua strategies call it, it counts, posts work back and journals events") {
  load_plugin(kTest + "/test_service.so");
  TempDir dir;
  std::ofstream(dir / "uses_service.lua")
      << "local S = { params = {} }\n"
         "S.features = { { name = 'e', kind = 'ema', period = 3 } }\n"
         "function S.on_start(ctx) ctx.state.echo = service('tests', 'echo', 'ping ' .. ctx.symbol) end\n"
         "function S.on_bar(ctx, bar, f)\n"
         "  if ctx.state.echo ~= 'ping ' .. ctx.symbol then error('bad echo: ' .. tostring(ctx.state.echo)) end\n"
         "  local ran = tonumber(service('tests', 'posted'))  -- work posted back so far, run between slices\n"
         "  if bar.index >= 10 and ran < 10 then error('posted work did not run: ' .. ran) end\n"
         "  if bar.index == 5 then\n"
         "    local ok, err = pcall(service, 'tests', 'nope')\n"
         "    if ok or not err:find(\"service 'tests' has no function 'nope' %(it has: echo, count, posted%)\") then error('no error: ' .. tostring(err)) end\n"
         "    ok, err = pcall(service, 'nobody', 'echo')\n"
         "    if ok or not err:find(\"no service 'nobody' %(running: tests%)\") then error('no error: ' .. tostring(err)) end\n"
         "  end\n"
         "end\n"
         "return S\n";
  SessionConfig c;
  c.symbols = {"BTC", "ETH"};
  c.strategy = dir / "uses_service.lua";
  c.scripts_root = dir.path.string();
  auto m = market(300, 4);
  const double calls_before = plugin_counters()["test_service_calls"];
  BacktestResult r = run_backtest_on(c, m, Timeframe::parse("15m"));
  CHECK(r.candles == m[0].size() + m[1].size());
  // echo twice (on_start), posted once per candle, two bad calls refused before reaching it
  CHECK(plugin_counters()["test_service_calls"] - calls_before == static_cast<double>(2 + r.candles));
  CHECK_THROWS_WITH(call_service("tests", "echo", "x"), doctest::Contains("no session with services is running"));
}

TEST_CASE("an indicator's update: REFUSED is the candle's fault (bad input), ERROR the plugin's (named with its file and message)") {
  const PluginInfo& p = load_plugin(kTest + "/test_update_fails.so");
  auto ind = make_indicator({"test_failing", {}});
  ind->update({0, 1, 1, 1, 1, 1});
  const std::string failed = error_of([&] { ind->update({1709251200000, 12, 14, 12, 13, 1}); });
  CHECK(failed == "plugin " + p.path + ": indicator kind 'test_failing' failed at the candle of 2024-03-01T00:00:00Z: the lookup table is exhausted");
  CHECK_THROWS_AS(ind->update({1709251200000, 12, 14, 12, 13, 1}), std::runtime_error);
  bool input_error = false;
  try {
    ind->update({1709251200000, 12, 14, 12, 13, 1});
  } catch (const InputError&) {
    input_error = true;
  } catch (const std::exception&) {
  }
  CHECK_FALSE(input_error);  // the plugin's failure is not the user's data
  const std::string refused = error_of([&] { ind->update({1709251200000, 1, 1, 0, 0, 1}); });
  CHECK(refused.find("test_failing (plugin " + p.path + ") refused the candle of 2024-03-01T00:00:00Z (open 1, high 1, low 0, close 0, volume 1)") == 0);
  CHECK_THROWS_AS(ind->update({1709251200000, 1, 1, 0, 0, 1}), InputError);
}

TEST_CASE("a plugin built against ABI 1.0 (a kind struct without last_error) still loads and runs") {
  load_plugin(kTest + "/test_old_minor.so");
  auto ind = make_indicator({"test_old_minor", {}});
  double v = 0;
  ind->update({0, 1, 1, 1, 1, 1});
  ind->emit(&v);
  CHECK(v == 1);
}
