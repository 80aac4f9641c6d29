#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/text_formats.hpp"
#include "data/candle_io.hpp"
#include "run/backtest.hpp"

using namespace onepath;

namespace {

const std::string kSource = ONEPATH_SOURCE_DIR;
const std::string kWork = (std::filesystem::temp_directory_path() / ("onepath-run-test-" + std::to_string(::getpid()))).string();

// Candles from closes: each opens at the previous close, with a 0.1 wick either side.
std::string write_series(const std::string& name, const std::vector<double>& closes, std::vector<std::pair<int, std::array<double, 3>>> custom = {}) {
  std::filesystem::create_directories(kWork);
  CandleSeries s;
  for (std::size_t i = 0; i < closes.size(); ++i) {
    double o = i ? closes[i - 1] : closes[0], c = closes[i];
    s.push_back({1709251200000 + static_cast<TimestampMs>(i) * 15 * kMsPerMinute, o, std::max(o, c) + 0.1, std::min(o, c) - 0.1, c, 1000});
  }
  for (const auto& [i, ohl] : custom) s.open[i] = ohl[0], s.high[i] = ohl[1], s.low[i] = ohl[2];
  std::string path = kWork + "/" + name + ".csv";
  std::ofstream(path) << to_csv(s);
  return path;
}

// A RUN.toml naming a signal config, with param overrides, over one file.
RunConfig config(const std::string& file, const std::string& signal, const std::string& params) {
  std::string toml = kWork + "/" + signal + ".toml";
  std::ofstream(toml) << "[data]\nfiles = { X = \"" << file << "\" }\n[strategy]\nsignal = \"" << kSource << "/scripts/signals/"
                      << signal << ".lua\"\nscripts_root = \"" << kSource << "/scripts\"\n[strategy.params]\n" << params
                      << "\n[execution]\ncosts = \"clean\"\n";
  return load_run_config(toml);
}

}  // namespace

TEST_CASE("ema_crossover from a signal config: in after the cross up, out after the cross down") {
  std::vector<double> closes(10, 100.0);
  for (int i = 1; i <= 10; ++i) closes.push_back(100.0 + i);
  for (int i = 1; i <= 15; ++i) closes.push_back(110.0 - i);
  std::string data = write_series("ema", closes);
  std::string toml = kWork + "/ema.toml";
  std::ofstream(toml) << "[data]\nfiles = { X = \"" << data << "\" }\n[strategy]\nsignal = \"" << kSource
                      << "/scripts/signals/ema_crossover_9_21.lua\"\nscripts_root = \"" << kSource
                      << "/scripts\"\n[strategy.params]\nfast = 2\nslow = 4\ntake_pct = 1.0\nstop_pct = 0.5\n[execution]\ncosts = \"clean\"\n";
  RunConfig c = load_run_config(toml);
  CHECK(c.session.strategy.ends_with("strategies/ema_crossover.lua"));
  BacktestResult r = run_backtest(c);
  REQUIRE(r.trades.size() == 1);
  const Trade& t = r.trades[0];
  CHECK(t.direction == 1);
  CHECK(t.entry_bar == 11);  // the cross up at bar 10, filled at the next open
  CHECK(t.entry_price == 101);
  CHECK(t.exit_bar == 22);   // the cross down at bar 21
  CHECK(t.exit_price == 108);
  CHECK(t.reason == ExitReason::signal);
}

TEST_CASE("rsi_mean_revert from its signal config: in when RSI drops below oversold, out when it climbs above the exit level") {
  std::vector<double> z = {100};
  for (int i = 1; i < 12; ++i) z.push_back(z.back() + (i % 2 ? 1 : -1));  // RSI(3) near 40..66
  for (int i = 0; i < 3; ++i) z.push_back(z.back() - 2);                  // 17.2 at bar 13
  for (int i = 0; i < 6; ++i) z.push_back(z.back() + 1.5);                // 57.4 at bar 16
  BacktestResult r = run_backtest(config(write_series("rsi", z), "rsi_mean_revert_14", "period = 3\noversold = 30\nexit_level = 50"));
  REQUIRE(r.trades.size() == 1);
  CHECK(r.trades[0].entry_bar == 14);
  CHECK(r.trades[0].entry_price == 97);
  CHECK(r.trades[0].exit_bar == 17);
  CHECK(r.trades[0].exit_price == 98);
  CHECK(r.trades[0].reason == ExitReason::signal);
}

