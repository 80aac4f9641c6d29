#include "run/backtest.hpp"
#include "data/fingerprint.hpp"

#include "run/feature_share.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <filesystem>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/number_format.hpp"
#include "core/sha256.hpp"
#include "core/text_formats.hpp"
#include "data/candle_io.hpp"
#include "data/validate.hpp"
#include "enrich/enricher.hpp"
#include "infer/model_feature.hpp"
#include "plugin/loader.hpp"
#include "run/market_merge.hpp"
#include "run/session.hpp"
#include "store/model_registry.hpp"

namespace onepath {

namespace {

// Candles in [start, end) of the config; an error when none are left.
void keep_range(const RunConfig& c, CandleSeries& s, const std::string& where) {
  if (!c.start && !c.end) return;
  const auto lo = c.start ? std::lower_bound(s.ts.begin(), s.ts.end(), *c.start) - s.ts.begin() : 0;
  const auto hi = c.end ? std::lower_bound(s.ts.begin(), s.ts.end(), *c.end) - s.ts.begin() : static_cast<std::ptrdiff_t>(s.size());
  if (lo >= hi)
    throw InputError(where + ": no candles in [data] start..end (" + (c.start ? format_iso(*c.start) : "-") + " to " +
                     (c.end ? format_iso(*c.end) : "-") + "); the data spans " + format_iso(s.ts.front()) + " to " + format_iso(s.ts.back()));
  for (auto* col : {&s.open, &s.high, &s.low, &s.close, &s.volume}) *col = std::vector<double>(col->begin() + lo, col->begin() + hi);
  s.ts = std::vector<TimestampMs>(s.ts.begin() + lo, s.ts.begin() + hi);
}

// One file, read and checked: the timeframe it must have, every validation error.
CandleFile read_checked(const RunConfig& c, const std::string& path) {
  CandleFile f = read_candles(path);
  if (f.series.empty()) throw InputError(f.path + ": no candles");
  // A declared timeframe must be the data's: metrics are annualised with it. Gaps leave
  // the smallest step, and so the inferred timeframe, as it is.
  if (c.timeframe && f.series.size() >= 2) {
    const Timeframe data = infer_timeframe(f.series);
    if (!(data == *c.timeframe))
      throw InputError(f.path + ": the data's timeframe is " + std::string(data.name()) + " (inferred from its timestamps), but " + c.path +
                       " declares [data] timeframe = \"" + std::string(c.timeframe->name()) + "\"; declare \"" + std::string(data.name()) +
                       "\", or resample the data ('onepath data resample')");
  }
  ValidateOptions vo;
  vo.timeframe = c.timeframe;
  ValidationReport report = validate(f.series, vo);
  for (const auto& x : report.findings)
    if (x.severity == Severity::error)
      throw InputError(f.path + ":" + std::to_string(f.lines[x.row]) + ": " + x.rule + ": " + x.message + " (" +
                       std::to_string(report.count(Severity::error)) + " errors; see 'onepath data check')");
  return f;
}

// A symbol's files (monthly dumps, say) joined in time order; overlapping files are refused.
CandleSeries read_symbol(const RunConfig& c, const std::vector<std::string>& paths) {
  std::vector<CandleFile> parts;
  for (const auto& p : paths) parts.push_back(read_checked(c, p));
  std::sort(parts.begin(), parts.end(), [](const CandleFile& a, const CandleFile& b) { return a.series.ts.front() < b.series.ts.front(); });
  CandleSeries out = std::move(parts[0].series);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const CandleSeries& next = parts[i].series;
    if (next.ts.front() <= out.ts.back())
      throw InputError(parts[i].path + ": starts at " + format_iso(next.ts.front()) + ", not after the end of " + parts[i - 1].path + " (" +
                       format_iso(out.ts.back()) + "); the files of one symbol may not overlap");
    out.reserve(out.size() + next.size());
    for (std::size_t k = 0; k < next.size(); ++k) out.push_back(next[k]);
  }
  return out;
}

}  // namespace

