// onepath bench sweep: a sweep's speed against a backtest of the same strategy, on seed 001's
// FTF shape (5 levers x 3 variants x 10 symbols x 5 folds x 15 trials = 11,250 cells over a
// generated year of 15m candles per symbol) or a small one, with its peak memory.
#include <fmt/core.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <thread>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "infer/train.hpp"
#include "run/backtest.hpp"
#include "run/run_config.hpp"
#include "sweep/run_sweep.hpp"

namespace onepath::cli {
namespace {

namespace fs = std::filesystem;

struct Shape {
  std::vector<std::string> symbols;
  std::size_t bars, train, test, folds, trials;
  std::vector<int> cooldowns;         // the levers
  std::vector<double> slippages;      // the variants of each lever
  bool model = false;                 // an XGBoost model trained per fold x trial
};

Shape shape_named(const std::string& name) {
  if (name == "ftf" || name == "ftf-model")
    return {{"BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "AVAX", "DOT", "LINK"}, 35040, 5000, 6000, 5, 15, {2, 4, 8, 12, 16}, {1, 2, 5},
            name == "ftf-model"};
  return {{"BTC", "ETH", "SOL"}, 8760, 1000, 1500, 4, 6, {2, 8}, {1, 5}};  // "small": 288 cells
}

// A RUN.toml and a sweep file of the shape, in `dir`; the shipped strategy and filters.
std::string write_shape(const Shape& s, const fs::path& dir) {
  std::string symbols;
  for (const auto& x : s.symbols) symbols += (symbols.empty() ? "\"" : ", \"") + x + "\"";
  // The model shape: the shipped ml_threshold signal reads a model of the shipped ml_basic
  // features (12 inputs), 100 trees of depth 6, trained per fold x trial (eta is swept).
  const std::string strategy = s.model ? "signal = \"scripts/signals/ml_threshold_up.lua\"\n"
                                       : "script = \"scripts/strategies/ema_crossover.lua\"\n";
  const std::string train = s.model ? "[train]\nfeatures = \"scripts/features/ml_basic.lua\"\nout = \"base.json\"\nlabel = \"triple_barrier\"\n"
                                      "horizon = 16\nstop_pct = 0.02\ntake_pct = 0.04\nfolds = 1\nrounds = 100\nmax_depth = 6\nseed = 7\n"
                                      "[strategy.params]\nmodel = \"" + (dir / "base.json").string() + "\"\n"
                                    : "";
  std::ofstream(dir / "RUN.toml") << "[data]\nsymbols = [" << symbols << "]\ntimeframe = \"15m\"\n[data.generate]\nbars = " << s.bars * s.symbols.size()
                                  << "\nstart = \"2024-01-01\"\nscenario = \"volatile\"\nseed = 3\n[strategy]\n" << strategy
                                  << "[[filters]]\nkind = \"cooldown\"\nbars = 4\n[[filters]]\nkind = \"max_concurrent\"\nlimit = 2\n"
                                     "[execution]\ninitial_cash = 10000\ncosts = \"realistic\"\ntaker_fee_bps = 10\nslippage_bps = 2\n[output]\ndb = \"\"\n"
                                  << train;
  std::string sweep = "[sweep]\nrun = \"RUN.toml\"\nsymbols = \"each\"\nsearch = \"random\"\ntrials = " + std::to_string(s.trials) +
                      "\nseed = 1\nobjective = \"sharpe\"\n[sweep.space]\n" +
                      (s.model ? "\"strategy.params.enter\" = { from = 0.2, to = 0.5, step = 0.05 }\n\"train.eta\" = { log_from = 0.02, log_to = 0.3, count = 8 }\n"
                               : "\"strategy.params.fast\" = { from = 4, to = 20, step = 1 }\n\"strategy.params.slow\" = { from = 20, to = 80, step = 2 }\n");
  for (std::size_t l = 0; l < s.cooldowns.size(); ++l)
    for (std::size_t v = 0; v < s.slippages.size(); ++v)
      sweep += fmt::format("[sweep.variants.lever{}_{}]\n\"filters.0.bars\" = {}\n\"execution.slippage_bps\" = {}\n", l + 1, "abc"[v], s.cooldowns[l], s.slippages[v]);
  sweep += fmt::format("[sweep.folds]\nmode = \"rolling\"\ntrain = {}\ntest = {}\nstep = {}\npurge = 16\ncount = {}\n", s.train, s.test, s.test, s.folds);
  std::ofstream(dir / "SWEEP.toml") << sweep;
  return (dir / "SWEEP.toml").string();
}

// The largest resident set of this process and of any worker process it ran.
double peak_rss_mb() {
  rusage self{}, children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  return static_cast<double>(std::max(self.ru_maxrss, children.ru_maxrss)) / 1024.0;
}

}  // namespace

void add_bench_sweep(CLI::App& bench, Action& action) {
  struct Opts {
    std::string shape = "ftf";
    std::vector<int> workers;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = bench.add_subcommand("sweep", "A sweep's speed: cells per second, cost per candle against a backtest, peak memory");
  cmd->add_option("--shape", o->shape, "ftf: seed 001's 11,250 cells over a year of 15m candles x 10 symbols; ftf-model: the same with an XGBoost model trained per fold x trial; small: 288 cells")
      ->capture_default_str()
      ->check(CLI::IsMember({"ftf", "ftf-model", "small"}));
  cmd->add_option("--workers", o->workers, "Worker threads, one sweep per value (default: 1 and the machine's cores)");
  cmd->add_flag("--json", o->json, "One JSON object per sweep");
  cmd->footer("No journal; the data is generated in memory. The backtest beside it runs the same strategy over the same candles\n"
              "(onepath bench backtest's measure), so 'per candle' compares a cell's cost with a backtest's.\n"
              "Example:\n  onepath bench sweep --shape ftf --workers 2");
  cmd->callback([o, &action] {
    action = [o] {
      const Shape shape = shape_named(o->shape);
      const fs::path dir = fs::temp_directory_path() / ("onepath-bench-sweep-" + std::to_string(::getpid()));
      fs::create_directories(dir);
      struct Cleanup {
        fs::path d;
        ~Cleanup() { std::error_code ec; fs::remove_all(d, ec); }
      } cleanup{dir};
      const SweepConfig c = load_sweep_config(write_shape(shape, dir));
      const RunConfig base = load_run_config(c.run_path);
      if (shape.model) {  // the reference backtest's model, trained as a cell's is: one symbol, one train window
        TrainInput in;
        const CandleSeries all = load_market(base, in.timeframe).front();
        CandleSeries first;
        first.symbol = all.symbol;
        for (std::size_t i = 0; i < shape.train && i < all.size(); ++i) first.push_back(all[i]);
        in.market = {std::move(first)};
        train_model(base.train, in);
      }
      const BacktestBench b = bench_backtest(base, 2'000'000, 1);
      std::vector<int> workers = o->workers;
      if (workers.empty()) {
        workers = {1};
        const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        if (cores > 1) workers.push_back(cores);
      }
      const auto t0 = std::chrono::steady_clock::now();
      const SweepSetup setup = prepare_sweep(c);
      const double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!o->json)
        fmt::print("sweep shape {}: {} cells ({} trials x {} variants x {} symbols x {} folds of {} candles); market {} symbols x {} candles, "
                   "read and planned in {:.2f} s\nbacktest of the same strategy: {:.0f} ns per candle ({:.2f} M/s)\n",
                   o->shape, setup.plan.cells.size(), setup.plan.points.size(), c.variants.size(), setup.plan.groups.size(),
                   setup.plan.folds.empty() ? 0 : setup.plan.folds[0].size(), shape.test, shape.symbols.size(), shape.bars, setup_s, b.total_ns,
                   1e3 / b.total_ns);
      double one_worker_rate = 0;
      for (int w : workers) {
        SweepOptions so;
        so.workers = w;
        const SweepOutcome s = run_sweep(c, setup, so);
        std::size_t candles = 0;
        for (const auto& r : s.results) candles += r ? r->candles : 0;
        const double rate = static_cast<double>(s.plan.cells.size()) / s.seconds;
        const double ns_per_candle = s.seconds * 1e9 * w / static_cast<double>(candles);  // per worker
        if (w == 1) one_worker_rate = rate;
        if (o->json) {
          fmt::print("{{\"bench\":\"sweep\",\"shape\":\"{}\",\"workers\":{},\"cells\":{},\"candles\":{},\"seconds\":{:.3f},\"cells_per_second\":{:.1f},"
                     "\"ns_per_candle\":{:.1f},\"backtest_ns_per_candle\":{:.1f},\"ratio_to_backtest\":{:.3f},\"peak_rss_mb\":{:.0f}}}\n",
                     o->shape, w, s.plan.cells.size(), candles, s.seconds, rate, ns_per_candle, b.total_ns, ns_per_candle / b.total_ns, peak_rss_mb());
          continue;
        }
        fmt::print("  {} worker{}: {:.1f} s, {:.0f} cells/s, {:.0f} ns per candle per worker = {:.2f}x the backtest's (goal 1.2x){}; peak memory {:.0f} MB\n", w,
                   w == 1 ? "" : "s", s.seconds, rate, ns_per_candle, ns_per_candle / b.total_ns,
                   w > 1 && one_worker_rate > 0 ? fmt::format(", {:.2f}x one worker's throughput (goal 1.8x)", rate / one_worker_rate) : "", peak_rss_mb());
      }
      return 0;
    };
  });
}

}  // namespace onepath::cli