TEST_CASE("atr_breakout from its signal config: in on a break of the previous channel high with expanding ATR, out below its middle") {
  std::vector<double> c = {100};
  for (int i = 1; i < 20; ++i) c.push_back(c.back() + (i % 2 ? 1 : -1));  // quiet: ATR about 1.2
  c.push_back(104);                                                          // bar 20: the breakout, TR 3.2
  for (int i = 1; i <= 5; ++i) c.push_back(104 + i);                        // bars 21..25
  c.push_back(103);                                                          // bar 26: below the middle
  c.push_back(103);
  BacktestResult r = run_backtest(config(write_series("atr", c), "atr_breakout_20",
                                         "channel = 5\natr_period = 3\natr_average = 3\nexpansion = 1.1\nstop_atr = 2"));
  REQUIRE(r.trades.size() == 1);
  CHECK(r.trades[0].entry_bar == 21);
  CHECK(r.trades[0].entry_price == 104);
  CHECK(r.trades[0].exit_bar == 27);
  CHECK(r.trades[0].exit_price == 103);
  CHECK(r.trades[0].reason == ExitReason::signal);
}

TEST_CASE("a signal config's params hold unless [strategy.params] overrides them, name by name") {
  std::string data = write_series("sig", std::vector<double>(30, 100.0));
  std::string toml = kWork + "/sig.toml";
  std::ofstream(toml) << "[data]\nfiles = { X = \"" << data << "\" }\n[strategy]\nsignal = \"" << kSource
                      << "/scripts/signals/ema_crossover_9_21.lua\"\nscripts_root = \"" << kSource << "/scripts\"\n";
  RunConfig c = load_run_config(toml);
  CHECK(std::get<double>(c.session.params.at("fast")) == 9);
  CHECK(std::get<double>(c.session.params.at("slow")) == 21);
  RunConfig d = load_run_config(toml, {"strategy.params.slow=30"});
  CHECK(std::get<double>(d.session.params.at("fast")) == 9);
  CHECK(std::get<double>(d.session.params.at("slow")) == 30);
}

TEST_CASE("a declared timeframe that is not the data's is an error naming both, and a gap is not a mismatch") {
  std::vector<double> closes;
  for (int i = 0; i < 40; ++i) closes.push_back(100 + i % 7);
  std::string data = write_series("tf15", closes, {});  // 15m candles
  auto toml_with = [&](const std::string& tf) {
    std::string toml = kWork + "/tf_" + tf + ".toml";
    std::ofstream(toml) << "[data]\ntimeframe = \"" << tf << "\"\nfiles = { X = \"" << data << "\" }\n[strategy]\nsignal = \"" << kSource
                        << "/scripts/signals/ema_crossover_9_21.lua\"\nscripts_root = \"" << kSource << "/scripts\"\n";
    return toml;
  };
  CHECK_THROWS_WITH_AS(run_backtest(load_run_config(toml_with("5m"))),
                       doctest::Contains("the data's timeframe is 15m (inferred from its timestamps), but"), InputError);
  CHECK_THROWS_WITH_AS(run_backtest(load_run_config(toml_with("5m"))), doctest::Contains("declares [data] timeframe = \"5m\""), InputError);
  CHECK(run_backtest(load_run_config(toml_with("15m"))).timeframe.name() == std::string_view("15m"));
  // A gap of three candles: still 15m.
  CandleSeries s = read_candles(data).series;
  CandleSeries gapped;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i < 10 || i > 12) gapped.push_back(s[i]);
  std::ofstream(data) << to_csv(gapped);
  CHECK(run_backtest(load_run_config(toml_with("15m"))).candles == gapped.size());
  std::filesystem::remove_all(kWork);
}

TEST_CASE("docs/config.md names every RUN.toml key the reader knows, and no other") {
  std::ifstream doc(kSource + "/docs/config.md");
  std::string line;
  std::set<std::string> documented;
  while (std::getline(doc, line))
    if (line.starts_with("| `")) documented.insert(line.substr(3, line.find('`', 3) - 3));
  std::set<std::string> known;
  for (const auto& k : run_config_keys()) known.insert(k);
  for (const auto& k : known) CHECK_MESSAGE(documented.count(k), "not in docs/config.md: " << k);
  for (const auto& k : documented) CHECK_MESSAGE(known.count(k), "docs/config.md names a key the reader does not know: " << k);
  CHECK(known.size() > 60);
}