std::vector<CandleSeries> load_market(const RunConfig& c, Timeframe& tf) {
  std::vector<CandleSeries> market;
  if (c.generate) {
    market = generate_market(*c.generate);
    tf = c.generate->timeframe;
    for (auto& s : market) keep_range(c, s, c.path + ": the generated market");
    return market;
  }
  for (const auto& s : c.session.symbols) {
    const auto& paths = c.files.at(s);
    CandleSeries series = read_symbol(c, paths);
    keep_range(c, series, paths.front());
    const Timeframe data_tf = c.timeframe ? *c.timeframe : infer_timeframe(series);
    if (market.empty()) tf = data_tf;
    else if (!(data_tf == tf))
      throw InputError(paths.front() + ": timeframe " + std::string(data_tf.name()) + " differs from the other symbols' " + std::string(tf.name()));
    series.symbol = s;
    market.push_back(std::move(series));
  }
  return market;
}

RunInfo run_info(const RunConfig& c, std::string kind, std::string git_revision) {
  RunInfo info;
  info.kind = std::move(kind);
  info.config_path = std::filesystem::absolute(c.path).lexically_normal().string();  // verify finds it from anywhere
  info.config_text = c.text;
  info.config_sha256 = sha256_hex(c.text);
  info.git_revision = std::move(git_revision);
  for (const auto& s : c.session.symbols) info.symbols += (info.symbols.empty() ? "" : ",") + s;
  return info;
}

std::string files_digest(const RunConfig& c, const std::vector<std::string>& more) {
  namespace fs = std::filesystem;
  std::vector<std::string> paths = {c.path, c.session.strategy};
  if (!c.session.signal.empty()) paths.push_back(c.session.signal);
  for (const auto& f : c.session.filters)
    if (!f.script.empty()) paths.push_back(f.script);
  for (const auto& p : c.session.plugins) paths.push_back(p.path);
  for (const auto& [symbol, files] : c.files) paths.insert(paths.end(), files.begin(), files.end());
  paths.insert(paths.end(), more.begin(), more.end());
  std::string out;
  std::vector<std::string> seen;
  for (const auto& p : paths) {
    std::error_code ec;
    const std::string abs = fs::absolute(p, ec).lexically_normal().string();
    if (std::find(seen.begin(), seen.end(), abs) != seen.end()) continue;
    seen.push_back(abs);
    std::string sha;
    try {
      Sha256 h;
      const std::string bytes = read_file(abs);
      h.update(bytes.data(), bytes.size());
      sha = h.hex();
    } catch (const std::exception&) {
      sha = "(unreadable)";
    }
    out += sha + "  " + abs + "\n";
  }
  return out;
}

void use_model_registry(const std::string& address) {
  if (address.empty()) {
    set_model_source({});
    return;
  }
  set_model_source([address](const std::string& reference) {
    auto journal = Journal::open_existing(address);
    const ModelVersion v = ModelRegistry(*journal).get(reference);
    return RegisteredModel{v.name + "@" + std::to_string(v.version), v.model_json, v.manifest_json};
  });
}

BacktestResult run_backtest(const RunConfig& c, const BacktestProgress& progress) {
  use_model_registry(c.registry);
  Timeframe tf = c.timeframe.value_or(Timeframe::parse("15m"));
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<CandleSeries> market = load_market(c, tf);
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The journal's name for the data, hashed on the other core while the run goes.
  auto fingerprint = std::async(std::launch::async, [&market] { return market_fingerprint(market); });
  BacktestResult r = run_backtest_on(c.session, market, tf, progress);
  r.data_fingerprint = fingerprint.get();
  r.load_seconds = load_seconds;
  return r;
}

