// onepath bench csv: user-facing measurements on generated data.
#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>

#include <filesystem>

#include "cli/bench_reference.hpp"
#include "cli/commands.hpp"
#include "core/atomic_file.hpp"
#include "core/cycle_clock.hpp"
#include "core/error.hpp"
#include "data/candle_io.hpp"
#include "data/synth.hpp"
#include "enrich/enricher.hpp"
#include "exec/kernel.hpp"
#include "indicators/registry.hpp"
#include "lua/feature_file.hpp"
#include "plugin/loader.hpp"
#include "run/backtest.hpp"
#include "run/paper.hpp"
#include "store/journal.hpp"

#include <thread>

namespace onepath::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
// Benchmarks report the median of their warm repeats (the machine is shared), and say how many.
double median(std::vector<double> v) { return percentile(v, 50); }

void add_bench_csv(CLI::App& bench, Action& action) {
  struct Opts {
    std::size_t rows = 1'000'000;
    int runs = 5;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = bench.add_subcommand("csv", "Time reading a generated candle CSV (median of several reads, the first apart)");
  cmd->add_option("--rows", o->rows, "Candles in the file")->capture_default_str();
  cmd->add_option("--runs", o->runs, "Timed reads after the first (cold) one; the median is reported")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object instead of text");
  cmd->footer("Example:\n  onepath bench csv --rows 1000000");
  cmd->callback([o, &action] {
    action = [o] {
      SynthOptions so;
      so.symbols = {preset_symbol("BTC", 1.0)};
      so.bars = o->rows;
      so.start_ms = parse_timestamp("2020-01-01");
      so.with_defects = false;
      std::string csv = to_csv(generate_market(so)[0]);
      auto path = (std::filesystem::temp_directory_path() / ("onepath-bench-" + std::to_string(::getpid()) + ".csv")).string();
      write_file_atomic(path, csv);
      std::vector<double> times;
      double cold = 0;
      std::size_t n = 0;
      for (int r = 0; r <= o->runs; ++r) {
        auto t0 = Clock::now();
        n = read_candles(path).series.size();
        (r == 0 ? cold : times.emplace_back()) = seconds_since(t0);
      }
      const double best = median(times);
      std::filesystem::remove(path);
      double mb = static_cast<double>(csv.size()) / 1e6;
      if (o->json)
        fmt::print(
            "{{\"bench\":\"csv\",\"rows\":{},\"bytes\":{},\"seconds\":{:.6f},\"cold_seconds\":{:.6f},\"rows_per_second\":{:.0f},\"runs\":{}}}\n", n,
            csv.size(), best, cold, static_cast<double>(n) / best, o->runs);
      else
        fmt::print(
            "csv read: {} candles ({:.1f} MB, ISO timestamps) in {:.3f} s, median of {} (first read {:.3f} s): {:.2f} M candles/s, {:.0f} MB/s\n", n,
            mb, best, o->runs, cold, static_cast<double>(n) / best / 1e6, mb / best);
      return 0;
    };
  });
}

// A random walk without gaps or zero volume: every indicator does its full work per bar.
CandleSeries bench_walk(std::size_t bars) {
  SynthOptions so;
  so.symbols = {preset_symbol("BTC", 1.0)};
  so.bars = bars;
  so.start_ms = parse_timestamp("2000-01-03");
  so.scenario = Scenario::quiet;
  so.with_defects = false;
  return generate_market(so)[0];
}

struct IndicatorFigures {
  std::string kind;
  double ns_per_update, p50, p95, p99;
  std::size_t state_bytes;
  std::optional<double> ref_ns;  // the plain C loop of the kind's definition, same run
  double cold_ns;                // the first pass: the output pages touched for the first time
};

// `runs` passes of update + emit over the whole series, each followed by a pass of the
// kind's plain loop (interleaved, so both see the same machine), medians of each; then
// single updates timed one by one with the time-stamp counter, less the cost of timing an
// empty call.
IndicatorFigures measure_indicator(const IndicatorKind& k, const CandleSeries& s, int runs, double tsc_per_ns, PlainLoops& plain) {
  auto ind = make_indicator(k.example);
  std::size_t outputs = ind->outputs().size();
  std::vector<std::unique_ptr<double[]>> cols;  // new double[n]: pages not touched, so the first pass is the cold one
  std::vector<double*> ptrs;
  for (std::size_t k = 0; k < outputs; ++k) {
    cols.emplace_back(new double[s.size()]);
    ptrs.push_back(cols.back().get());
  }
  const double n = static_cast<double>(s.size());
  std::vector<double> passes, refs;
  double cold = 0;
  for (int r = 0; r <= runs; ++r) {
    ind->reset();
    auto t0 = Clock::now();
    ind->update_many(s, 0, s.size(), ptrs.data());
    const double t = seconds_since(t0);
    if (r == 0) {
      cold = t;
      continue;
    }
    passes.push_back(t);
    if (auto ref = plain.seconds(k.example, s)) refs.push_back(*ref);
  }

  // Reading the counter costs about as much as a cheap update, and it ticks in ~10 ns
  // steps here; so each sample is a block of kBlock consecutive updates, per update.
  constexpr std::size_t kBlock = 16;
  ind->reset();
  const std::size_t samples = std::min<std::size_t>(s.size() / kBlock, 250'000);
  std::vector<double> overhead, latency;
  overhead.reserve(samples), latency.reserve(samples);
  for (std::size_t b = 0; b < samples; ++b) {
    std::size_t i = b * kBlock;
    std::uint64_t t0 = cycles_now();
    ind->update_many(s, i, i, ptrs.data());
    std::uint64_t t1 = cycles_now();
    ind->update_many(s, i, i + kBlock, ptrs.data());
    std::uint64_t t2 = cycles_now();
    overhead.push_back(static_cast<double>(t1 - t0));
    latency.push_back(static_cast<double>(t2 - t1));
  }
  double base = percentile(overhead, 50);
  for (auto& l : latency) l = std::max(0.0, l - base) / tsc_per_ns / kBlock;
  IndicatorFigures f{std::string(k.kind),
                     median(passes) * 1e9 / n,
                     percentile(latency, 50),
                     percentile(latency, 95),
                     percentile(latency, 99),
                     ind->state_bytes(),
                     std::nullopt,
                     cold * 1e9 / n};
  if (!refs.empty()) f.ref_ns = median(refs) * 1e9 / n;
  return f;
}

void add_bench_indicators(CLI::App& bench, Action& action) {
  struct Opts {
    std::size_t bars = 10'000'000;
    std::string kind;
    std::vector<std::string> plugins;
    int runs = 5;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = bench.add_subcommand("indicators", "Per-indicator cost: ns per update, single-update latency, state size");
  cmd->add_option("--bars", o->bars, "Bars of the generated random walk")->check(CLI::Range(1000, 1'000'000'000))->capture_default_str();
  cmd->add_option("--kind", o->kind, "Only this kind (see docs/indicators.md)");
  cmd->add_option("--plugin", o->plugins, "Also the kinds of this native plugin (repeatable)")->check(CLI::ExistingFile);
  cmd->add_option("--runs", o->runs, "Timed passes of each (indicator and plain loop, interleaved); medians are reported")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--json", o->json,
                "A JSON array: kind, ns_per_update, ref_ns_per_update, ratio, cold_ns_per_update, p50_ns, p95_ns, p99_ns, state_bytes, runs");
  cmd->footer(
      "Each kind runs with its example parameters (sma 20, ema 12, rsi 14, ...) over a generated 15m walk.\n"
      "ns_per_update: median of --runs passes of update + emit over all bars, per bar (warm: a first,\n"
      "cold pass touches the output pages and is reported apart as cold).\n"
      "ref: the plain C loop of TA-Lib's definition of the kind (host/cli/plain_loops.c, same flags),\n"
      "timed after each indicator pass; ratio = ns_per_update / ref (at most 1 is the goal).\n"
      "p50/p95/p99: updates timed with the CPU time-stamp counter in blocks of 16 (the counter is too\n"
      "coarse for one), per update, less the timer's own cost.\n"
      "Examples:\n"
      "  onepath bench indicators                       all kinds, 10 million bars\n"
      "  onepath bench indicators --kind rsi --bars 1000000 --json\n"
      "  onepath bench indicators --plugin build/plugins/ta_extra.so --kind supertrend");
  cmd->callback([o, &action] {
    action = [o] {
      for (const auto& p : o->plugins) load_plugin(p);
      std::vector<IndicatorKind> kinds;
      for (const auto& k : indicator_kinds())
        if (o->kind.empty() || k.kind == o->kind) kinds.push_back(k);
      if (kinds.empty()) throw InputError("unknown indicator kind '" + o->kind + "'");
      CandleSeries s = bench_walk(o->bars);
      PlainLoops plain(s.size());
      double tsc = cycles_per_ns();
      if (!o->json)
        fmt::print("{:<16} {:>10} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>12}\n", "kind", "ns/update", "ref ns", "ratio", "cold ns", "p50 ns",
                   "p95 ns", "p99 ns", "state bytes");
      std::string json = "[";
      auto opt = [](const std::optional<double>& v, int digits) { return v ? fmt::format("{:.{}f}", *v, digits) : std::string("null"); };
      for (const auto& k : kinds) {
        IndicatorFigures f = measure_indicator(k, s, o->runs, tsc, plain);
        const std::optional<double> ratio = f.ref_ns ? std::optional<double>(f.ns_per_update / *f.ref_ns) : std::nullopt;
        if (o->json) {
          json += fmt::format(
              "{}\n{{\"kind\":\"{}\",\"ns_per_update\":{:.3f},\"ref_ns_per_update\":{},\"ratio\":{},\"cold_ns_per_update\":{:.3f},"
              "\"p50_ns\":{:.1f},\"p95_ns\":{:.1f},\"p99_ns\":{:.1f},\"state_bytes\":{},\"runs\":{}}}",
              json.size() > 1 ? "," : "", f.kind, f.ns_per_update, opt(f.ref_ns, 3), opt(ratio, 3), f.cold_ns, f.p50, f.p95, f.p99, f.state_bytes,
              o->runs);
        } else {
          fmt::print("{:<16} {:>10.2f} {:>8} {:>7} {:>8.2f} {:>8.1f} {:>8.1f} {:>8.1f} {:>12}\n", f.kind, f.ns_per_update,
                     f.ref_ns ? opt(f.ref_ns, 2) : "-", ratio ? opt(ratio, 2) : "-", f.cold_ns, f.p50, f.p95, f.p99, f.state_bytes);
          std::fflush(stdout);
        }
      }
      if (o->json)
        fmt::print("{}\n]\n", json);
      else
        fmt::print("medians of {} interleaved passes of {} bars\n", o->runs, s.size());
      return 0;
    };
  });
}

void add_bench_kernel(CLI::App& bench, Action& action) {
  struct Opts {
    std::size_t bars = 10'000'000;
    int runs = 3;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = bench.add_subcommand("kernel", "Execution kernel alone: bars per second with no orders, orders per second");
  cmd->add_option("--bars", o->bars, "Bars of the generated walk")->check(CLI::Range(1000, 1'000'000'000))->capture_default_str();
  cmd->add_option("--runs", o->runs, "Warm rounds; medians are reported")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object: bars_per_second, orders_per_second, cold_bars_per_second, cold_orders_per_second, runs");
  cmd->footer(
      "No orders: open_bar + mark on every bar of one symbol.\n"
      "Orders: a market entry on every even bar and a close on every odd bar, realistic costs:\n"
      "each order is sized, placed, filled at the next open and booked in the ledger.\n"
      "Example:\n  onepath bench kernel --bars 10000000");
  cmd->callback([o, &action] {
    action = [o] {
      CandleSeries s = bench_walk(o->bars);
      // Round 0 is cold: the equity curve's reservation (320 MB at 10 M bars) is touched for
      // the first time inside it. The warm rounds reuse the touched curve.
      std::vector<double> idle_t, orders_t;
      double idle_cold = 0, orders_cold = 0;
      std::size_t orders = 0;
      std::vector<EquityPoint> curve;  // where a run's marks go
      for (int r = 0; r <= o->runs; ++r) {
        if (r == 0) curve = std::vector<EquityPoint>(), curve.reserve(s.size());
        curve.clear();
        Kernel idle(ExecConfig{}, {"BTC"});
        auto t0 = Clock::now();
        for (std::size_t i = 0; i < s.size(); ++i) {
          idle.open_bar(0, s[i]);
          curve.push_back(idle.mark(s.ts[i]));
        }
        const double t_idle = seconds_since(t0);

        if (r == 0) curve = std::vector<EquityPoint>(), curve.reserve(s.size());  // cold again for the orders' round
        curve.clear();
        Kernel busy(ExecConfig{}, {"BTC"});
        Intent entry, exit;
        entry.size = {SizeMode::equity_fraction, 0.1};
        exit.action = IntentAction::close;
        orders = 0;
        t0 = Clock::now();
        for (std::size_t i = 0; i < s.size(); ++i) {
          busy.open_bar(0, s[i]);
          orders += busy.submit(0, i % 2 ? exit : entry, busy.size(0, entry)) != 0;
          curve.push_back(busy.mark(s.ts[i]));
        }
        const double t_orders = seconds_since(t0);
        if (r == 0) {
          idle_cold = t_idle, orders_cold = t_orders;
        } else {
          idle_t.push_back(t_idle), orders_t.push_back(t_orders);
        }
      }
      const double n = static_cast<double>(s.size()), idle = median(idle_t), busy = median(orders_t);
      if (o->json)
        fmt::print(
            "{{\"bench\":\"kernel\",\"bars\":{},\"bars_per_second\":{:.0f},\"orders\":{},\"orders_per_second\":{:.0f},"
            "\"cold_bars_per_second\":{:.0f},\"cold_orders_per_second\":{:.0f},\"runs\":{}}}\n",
            s.size(), n / idle, orders, static_cast<double>(orders) / busy, n / idle_cold, static_cast<double>(orders) / orders_cold, o->runs);
      else
        fmt::print(
            "kernel (medians of {} warm rounds; the cold first round apart):\n"
            "  {:.1f} M bars/s with no orders ({:.1f} ns/bar; cold {:.1f} M bars/s)\n"
            "  {:.2f} M orders/s ({} orders, fills and trades over {} bars; cold {:.2f} M orders/s)\n",
            o->runs, n / idle / 1e6, idle * 1e9 / n, n / idle_cold / 1e6, static_cast<double>(orders) / busy / 1e6, orders, s.size(),
            static_cast<double>(orders) / orders_cold / 1e6);
      return 0;
    };
  });
}

void add_bench_enrich(CLI::App& bench, Action& action) {
  struct Opts {
    std::string features;
    std::size_t bars = 10'000'000;
    int runs = 5;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = bench.add_subcommand("enrich", "A feature set's cost: streaming and batch ns per candle, state bytes per key");
  cmd->add_option("--features", o->features, "Feature set (scripts/features/*.lua)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--bars", o->bars, "Generated 15m candles")->check(CLI::Range(1000, 1'000'000'000))->capture_default_str();
  cmd->add_option("--runs", o->runs, "Timed passes of each path, interleaved; medians are reported")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--json", o->json,
                "One JSON object: stream_ns_per_candle, ref_sum_ns, stream_ratio, stream_cold_ns_per_candle, stream_p50_ns, "
                "stream_p95_ns, stream_p99_ns, batch_ns_per_candle, batch_mt_ns_per_candle, state_bytes, runs");
  cmd->footer(
      "stream: update + emit of every candle (a first, cold pass apart); p50/p95/p99 per candle, timed in\n"
      "blocks of 16. ref_sum: the plain C loops of the set's kinds (host/cli/plain_loops.c), one per\n"
      "feature with its parameters, summed, timed in the same rounds; stream_ratio = stream / ref_sum\n"
      "(the goal is 0.5: one pass over a candle computing what separate loops compute).\n"
      "batch: enrich_batch over all candles into a reused matrix, on one thread and on all threads\n"
      "(independent features in parallel).\n"
      "Example:\n  onepath bench enrich --features scripts/features/talib_common.lua");
  cmd->callback([o, &action] {
    action = [o] {
      FeatureSet set = load_feature_file(o->features);
      CandleSeries s = bench_walk(o->bars);
      const Timeframe tf = Timeframe::parse("15m");
      const double n = static_cast<double>(s.size());
      const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
      std::vector<double> stream, batch, batch_mt, ref_sum;
      double cold = 0;
      std::size_t columns = 0, state = 0;
      FeatureColumns matrix;  // reused: the figure is the enrichment, not the page faults of a new matrix
      PlainLoops plain(s.size());
      bool all_plain = true;
      for (int r = 0; r <= o->runs; ++r) {  // round 0 is the cold one
        Enricher e(set, tf);
        columns = e.columns().size();
        std::vector<double> row(columns);
        auto t0 = Clock::now();
        for (std::size_t i = 0; i < s.size(); ++i) {
          e.update(s[i]);
          e.emit(row.data());
        }
        const double t = seconds_since(t0);
        if (r == 0) {
          cold = t;
          continue;
        }
        stream.push_back(t);
        state = e.state_bytes();
        t0 = Clock::now();
        e.enrich_batch(s, matrix, 1);
        batch.push_back(seconds_since(t0));
        t0 = Clock::now();
        e.enrich_batch(s, matrix, threads);
        batch_mt.push_back(seconds_since(t0));
        double sum = 0;
        for (const auto& f : set.features) {
          auto secs = f.input.empty() && !f.timeframe ? plain.seconds(f.indicator, s) : std::nullopt;
          all_plain &= secs.has_value();
          sum += secs.value_or(0);
        }
        ref_sum.push_back(sum);
      }
      const double ref_ns = median(ref_sum) * 1e9 / n, stream_ns = median(stream) * 1e9 / n;
      constexpr std::size_t kBlock = 16;
      const double tsc = cycles_per_ns();
      Enricher e(set, tf);
      std::vector<double> row(columns), lat;
      for (std::size_t i = 0; i + kBlock <= std::min<std::size_t>(s.size(), 4'000'000); i += kBlock) {
        std::uint64_t t0 = cycles_now();
        for (std::size_t j = i; j < i + kBlock; ++j) {
          e.update(s[j]);
          e.emit(row.data());
        }
        lat.push_back(static_cast<double>(cycles_now() - t0) / tsc / kBlock);
      }
      double p50 = percentile(lat, 50), p95 = percentile(lat, 95), p99 = percentile(lat, 99);
      const std::string ratio = all_plain ? fmt::format("{:.3f}", stream_ns / ref_ns) : "null";
      if (o->json)
        fmt::print(
            "{{\"bench\":\"enrich\",\"candles\":{},\"columns\":{},\"stream_ns_per_candle\":{:.2f},\"ref_sum_ns\":{},\"stream_ratio\":{},"
            "\"stream_cold_ns_per_candle\":{:.2f},\"stream_p50_ns\":{:.1f},\"stream_p95_ns\":{:.1f},\"stream_p99_ns\":{:.1f},"
            "\"batch_ns_per_candle\":{:.2f},\"batch_mt_ns_per_candle\":{:.2f},\"batch_threads\":{},\"state_bytes\":{},\"runs\":{}}}\n",
            s.size(), columns, stream_ns, all_plain ? fmt::format("{:.2f}", ref_ns) : "null", ratio, cold * 1e9 / n, p50, p95, p99,
            median(batch) * 1e9 / n, median(batch_mt) * 1e9 / n, threads, state, o->runs);
      else
        fmt::print(
            "enrich {} ({} columns, {} candles), medians of {} interleaved rounds:\n"
            "  stream  {:.1f} ns/candle (p50 {:.1f}, p95 {:.1f}, p99 {:.1f}; cold first pass {:.1f})\n"
            "  ref     {} ns/candle: the set's plain C loops, summed; stream / ref = {} (goal 0.5)\n"
            "  batch   {:.1f} ns/candle on 1 thread, {:.1f} on {} threads\n  state   {} bytes per key\n",
            o->features, columns, s.size(), o->runs, stream_ns, p50, p95, p99, cold * 1e9 / n,
            all_plain ? fmt::format("{:.1f}", ref_ns) : "- (a kind without a plain loop)", ratio, median(batch) * 1e9 / n, median(batch_mt) * 1e9 / n,
            threads, state);
      return 0;
    };
  });
}

void add_bench_backtest(CLI::App& bench, Action& action) {
  struct Opts {
    std::string config;
    std::vector<std::string> sets;
    std::size_t bars = 10'000'000;
    int runs = 3;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = bench.add_subcommand("backtest", "A backtest's speed: the config's strategy over generated candles in memory");
  cmd->add_option("RUN.toml", o->config, "The run's configuration")->required()->check(CLI::ExistingFile);
  cmd->add_option("--bars", o->bars, "Generated 15m candles in all (split over the config's symbols)")
      ->check(CLI::Range(1000, 1'000'000'000))
      ->capture_default_str();
  cmd->add_option("--set", o->sets, "Override a config value: key.path=value");
  cmd->add_option("--runs", o->runs, "Timed backtests after a first (cold) one; the median is reported")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object: bars_per_second, enrich_ns, lua_ns, kernel_ns");
  cmd->footer(
      "No files are read or written. The split per candle comes from separate passes over the same candles:\n"
      "kernel alone (bars and marks), enrichment alone (update + emit); Lua and the decisions are the rest.\n"
      "Example:\n  onepath bench backtest examples/quickstart.toml --bars 10000000");
  cmd->callback([o, &action] {
    action = [o] {
      RunConfig c = load_run_config(o->config, o->sets);
      BacktestBench b = bench_backtest(c, o->bars, o->runs);
      if (o->json)
        fmt::print(
            "{{\"bench\":\"backtest\",\"candles\":{},\"bars_per_second\":{:.0f},\"cold_bars_per_second\":{:.0f},\"enrich_ns\":{:.1f},\"lua_ns\":{:."
            "1f},\"kernel_ns\":{:.1f},\"runs\":{}}}\n",
            b.candles, b.bars_per_second, 1e9 / b.cold_ns, b.enrich_ns, b.lua_ns, b.kernel_ns, o->runs);
      else
        fmt::print(
            "backtest {} over {} candles, median of {} (the first, cold, {:.2f} M bars/s): {:.2f} M bars/s ({:.0f} ns per bar: enrichment {:.0f}, "
            "Lua and decisions {:.0f}, kernel {:.0f})\n",
            c.session.strategy, b.candles, o->runs, 1e3 / b.cold_ns, b.bars_per_second / 1e6, b.total_ns, b.enrich_ns, b.lua_ns, b.kernel_ns);
      return 0;
    };
  });
}

void add_bench_journal(CLI::App& bench, Action& action) {
  struct Opts {
    std::size_t rows = 1'000'000;
    std::string db;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = bench.add_subcommand("journal", "Write one run of N trades and N equity rows to the journal, timed");
  cmd->add_option("--rows", o->rows, "Trades, and as many equity rows")->check(CLI::Range(1, 100'000'000))->capture_default_str();
  cmd->add_option("--db", o->db, "A SQLite file or postgresql://... (default: a temporary SQLite file)");
  cmd->add_flag("--json", o->json, "One JSON object: rows, seconds, rows_per_second");
  cmd->footer("Example:\n  onepath bench journal --rows 1000000");
  cmd->callback([o, &action] {
    action = [o] {
      namespace fs = std::filesystem;
      std::string address = o->db.empty() ? (fs::temp_directory_path() / ("onepath-bench-" + std::to_string(::getpid()) + ".db")).string() : o->db;
      std::vector<Trade> trades(o->rows);
      std::vector<EquityPoint> equity(o->rows);
      for (std::size_t i = 0; i < o->rows; ++i) {
        Trade& t = trades[i];
        t.symbol = static_cast<int>(i % 3), t.quantity = 0.5 + static_cast<double>(i % 7),
        t.entry_ts = 1709251200000 + static_cast<TimestampMs>(i) * 900000;
        t.exit_ts = t.entry_ts + 3600000, t.entry_bar = static_cast<std::int64_t>(i), t.exit_bar = t.entry_bar + 4;
        t.entry_price = 60000 + static_cast<double>(i % 1000) / 3, t.exit_price = t.entry_price * 1.001, t.fees = 0.06, t.pnl = 1.0 / 3;
        equity[i] = {t.entry_ts, 10000 + static_cast<double>(i) / 7, 5000, 5000};
      }
      auto journal = Journal::open(address);
      std::int64_t id = journal->start_run({});
      auto t0 = Clock::now();
      journal->complete_run(id, {"BTC", "ETH", "SOL"}, trades, equity, {}, {"bench", "bench", "{}"});
      double secs = seconds_since(t0);
      journal.reset();
      if (o->db.empty())
        for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(address + suffix);
      double rows = 2.0 * static_cast<double>(o->rows);
      if (o->json)
        fmt::print("{{\"bench\":\"journal\",\"trades\":{},\"equity_rows\":{},\"seconds\":{:.3f},\"rows_per_second\":{:.0f}}}\n", o->rows, o->rows,
                   secs, rows / secs);
      else
        fmt::print("journal ({}): {} trades + {} equity rows in one transaction: {:.2f} s ({:.2f} M rows/s)\n", o->db.empty() ? "SQLite" : "given",
                   o->rows, o->rows, secs, rows / secs / 1e6);
      return 0;
    };
  });
}

void add_bench_paper(CLI::App& bench, Action& action) {
  struct Opts {
    std::string config;
    std::vector<std::string> sets;
    std::size_t bars = 300'000;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = bench.add_subcommand("paper", "A paper session's latency: a candle's arrival to its orders out of the kernel");
  cmd->add_option("RUN.toml", o->config, "The run's configuration")->required()->check(CLI::ExistingFile);
  cmd->add_option("--bars", o->bars, "Generated 15m candles in all (split over the config's symbols)")
      ->check(CLI::Range(1000, 100'000'000))
      ->capture_default_str();
  cmd->add_option("--set", o->sets, "Override a config value: key.path=value");
  cmd->add_flag("--json", o->json, "One JSON object: candles, p50_us, p99_us, p999_us, max_us, mean_us");
  cmd->footer(
      "The paper path as it runs: a replay feed at full speed on the event loop, the Session's step per candle\n"
      "(venue, features, strategy, filters, risk, kernel), timed from when the feed hands the candle over until\n"
      "the step returns with its orders placed. No journal, no HTTP, no snapshots. Goal: p99 under 50 us.\n"
      "Example:\n  onepath bench paper examples/quickstart.toml --json");
  cmd->callback([o, &action] {
    action = [o] {
      RunConfig c = load_run_config(o->config, o->sets);
      PaperBench b = bench_paper(c, o->bars);
      if (o->json)
        fmt::print(
            "{{\"bench\":\"paper\",\"candles\":{},\"p50_us\":{:.3f},\"p99_us\":{:.3f},\"p999_us\":{:.3f},\"max_us\":{:.1f},\"mean_us\":{:.3f}}}\n",
            b.candles, b.p50_us, b.p99_us, b.p999_us, b.max_us, b.mean_us);
      else
        fmt::print("paper {} over {} candles, arrival -> orders out: p50 {:.2f} us, p99 {:.2f} us, p999 {:.2f} us, max {:.0f} us (mean {:.2f} us)\n",
                   c.session.strategy, b.candles, b.p50_us, b.p99_us, b.p999_us, b.max_us, b.mean_us);
      return 0;
    };
  });
}

void add_bench_reload(CLI::App& bench, Action& action) {
  struct Opts {
    std::string config;
    std::vector<std::string> sets;
    std::size_t reloads = 30;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = bench.add_subcommand("reload", "Hot reload's latency: a change of the strategy file to the swap");
  cmd->add_option("RUN.toml", o->config, "The run's configuration (its strategy is copied and edited)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", o->sets, "Override a config value: key.path=value");
  cmd->add_option("--reloads", o->reloads, "How many reloads")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object: reloads, dry_run_candles, p50_ms, p99_ms, max_ms, validate_p50_ms");
  cmd->footer(
      "A paper session replays generated candles; a copy of the strategy is rewritten on disk every time the last\n"
      "reload is done, and each is timed from the write to the swap: inotify, the 30 ms settle, the dry run of\n"
      "[paper] reload_candles candles per symbol in a forked child, the swap. Goal: p99 under 200 ms.\n"
      "Example:\n  onepath bench reload examples/quickstart.toml --json");
  cmd->callback([o, &action] {
    action = [o] {
      RunConfig c = load_run_config(o->config, o->sets);
      ReloadBench b = bench_reload(c, o->reloads);
      if (o->json)
        fmt::print(
            "{{\"bench\":\"reload\",\"reloads\":{},\"dry_run_candles\":{},\"p50_ms\":{:.1f},\"p99_ms\":{:.1f},\"max_ms\":{:.1f},"
            "\"validate_p50_ms\":{:.1f}}}\n",
            b.reloads, b.dry_run_candles, b.p50_ms, b.p99_ms, b.max_ms, b.validate_p50_ms);
      else
        fmt::print(
            "reload {} x{} (dry run of {} candles): file change -> swap p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms "
            "(validation p50 {:.1f} ms)\n",
            c.session.strategy, b.reloads, b.dry_run_candles, b.p50_ms, b.p99_ms, b.max_ms, b.validate_p50_ms);
      return 0;
    };
  });
}

// The plugin boundary's cost: the built-in EMA against the same arithmetic in a plugin, and
// a built-in filter against a plugin's pass-through filter.
void add_bench_abi(CLI::App& bench, Action& action) {
  struct Opts {
    std::string plugin;
    std::size_t bars = 10'000'000;
    int runs = 5;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = bench.add_subcommand("abi", "The cost of the native plugin boundary (indicator update, filter call)");
  cmd->add_option("--plugin", o->plugin, "The abi_probe plugin (build/plugins/abi_probe.so)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--bars", o->bars, "Bars of the generated walk")->check(CLI::Range(1000, 1'000'000'000))->capture_default_str();
  cmd->add_option("--runs", o->runs, "Timed passes of each, after a first (cold) one; medians are reported")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object");
  cmd->footer(
      "ema (built in) and ema_abi (the same arithmetic in the plugin) are updated and emitted bar by bar through the\n"
      "Indicator interface, as the enricher streams them; max_concurrent (built in) and pass (the plugin) are asked\n"
      "about one intent per bar through the filter interface. Goals: at most 5 ns more per update, 50 ns per filter call.\n"
      "Example:\n  onepath bench abi --plugin build/plugins/abi_probe.so");
  cmd->callback([o, &action] {
    action = [o] {
      load_plugin(o->plugin);
      CandleSeries s = bench_walk(o->bars);
      const double n = static_cast<double>(s.size());
      auto indicator_ns = [&](const std::string& kind) {
        std::vector<double> times;
        double sink = 0;
        for (int r = 0; r <= o->runs; ++r) {
          auto ind = make_indicator({kind, {{"period", 12.0}}});
          double v = 0;
          auto t0 = Clock::now();
          for (std::size_t i = 0; i < s.size(); ++i) {
            ind->update(s[i]);
            ind->emit(&v);
            sink += v;
          }
          if (r > 0) times.push_back(seconds_since(t0));
        }
        if (sink == 42) fmt::print("");  // keeps the loop's results alive
        return median(times) * 1e9 / n;
      };
      auto filter_ns = [&](const std::string& kind, int count) {
        std::vector<double> times;
        std::size_t passed = 0;
        for (int r = 0; r <= o->runs; ++r) {
          auto f = make_filter(kind, {count, {}, {"BTC"}});
          Intent in;
          FilterContext ctx;
          auto t0 = Clock::now();
          for (std::size_t i = 0; i < s.size(); ++i) {
            ctx.bar = static_cast<std::int64_t>(i);
            ctx.close = s.close[i];
            passed += f->apply(in, ctx).empty();
          }
          if (r > 0) times.push_back(seconds_since(t0));
        }
        if (passed == 42) fmt::print("");
        return median(times) * 1e9 / n;
      };
      const double ema = indicator_ns("ema"), ema_abi = indicator_ns("ema_abi");
      const double builtin_filter = filter_ns("max_concurrent", 1'000'000), plugin_filter = filter_ns("pass", 0);
      if (o->json)
        fmt::print(
            "{{\"bench\":\"abi\",\"ema_ns\":{:.2f},\"ema_abi_ns\":{:.2f},\"indicator_overhead_ns\":{:.2f},"
            "\"builtin_filter_ns\":{:.2f},\"plugin_filter_ns\":{:.2f}}}\n",
            ema, ema_abi, ema_abi - ema, builtin_filter, plugin_filter);
      else
        fmt::print(
            "indicator update + emit: ema {:.2f} ns built in, {:.2f} ns as a plugin ({:+.2f} ns through the ABI)\n"
            "filter call: {:.2f} ns built in (max_concurrent), {:.2f} ns as a plugin (pass)\n",
            ema, ema_abi, ema_abi - ema, builtin_filter, plugin_filter);
      return 0;
    };
  });
}

}  // namespace

void add_bench_commands(CLI::App& app, Action& action) {
  auto* bench = app.add_subcommand("bench", "Measure onepath on this machine (generated data, no network)");
  bench->require_subcommand(1);
  add_bench_csv(*bench, action);
  add_bench_indicators(*bench, action);
  add_bench_kernel(*bench, action);
  add_bench_enrich(*bench, action);
  add_bench_backtest(*bench, action);
  add_bench_paper(*bench, action);
  add_bench_abi(*bench, action);
  add_bench_reload(*bench, action);
  add_bench_journal(*bench, action);
  add_bench_infer(*bench, action);
  add_bench_sweep(*bench, action);
}

}  // namespace onepath::cli