TEST_CASE("every number a RUN.toml gives is finite and in its documented range, else an error naming the key, the value and the range") {
  const std::string base = "[data]\nsymbols = [\"BTC\"]\n[data.generate]\nbars = 100\n[strategy]\nscript = \"" + kSource +
                           "/scripts/strategies/ema_crossover.lua\"\nscripts_root = \"" + kSource + "/scripts\"\n";
  auto error_with = [&](const std::string& extra, const std::vector<std::string>& sets = {}) -> std::string {
    std::filesystem::create_directories(kWork);
    const std::string path = kWork + "/numbers.toml";
    std::ofstream(path) << base << extra;
    try {
      load_run_config(path, sets);
    } catch (const InputError& e) {
      return e.what();
    }
    return "no error";
  };
  // a timeout that overflowed std::chrono, a memory cap that wrapped when shifted into bytes
  CHECK(error_with("timeout_ms = 10000000000000\n").find("'strategy.timeout_ms' = 10000000000000: must be a whole number from 1 to 3600000") !=
        std::string::npos);
  CHECK(error_with("timeout_ms = inf\n").find("'strategy.timeout_ms' = inf") != std::string::npos);
  CHECK(error_with("memory_mb = 17592186044417\n").find("'strategy.memory_mb' = 17592186044417: must be a whole number from 1 to 65536") !=
        std::string::npos);
  CHECK(error_with("memory_mb = 1e308\n").find("'strategy.memory_mb'") != std::string::npos);
  // numbers that made a run "succeed" with NaN equity
  for (const char* key : {"slippage_bps", "taker_fee_bps", "maker_fee_bps"}) {
    CAPTURE(key);
    CHECK(error_with(std::string("[execution]\n") + key + " = nan\n").find(std::string("'execution.") + key + "' = nan: must be a number from 0 to 1000") !=
          std::string::npos);
    CHECK(error_with(std::string("[execution]\n") + key + " = 1e308\n").find(std::string("'execution.") + key + "'") != std::string::npos);
  }
  CHECK(error_with("[execution]\ninitial_cash = 1e308\n").find("'execution.initial_cash' = 1e+308: must be a number from 0.01 to 1000000000000") !=
        std::string::npos);
  // a correlation outside [-1, 1] is refused, not clamped; NaN names the key
  for (const char* corr : {"2", "-5", "nan"}) {
    CAPTURE(corr);
    CHECK(error_with("", {std::string("data.generate.corr=") + corr}).find("'data.generate.corr' =") != std::string::npos);
  }
  // symbols: none twice, none empty
  CHECK(error_with("", {"data.symbols=[\"BTC\", \"BTC\"]"}).find("'data.symbols' names 'BTC' twice") != std::string::npos);
  CHECK(error_with("", {"data.symbols=[\"BTC\", \"\"]"}).find("none of them empty") != std::string::npos);
  CHECK(error_with("", {"data.generate.bars=100000000"}).find("must be a whole number from 1 to 20000000") != std::string::npos);
  CHECK(error_with("", {"paper.port=70000"}).find("'paper.port' = 70000") != std::string::npos);
  CHECK(error_with("[execution]\ntaker_fee_bps = 7.5\n") == "no error");
}

TEST_CASE("a strategy or filter script that is not there is bad input, found when the config is read") {
  std::filesystem::create_directories(kWork);
  const std::string path = kWork + "/missing.toml";
  std::ofstream(path) << "[data]\nsymbols = [\"BTC\"]\n[data.generate]\nbars = 10\n[strategy]\nscript = \"nosuch.lua\"\n";
  CHECK_THROWS_WITH_AS(load_run_config(path), doctest::Contains("'strategy.script' = 'nosuch.lua': no such file"), InputError);
  std::ofstream(path) << "[data]\nsymbols = [\"BTC\"]\n[data.generate]\nbars = 10\n[strategy]\nscript = \"" << kSource
                      << "/scripts/strategies/ema_crossover.lua\"\n[[filters]]\nscript = \"nofilter.lua\"\n";
  CHECK_THROWS_WITH_AS(load_run_config(path), doctest::Contains("'filters[0].script' = 'nofilter.lua': no such file"), InputError);
}

TEST_CASE("outputs stay valid whatever a symbol is called: metrics.json is JSON, trades.csv is RFC 4180") {
  std::filesystem::create_directories(kWork);
  const std::string path = kWork + "/names.toml";
  std::ofstream(path) << "[data]\nsymbols = [\"B\\\"T,C\\u0000\\nx\"]\n[data.generate]\nbars = 2000\n[strategy]\nscript = \"" << kSource
                      << "/scripts/strategies/ema_crossover.lua\"\n[strategy.params]\nfast = 3\nslow = 8\n";
  const RunConfig c = load_run_config(path);
  const std::string name = std::string("B\"T,C") + '\0' + "\nx";
  REQUIRE(c.session.symbols[0] == name);
  const BacktestResult r = run_backtest(c);
  const auto metrics = nlohmann::json::parse(metrics_json(c, r));  // throws when not JSON
  CHECK(metrics["symbols"][0] == name);
  REQUIRE(!r.trades.empty());
  const std::string csv = trades_csv({{name, r.trades[0]}});
  CHECK(csv.find("\n\"B\"\"T,C") != std::string::npos);  // quoted, its quote doubled
  CHECK(json_quote(std::string("a\0b", 3)) == "\"a\\u0000b\"");
  CHECK(csv_field("plain") == "plain");
}