// The output folder can take the files: found before the run, not after it, and without
// making anything (a failed run leaves no folder behind).
void check_output_dir(const RunConfig& c) {
  if (c.output_dir.empty()) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path at = fs::absolute(c.output_dir, ec);
  while (!at.empty() && !fs::exists(at, ec) && at != at.parent_path()) at = at.parent_path();  // the nearest that exists
  const std::string where = c.path + ": [output] dir = \"" + c.output_dir + "\"";
  if (!fs::is_directory(at, ec)) throw InputError(where + " cannot be a folder: " + at.string() + " is a file");
  if (::access(at.c_str(), W_OK | X_OK) != 0) throw InputError(where + " cannot be written: " + at.string() + " is not writable");
}

BacktestResult run_recorded_backtest(const RunConfig& c, const std::string& git_revision, std::int64_t* run_id,
                                     const BacktestProgress& progress) {
  check_output_dir(c);
  using Clock = std::chrono::steady_clock;
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  if (c.journal.empty()) {
    BacktestResult r = run_backtest(c, progress);
    r.output_dir = resolve_output_dir(c.output_dir, 0);
    const auto t_files = Clock::now();
    write_backtest_outputs(c, r, r.output_dir);
    r.files_seconds = since(t_files);
    return r;
  }
  auto journal = Journal::open(c.journal);
  RunInfo info = run_info(c, "backtest", git_revision);
  info.files = files_digest(c);
  const std::int64_t id = journal->start_run(info);
  if (run_id) *run_id = id;
  // Events of this run share a correlation id: the run and the moment it started.
  const std::string correlation = "backtest-" + std::to_string(id) + "-" + info.config_sha256.substr(0, 8);
  journal->event(id, correlation, "backtest_start", "{\"config\":\"" + info.config_sha256 + "\"}");
  BacktestResult r;
  try {
    r = run_backtest(c, progress);
    // One order: the files first, whole or removed, then the journal's record; a run whose
    // files could not be written (a full disk) is failed, not complete, and leaves none.
    r.output_dir = resolve_output_dir(c.output_dir, id);
    const auto t_files = Clock::now();
    try {
      write_backtest_outputs(c, r, r.output_dir);
    } catch (const std::exception& e) {
      throw std::runtime_error("run " + std::to_string(id) + ": its files could not be written to " + r.output_dir +
                               " (none were left): " + e.what());
    }
    r.files_seconds = since(t_files);
    const auto t_journal = Clock::now();
    journal->complete_run(id, r.symbols, r.trades, r.equity, r.decision_log.records(),
                          {r.feature_set_version, r.data_fingerprint, metrics_json(c, r), files_digest(c, r.script_files), r.feature_columns}, c.equity_every);
    journal->event(id, correlation, "backtest_complete",
                   "{\"candles\":" + std::to_string(r.candles) + ",\"seconds\":" + format_double(r.seconds) +
                       ",\"bars_per_second\":" + format_double(static_cast<double>(r.candles) / r.seconds) +
                       ",\"trades\":" + std::to_string(r.trades.size()) + ",\"decisions\":" + std::to_string(r.decisions) + "}");
    r.journal_seconds = since(t_journal);
  } catch (const Interrupted&) {
    journal->end_run(id, "interrupted", {"", "", ""});
    journal->event(id, correlation, "backtest_interrupted", "{}");
    throw;
  } catch (const InputError&) {
    // Bad data or config: the run never started. It is not journaled (the user fixes the
    // input and runs again); the error goes to the user.
    journal->delete_run(id);
    if (run_id) *run_id = 0;
    throw;
  } catch (const std::exception& e) {
    remove_backtest_outputs(r.output_dir);  // a failed run has no output set
    journal->fail_run(id, e.what());
    journal->event(id, correlation, "backtest_failed", "{}");
    throw;
  }
  return r;
}

namespace {

// A backtest keeps everything the Session hands over: it reports on the whole run.
struct Collector : SessionSink {
  BacktestResult& r;
  explicit Collector(BacktestResult& result) : r(result) {}
  void on_decision(const DecisionView& d) override { r.decision_log.add(d); }
  void on_trade(const Trade& t) override { r.trades.push_back(t); }
  void on_mark(const EquityPoint& m) override { r.equity.push_back(m); }
  void on_final_mark(const EquityPoint& m) override { r.equity.back() = m; }
};

}  // namespace

BacktestResult run_backtest_on(const SessionConfig& c, const std::vector<CandleSeries>& market, Timeframe tf,
                               const BacktestProgress& progress, FeatureShare* share) {
  const auto t0 = std::chrono::steady_clock::now();
  BacktestResult res;
  res.symbols = c.symbols;
  res.timeframe = tf;
  Collector collector(res);
  Session session(c, tf, collector);
  res.feature_set_version = session.feature_set_version();
  res.feature_columns = session.feature_columns();
  res.script_files = session.script_files();

  for (const auto& s : market)  // said before the run (docs/warmup.md)
    if (s.size() < session.warmup_bars())
      log::warn("data_shorter_than_warmup",
                {{"symbol", s.symbol}, {"candles", s.size()}, {"first_values", session.first_value_bars()}, {"warmup_bars", session.warmup_bars()},
                 {"settled_by", session.warmup_feature()},
                 {"what", s.size() < session.first_value_bars() ? "some features never get a value on this data"
                                                               : "the features never settle on this data: every value still depends on where it starts, so a "
                                                                 "longer history (or a paper session, which bootstraps on warmup_bars candles) gives other values"}});
  for (const FeatureSpec& f : session.feature_set().features)  // a model scored on what it learned flatters every metric
    if (f.indicator.kind == "model")
      if (const std::string why = in_sample(resolve_model(f), market); !why.empty())
        log::warn("model_in_sample", {{"feature", f.name}, {"why", why}, {"what", "its scores on this data are in sample: the metrics flatter it"}});
  // Shared features: a symbol's rows by (feature set, symbol, its candles' span and count).
  std::vector<std::string> share_keys(share ? market.size() : 0);
  std::vector<std::shared_ptr<FeatureRows>> recorded(share_keys.size());
  for (std::size_t s = 0; s < share_keys.size(); ++s) {
    if (market[s].empty()) continue;
    share_keys[s] = res.feature_set_version + "|" + market[s].symbol + "|" + std::to_string(market[s].ts.front()) + "|" +
                    std::to_string(market[s].ts.back()) + "|" + std::to_string(market[s].size());
    if (auto rows = share->find(share_keys[s])) {
      session.replay_features(static_cast<int>(s), std::move(rows));
    } else {
      recorded[s] = std::make_shared<FeatureRows>();
      recorded[s]->values.reserve(market[s].size() * session.feature_columns().size());
      session.record_features(static_cast<int>(s), recorded[s].get());
    }
  }
  MarketMerge merge(market);
  const std::size_t total = merge.total();
  res.candles = total;
  res.equity.reserve(market.empty() ? 0 : market[0].size());
  const std::size_t report_every = std::max<std::size_t>(total / 100, 10'000);
  std::size_t reported = 0;
  TimeSlice slice;
  session.start();
  if (progress) progress(0, total);
  while (merge.next(slice)) {
    session.open(slice);
    for (const auto& [symbol, candle] : slice.candles) session.on_candle(symbol, candle);
    session.close(slice.ts);
    run_plugin_work();  // what plugins posted back, between time slices
    check_interrupted();
    if (progress && session.candles() - reported >= report_every) progress(reported = session.candles(), total);
  }
  session.finish();
  for (std::size_t s = 0; s < recorded.size(); ++s)
    if (recorded[s] && recorded[s]->rows() == market[s].size()) share->keep(share_keys[s], std::move(recorded[s]));
  for (std::size_t s = 0; s < market.size(); ++s)
    for (const auto& feature : session.never_ready(static_cast<int>(s)))
      log::warn("feature_never_ready", {{"symbol", market[s].symbol}, {"feature", feature}, {"candles", market[s].size()}});
  if (progress) progress(total, total);

  res.decisions = session.decisions();
  res.placed = session.placed();
  res.metrics = compute_metrics(c.execution.initial_cash, res.equity, res.trades, tf);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

BacktestBench bench_backtest(const RunConfig& config, std::size_t candles, int runs) {
  using Clock = std::chrono::steady_clock;
  auto secs = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  const SessionConfig& c = config.session;
  const Timeframe tf = Timeframe::parse("15m");
  SynthOptions g = config.generate.value_or(SynthOptions{});
  g.symbols.clear();
  for (const auto& s : c.symbols) g.symbols.push_back(preset_symbol(s, 0.8));
  g.timeframe = tf;
  g.bars = std::max<std::size_t>(candles / c.symbols.size(), 1);
  g.with_defects = false;
  std::vector<CandleSeries> market = generate_market(g);
  BacktestBench b;
  b.candles = g.bars * c.symbols.size();
  const double n = static_cast<double>(b.candles);

  auto t = Clock::now();
  std::vector<double> warm;  // the median of the runs after the first (the machine is shared)
  for (int r = 0; r <= std::max(runs, 1); ++r) {
    t = Clock::now();
    run_backtest_on(c, market, tf);
    (r == 0 ? b.cold_ns : warm.emplace_back()) = secs(t) * 1e9 / n;
  }
  std::sort(warm.begin(), warm.end());
  b.total_ns = warm[warm.size() / 2];

  // The same candles through the kernel alone, and through the enrichment alone.
  LuaStrategy probe(c.strategy, c.scripts_root, c.symbols, c.params, c.limits);
  ExecutionEngine engine(c.execution, c.risk, c.symbols);
  t = Clock::now();
  for (std::size_t i = 0; i < g.bars; ++i) {
    for (std::size_t s = 0; s < market.size(); ++s) engine.on_bar(static_cast<int>(s), market[s][i]);
    engine.mark(market[0].ts[i]);
  }
  b.kernel_ns = secs(t) * 1e9 / n;
  std::vector<std::unique_ptr<Enricher>> enrichers;
  for (std::size_t s = 0; s < market.size(); ++s) enrichers.push_back(std::make_unique<Enricher>(probe.features(), tf));
  std::vector<double> row(enrichers[0]->columns().size());
  t = Clock::now();
  for (std::size_t i = 0; i < g.bars; ++i)
    for (std::size_t s = 0; s < market.size(); ++s) {
      enrichers[s]->update(market[s][i]);
      enrichers[s]->emit(row.data());
    }
  b.enrich_ns = secs(t) * 1e9 / n;
  b.lua_ns = std::max(0.0, b.total_ns - b.kernel_ns - b.enrich_ns);
  b.bars_per_second = 1e9 / b.total_ns;
  return b;
}

namespace {
std::string json_number(double v) { return std::isfinite(v) ? format_double(v) : "null"; }
}  // namespace

std::string metrics_json(const RunConfig& config, const BacktestResult& r) {
  const Metrics& m = r.metrics;
  const SessionConfig& c = config.session;
  std::string s = "{\n";
  auto field = [&](const char* k, const std::string& v, bool last = false) { s += "  \"" + std::string(k) + "\": " + v + (last ? "\n" : ",\n"); };
  std::string syms = "[";
  for (std::size_t i = 0; i < r.symbols.size(); ++i) syms += (i ? ", " : "") + json_quote(r.symbols[i]);
  syms += "]";
  field("strategy", json_quote(c.strategy));
  field("symbols", syms);
  field("timeframe", json_quote(std::string(r.timeframe.name())));
  field("feature_set_version", json_quote(r.feature_set_version));
  field("fill_mode", json_quote(c.execution.fill_mode == FillMode::next_open ? "next_open" : "close (for comparison: fills at the decision's close)"));
  field("costs", json_quote(c.execution.costs == CostMode::realistic ? "realistic" : "clean"));
  field("candles", std::to_string(r.candles));
  field("initial_equity", json_number(m.initial_equity));
  field("final_equity", json_number(m.final_equity));
  field("total_return", json_number(m.total_return));
  field("cagr", json_number(m.cagr));
  field("volatility", json_number(m.volatility));
  field("sharpe", json_number(m.sharpe));
  field("sortino", json_number(m.sortino));
  field("max_drawdown", json_number(m.max_drawdown));
  field("max_drawdown_bars", std::to_string(m.max_drawdown_bars));
  field("calmar", json_number(m.calmar));
  field("trades", std::to_string(m.trades));
  field("win_rate", json_number(m.win_rate));
  field("profit_factor", json_number(m.profit_factor));
  field("avg_win", json_number(m.avg_win));
  field("avg_loss", json_number(m.avg_loss));
  field("exposure", json_number(m.exposure));
  field("turnover", json_number(m.turnover));
  field("fees", json_number(m.fees));
  field("decisions", std::to_string(r.decisions));
  field("orders_placed", std::to_string(r.placed), true);
  return s + "}\n";
}

std::string resolve_output_dir(const std::string& dir, std::int64_t run_id) {
  const std::size_t at = dir.find("{run}");
  if (at == std::string::npos) return dir;
  std::string id;
  if (run_id) id = std::to_string(run_id);
  else  // 2026-12-02T11:30:05.123Z -> 20261202T113005.123Z
    for (char ch : format_iso(now_ms()))
      if (ch != '-' && ch != ':') id += ch;
  return dir.substr(0, at) + id + dir.substr(at + 5);
}

void remove_backtest_outputs(const std::string& output_dir) {
  if (output_dir.empty()) return;
  std::error_code ignored;
  for (const char* name : {"outputs.json", "trades.csv", "equity.csv", "metrics.json"}) std::filesystem::remove(std::filesystem::path(output_dir) / name, ignored);
  std::filesystem::remove(output_dir, ignored);  // only when empty: a folder the user keeps other files in stays
}

void write_backtest_outputs(const RunConfig& c, const BacktestResult& r, const std::string& output_dir) {
  if (output_dir.empty()) return;
  namespace fs = std::filesystem;
  fs::create_directories(output_dir);
  std::vector<TradeRecord> named;
  for (const auto& t : r.trades) named.push_back({r.symbols[static_cast<std::size_t>(t.symbol)], t});
  std::string trades = trades_csv(named);
  std::string equity = "ts,equity,cash,gross_exposure\n";
  for (const auto& p : r.equity) {
    equity += format_iso(p.ts);
    for (double v : {p.equity, p.cash, p.gross_exposure}) equity += ",", append_double(equity, v);
    equity += "\n";
  }
  // A set, whole or absent: the manifest goes first and comes back last, naming each file's
  // SHA-256 (docs/journal.md); when any file cannot be written, none of the set is left.
  const fs::path dir(output_dir);
  const std::string metrics = metrics_json(c, r);
  try {
    fs::remove(dir / "outputs.json");
    write_file_atomic((dir / "trades.csv").string(), trades);
    write_file_atomic((dir / "equity.csv").string(), equity);
    write_file_atomic((dir / "metrics.json").string(), metrics);
    write_file_atomic((dir / "outputs.json").string(), "{\n  \"config_sha256\": " + json_quote(sha256_hex(c.text)) + ",\n  \"data_fingerprint\": " +
                                                          json_quote(r.data_fingerprint) + ",\n  \"files\": {\n    \"trades.csv\": " +
                                                          json_quote(sha256_hex(trades)) + ",\n    \"equity.csv\": " + json_quote(sha256_hex(equity)) +
                                                          ",\n    \"metrics.json\": " + json_quote(sha256_hex(metrics)) + "\n  }\n}\n");
  } catch (...) {
    remove_backtest_outputs(output_dir);
    throw;
  }
}

}  // namespace onepath