TEST_CASE("outputs are a set: whole (outputs.json, last, vouches for it) or absent, and a run without its files is not complete") {
  std::filesystem::create_directories(kWork);
  const std::string out = kWork + "/set_out", db = kWork + "/set.db";
  std::filesystem::remove_all(out);
  const std::string path = kWork + "/set.toml";
  std::ofstream(path) << "[data]\nsymbols = [\"BTC\"]\n[data.generate]\nbars = 500\n[strategy]\nscript = \"" << kSource
                      << "/scripts/strategies/ema_crossover.lua\"\n[output]\ndir = \"" << out << "\"\ndb = \"" << db << "\"\n";
  const RunConfig c = load_run_config(path);
  std::int64_t id = 0;
  run_recorded_backtest(c, "test", &id);
  REQUIRE(std::filesystem::exists(out + "/outputs.json"));
  std::ifstream manifest(out + "/outputs.json");
  const auto m = nlohmann::json::parse(manifest);
  std::ifstream metrics(out + "/metrics.json");
  CHECK(m["files"]["metrics.json"] == sha256_hex(std::string(std::istreambuf_iterator<char>(metrics), {})));
  // the third file cannot be written: none of the set is left, the run is failed, the error says why
  std::filesystem::remove(out + "/metrics.json");
  std::filesystem::create_directories(out + "/metrics.json/blocked");
  std::string error;
  try {
    run_recorded_backtest(c, "test", &id);
  } catch (const std::exception& e) {
    error = e.what();
  }
  CHECK(error.find(": its files could not be written to " + out + " (none were left)") != std::string::npos);
  for (const char* name : {"outputs.json", "trades.csv", "equity.csv"}) CHECK_FALSE(std::filesystem::exists(out + "/" + name));
  CHECK(Journal::open(db)->run(id)->status == "failed");
}

TEST_CASE("a strategy with no features (price action only) runs") {
  std::filesystem::create_directories(kWork);
  const std::string script = kWork + "/price_action.lua", path = kWork + "/price_action.toml";
  std::ofstream(script) << "local S = {}\nfunction S.on_bar(ctx, bar, f)\n  if ctx.position == 0 and bar.close > bar.open then ctx:buy{ size = 0.1 }\n"
                           "  elseif ctx.position > 0 and bar.close < bar.open then ctx:close() end\nend\nreturn S\n";
  std::ofstream(path) << "[data]\nsymbols = [\"BTC\"]\n[data.generate]\nbars = 300\n[strategy]\nscript = \"" << script << "\"\n";
  const BacktestResult r = run_backtest(load_run_config(path));
  CHECK(r.feature_columns.empty());
  CHECK(r.trades.size() > 10);
}

TEST_CASE("the final equity includes the end-of-data close-out and its fees: equity, cash and the trades' P&L agree") {
  // Buys and sells back once, then buys and still holds when the data ends.
  std::vector<double> closes;
  for (int i = 0; i < 120; ++i) closes.push_back(100.0 + 0.3 * i + (i % 7 == 0 ? -2 : 0));
  std::filesystem::create_directories(kWork);
  const std::string script = kWork + "/hold_to_end.lua", path = kWork + "/closeout.toml";
  std::ofstream(script) << "local S = {}\nlocal n = 0\nfunction S.on_bar(ctx, bar, f)\n  n = n + 1\n"
                           "  if n == 5 or n == 50 then ctx:buy{ size = 0.2 } elseif n == 30 then ctx:close() end\nend\nreturn S\n";
  std::ofstream(path) << "[data]\nfiles = { X = \"" << write_series("closeout", closes) << "\" }\n[strategy]\nscript = \"" << script
                      << "\"\n[execution]\ntaker_fee_bps = 10\nslippage_bps = 5\n";
  const BacktestResult r = run_backtest(load_run_config(path));
  REQUIRE(r.trades.size() == 2);
  CHECK(r.trades.back().reason == ExitReason::end_of_data);
  CHECK(r.trades.back().fees > 0);
  double pnl = 0;
  for (const Trade& t : r.trades) pnl += t.pnl;
  CHECK(r.metrics.final_equity == doctest::Approx(r.metrics.initial_equity + pnl).epsilon(1e-12));
  CHECK(r.equity.size() == closes.size());  // the last mark replaced, not added
  CHECK(r.equity.back().gross_exposure == 0);
  CHECK(r.equity.back().equity == r.equity.back().cash);
  CHECK(r.metrics.final_equity == r.equity.back().equity);
  CHECK(r.metrics.total_return == r.metrics.final_equity / r.metrics.initial_equity - 1.0);
}
