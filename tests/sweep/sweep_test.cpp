// onepath sweep: the [sweep] reader, the points of each search, the folds, and the promise
// that a cell is a backtest: its metrics and ledger equal `onepath backtest` run alone with
// the same keys on the same window, bit for bit, whatever the number of workers.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/state_archive.hpp"
#include "core/time.hpp"
#include "data/candle_io.hpp"
#include "data/synth.hpp"
#include "run/backtest.hpp"
#include "infer/train.hpp"
#include "lua/runtime.hpp"
#include "run/run_config.hpp"
#include "sweep/dossier.hpp"
#include "sweep/run_sweep.hpp"

using namespace onepath;

namespace {

namespace fs = std::filesystem;
const std::string kSource = ONEPATH_SOURCE_DIR;

struct Project {
  fs::path dir = fs::temp_directory_path() / ("onepath-sweep-test-" + std::to_string(::getpid()));
  Project() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    SynthOptions g;
    g.symbols = {preset_symbol("BTC", 1), preset_symbol("ETH", 0.8)};
    g.bars = 3000;
    g.seed = 21;
    g.start_ms = 1709251200000;
    g.scenario = Scenario::volatile_market;
    for (const auto& s : generate_market(g)) std::ofstream(dir / (s.symbol + ".csv")) << to_csv(s);  // with gaps
    write("RUN.toml", "[data]\nfiles = { BTC = \"BTC.csv\", ETH = \"ETH.csv\" }\ntimeframe = \"15m\"\n[strategy]\nscript = \"" + kSource +
                          "/scripts/strategies/ema_crossover.lua\"\n[strategy.params]\nfast = 5\nslow = 20\n"
                          "[[filters]]\nkind = \"cooldown\"\nbars = 2\n[output]\ndb = \"\"\n");
  }
  ~Project() { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
  std::string sweep(const std::string& body) const { return write("SWEEP.toml", "[sweep]\nrun = \"RUN.toml\"\n" + body); }
};

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void require_same_metrics(const Metrics& a, const Metrics& b) {
  for (auto [x, y] : {std::pair{a.final_equity, b.final_equity}, {a.total_return, b.total_return}, {a.sharpe, b.sharpe}, {a.sortino, b.sortino},
                      {a.max_drawdown, b.max_drawdown}, {a.calmar, b.calmar}, {a.profit_factor, b.profit_factor}, {a.fees, b.fees}})
    REQUIRE(same_bits(x, y));
  REQUIRE(a.trades == b.trades);
}

std::string ledger(const BacktestResult& r) {
  StateWriter w;
  w(r.trades);
  w(r.equity);
  return sha256_hex(w.bytes());
}

}  // namespace

TEST_CASE("sweep config: lists, ranges, log ranges, variants and folds are read, and mistakes name the file and the key") {
  Project p;
  const SweepConfig c = load_sweep_config(p.sweep(
      "symbols = \"all\"\nobjective = \"sortino\"\naggregate = \"worst\"\nworkers = 2\n"
      "[sweep.space]\n\"strategy.params.fast\" = [3, 5]\n\"strategy.params.slow\" = { from = 10, to = 30, step = 10 }\n"
      "\"execution.slippage_bps\" = { log_from = 1, log_to = 100, count = 3 }\n\"execution.taker_fee_bps\" = { from = 0.5, to = 1.0, step = 0.25 }\n"
      "[sweep.variants.plain]\n[sweep.variants.slow_cooldown]\n\"filters.0.bars\" = 8\n"
      "[sweep.folds]\nmode = \"anchored\"\ntrain = 100\ntest = 50\npurge = 4\n"));
  CHECK(c.run_path == (p.dir / "RUN.toml").string());
  REQUIRE(c.space.size() == 4);  // in key order: TOML tables have no other
  CHECK(c.space[0].key == "execution.slippage_bps");
  CHECK(c.space[0].values == std::vector<std::string>{"1.0", "10.0", "100.0"});
  CHECK(c.space[1].values == std::vector<std::string>{"0.5", "0.75", "1.0"});
  CHECK(c.space[2].values == std::vector<std::string>{"3", "5"});
  CHECK(c.space[3].values == std::vector<std::string>{"10", "20", "30"});
  REQUIRE(c.variants.size() == 2);
  CHECK(c.variants[1].sets == std::vector<std::string>{"filters.0.bars=8"});
  CHECK_FALSE(c.each_symbol);
  CHECK(c.objective == "sortino");
  CHECK(c.aggregate == SweepConfig::Aggregate::worst);
  CHECK(c.folds.anchored);
  CHECK(c.folds.step == 50);  // the test window, unless given
  CHECK(c.workers == 2);

  auto refused = [&](const std::string& body, const std::string& says) {
    CAPTURE(body);
    CHECK_THROWS_WITH_AS(load_sweep_config(p.sweep(body)), doctest::Contains(says.c_str()), InputError);
  };
  refused("objective = \"luck\"\n", "'sweep.objective' must be one of sharpe");
  refused("serch = \"grid\"\n", "unknown key 'sweep.serch'");
  refused("search = \"random\"\n", "'sweep.trials' must be the number of points");
  refused("[sweep.space]\n\"strategy.params.fast\" = { from = 5, to = 1, step = 1 }\n", "a range needs from <= to");
  refused("[sweep.folds]\ntest = 0\n", "'sweep.folds.test' must be a whole number from 1");
  CHECK_THROWS_WITH_AS(load_sweep_config(p.write("bad.toml", "[sweep]\nrun = \"nowhere.toml\"\n")), doctest::Contains("no such file"), InputError);
  // The data is read once: a cell cannot change it.
  CHECK_THROWS_WITH_AS(run_sweep(load_sweep_config(p.sweep("[sweep.space]\n\"data.timeframe\" = [\"15m\", \"1h\"]\n"))),
                       doctest::Contains("cannot change [data]"), InputError);
}

TEST_CASE("sweep points: a grid in key order, a random draw the same for a seed, distinct and inside the space") {
  SweepConfig c;
  c.space = {{"a", {"1", "2", "3"}}, {"b", {"x", "y"}}};
  const auto grid = sweep_points(c);
  REQUIRE(grid.size() == 6);
  CHECK(grid[0] == SweepPoint{0, 0});
  CHECK(grid[1] == SweepPoint{0, 1});  // the last axis turns fastest
  CHECK(grid[5] == SweepPoint{2, 1});
  c.search = SweepConfig::Search::random;
  c.trials = 4;
  c.seed = 7;
  const auto a = sweep_points(c), b = sweep_points(c);
  CHECK(a == b);
  CHECK(a.size() == 4);
  CHECK(std::set<SweepPoint>(a.begin(), a.end()).size() == 4);
  for (const auto& pt : a) CHECK((pt[0] < 3 && pt[1] < 2));
  c.seed = 8;
  CHECK(sweep_points(c) != a);
  c.trials = 100;  // more than there are: every point once
  CHECK(sweep_points(c).size() == 6);
}

TEST_CASE("sweep folds: rolling and anchored windows in bars, the purge between train and test, never past the data") {
  FoldSpec f;
  f.train = 100, f.test = 50, f.step = 50, f.purge = 5;
  auto w = sweep_folds(f, 300);
  REQUIRE(w.size() == 3);  // tests [105,155) [155,205) [205,255); the next would end at 305
  CHECK(w[0].train_begin == 0);
  CHECK(w[0].train_end == 100);
  CHECK(w[0].test_begin == 105);
  CHECK(w[0].test_end == 155);
  CHECK(w[2].train_begin == 100);
  CHECK(w[2].test_end == 255);
  for (const auto& x : w) CHECK(x.test_begin - x.train_end == 5);
  f.anchored = true;
  w = sweep_folds(f, 300);
  CHECK(w[2].train_begin == 0);
  CHECK(w[2].train_end == 200);
  f.count = 2;
  CHECK(sweep_folds(f, 300).size() == 2);
  CHECK_THROWS_WITH_AS(sweep_folds(f, 120), doctest::Contains("not one fold fits in 120 bars"), InputError);
  CHECK(sweep_folds(FoldSpec{}, 77).at(0).test_end == 77);  // no folds: one, every bar
}

TEST_CASE("a sweep cell is a backtest: sampled cells of a grid, a random search and successive halving equal onepath backtest alone, bit for bit, with 1 or 2 workers") {
  Project p;
  for (const char* search : {"search = \"grid\"\n", "search = \"random\"\ntrials = 5\nseed = 3\n", "search = \"halving\"\neta = 2\n"}) {
    CAPTURE(search);
    const SweepConfig c = load_sweep_config(p.sweep(std::string(search) +
                                                    "[sweep.space]\n\"strategy.params.fast\" = [3, 5, 8]\n\"strategy.params.slow\" = { from = 13, to = 21, step = 8 }\n"
                                                    "[sweep.variants.base]\n[sweep.variants.long_cooldown]\n\"filters.0.bars\" = 6\n"
                                                    "[sweep.folds]\ntrain = 500\ntest = 700\npurge = 10\n"));
    SweepOptions one, two;
    one.workers = 1, two.workers = 2;
    const SweepOutcome a = run_sweep(c, one), b = run_sweep(c, two);
    REQUIRE(a.plan.cells.size() == b.plan.cells.size());
    CHECK(a.plan.cells.size() == a.plan.points.size() * 2 * 2 * a.plan.folds[0].size());
    const bool halving = std::string(search).find("halving") != std::string::npos;
    for (std::size_t i = 0; i < a.plan.cells.size(); ++i) {
      REQUIRE(a.results[i].has_value() == b.results[i].has_value());
      if (halving && !a.results[i]) continue;  // a choice dropped at an earlier rung
      REQUIRE(a.results[i]);
      CHECK(a.results[i]->ledger_sha256 == b.results[i]->ledger_sha256);
      require_same_metrics(a.results[i]->metrics, b.results[i]->metrics);
    }
    // Cells alone: `onepath backtest RUN.toml --set <the cell's keys> --set data.files=<its symbol> --set data.start/end=<its test window>`.
    for (std::size_t i = 0; i < a.plan.cells.size(); i += 5) {
      if (!a.results[i]) continue;
      const SweepCell& cell = a.plan.cells[i];
      CAPTURE(cell.key());
      std::vector<std::string> sets = cell.sets;
      sets.push_back("data.files={ " + cell.symbols[0] + " = \"" + cell.symbols[0] + ".csv\" }");
      sets.push_back("data.start=\"" + format_iso(cell.test_start) + "\"");
      sets.push_back("data.end=\"" + format_iso(cell.test_end) + "\"");
      const BacktestResult alone = run_backtest(load_run_config((p.dir / "RUN.toml").string(), sets));
      CHECK(alone.candles == a.results[i]->candles);
      require_same_metrics(alone.metrics, a.results[i]->metrics);
      CHECK(ledger(alone) == a.results[i]->ledger_sha256);
    }
    CHECK_FALSE(a.ranking.empty());
    CHECK(a.ranking.size() == a.plan.points.size() * 2);
    std::size_t ran = 0;
    for (const auto& r : a.results) ran += r.has_value();
    CHECK((halving ? ran < a.plan.cells.size() : ran == a.plan.cells.size()));
  }
}

TEST_CASE("sweep ranking: the objective aggregated over cells, best first, and a constraint that fails ranks a choice last with the reason") {
  SweepConfig c;
  c.space = {{"k", {"1", "2"}}};
  c.variants = {{"base", {}}};
  c.objective = "sharpe";
  c.min_trades_per_fold = 10;
  SweepPlan plan;
  plan.points = {{0}, {1}};
  std::vector<std::optional<CellResult>> results;
  const double sharpe[4] = {1.0, 3.0, 2.5, 2.5};
  const std::int64_t trades[4] = {12, 11, 9, 30};
  for (std::size_t i = 0; i < 4; ++i) {
    SweepCell cell;
    cell.index = i, cell.point = i / 2, cell.fold = i % 2;
    plan.cells.push_back(cell);
    CellResult r;
    r.cell = i, r.objective = sharpe[i], r.metrics.trades = trades[i];
    results.push_back(r);
  }
  auto ranked = rank_cells(c, plan, results);
  REQUIRE(ranked.size() == 2);
  CHECK(ranked[0].point == 0);  // point 1's mean (2.5) beats point 0's (2.0), but a fold of it has 9 trades
  CHECK(ranked[0].score == 2.0);
  CHECK(ranked[0].stddev == doctest::Approx(1.41421356));
  CHECK_FALSE(ranked[1].passes);
  CHECK(ranked[1].why_not == "a fold has 9 trades, fewer than min_trades_per_fold = 10");
  c.min_trades_per_fold = 0;
  c.aggregate = SweepConfig::Aggregate::worst;
  ranked = rank_cells(c, plan, results);
  CHECK(ranked[0].point == 1);  // worst 2.5 against worst 1.0
  CHECK(ranked[0].score == 2.5);
}

TEST_CASE("--set reaches into a list of tables by index: filters.0.bars") {
  Project p;
  const RunConfig c = load_run_config((p.dir / "RUN.toml").string(), {"filters.0.bars=9"});
  REQUIRE(c.session.filters.size() == 1);
  CHECK(c.session.filters[0].value == 9);
  CHECK_THROWS_WITH_AS(load_run_config((p.dir / "RUN.toml").string(), {"filters.3.bars=9"}), doctest::Contains("the list has 1 entries"), InputError);
  CHECK_THROWS_WITH_AS(load_run_config((p.dir / "RUN.toml").string(), {"filters.bars=9"}), doctest::Contains("name an entry by its index"), InputError);
}

TEST_CASE("successive halving: every choice on the first fold, the best third on three, the winner on all, the same with 1 or 2 workers") {
  Project p;
  const SweepConfig c = load_sweep_config(p.sweep("search = \"halving\"\neta = 3\n"
                                                  "[sweep.space]\n\"strategy.params.fast\" = [3, 4, 5]\n\"strategy.params.slow\" = [10, 15, 20]\n"
                                                  "[sweep.folds]\ntrain = 0\ntest = 250\n"));
  SweepOptions one, two;
  one.workers = 1, two.workers = 2;
  const SweepOutcome a = run_sweep(c, one), b = run_sweep(c, two);
  const std::size_t folds = a.plan.folds[0].size(), groups = a.plan.groups.size();
  REQUIRE(folds > 9);  // more than eta x eta: the last one left still runs every fold
  CHECK(a.ran < a.plan.cells.size());  // not the whole grid
  CHECK(a.ran == b.ran);
  for (std::size_t i = 0; i < a.results.size(); ++i) {
    REQUIRE(a.results[i].has_value() == b.results[i].has_value());
    if (a.results[i]) CHECK(a.results[i]->ledger_sha256 == b.results[i]->ledger_sha256);
  }
  REQUIRE(a.ranking.size() == 9);
  CHECK(a.ranking[0].cells == groups * folds);  // the winner ran every fold
  CHECK(a.ranking[0].point == b.ranking[0].point);
  // Rung 0: every choice on fold 0. The three that went on are the best three there.
  std::vector<std::optional<CellResult>> first(a.results.size());
  for (const auto& cell : a.plan.cells)
    if (cell.fold == 0) first[cell.index] = a.results[cell.index];
  const auto rung0 = rank_cells(c, a.plan, first);
  std::set<std::size_t> best3 = {rung0[0].point, rung0[1].point, rung0[2].point}, went_on;
  for (const auto& r : a.ranking)
    if (r.cells >= groups * 3) went_on.insert(r.point);
  CHECK(went_on == best3);
  std::size_t on_one_fold = 0;
  for (const auto& r : a.ranking) on_one_fold += r.cells == groups;
  CHECK(on_one_fold == 6);
}

TEST_CASE("the per-fold variance gate abandons an unstable choice, with the reason") {
  SweepConfig c;
  c.space = {{"k", {"1", "2"}}};
  c.variants = {{"base", {}}};
  c.objective = "sharpe";
  c.max_fold_variance = 0.05;  // seed 002
  SweepPlan plan;
  plan.points = {{0}, {1}};
  plan.folds = {{{}, {}, {}}};
  std::vector<std::optional<CellResult>> results;
  const double sharpe[6] = {1.0, 1.1, 1.2, 3.0, 0.0, 2.0};  // point 0: variance 0.01; point 1: variance 2.333
  for (std::size_t i = 0; i < 6; ++i) {
    SweepCell cell;
    cell.index = i, cell.point = i / 3, cell.fold = i % 3;
    plan.cells.push_back(cell);
    CellResult r;
    r.cell = i, r.objective = sharpe[i], r.metrics.trades = 50;
    results.push_back(r);
  }
  const auto ranked = rank_cells(c, plan, results);
  REQUIRE(ranked.size() == 2);
  CHECK(ranked[0].point == 0);
  CHECK(ranked[0].fold_variance == doctest::Approx(0.01));
  CHECK(ranked[0].passes);
  CHECK(ranked[1].fold_variance == doctest::Approx(7.0 / 3));
  CHECK_FALSE(ranked[1].passes);
  CHECK(ranked[1].why_not.starts_with("abandon: sharpe varies across folds by 2.333"));
  REQUIRE(ranked[1].per_fold.size() == 3);
  CHECK(ranked[1].per_fold[2] == 2.0);
}

TEST_CASE("the dossier: heatmaps and importance equal plain loops over the ranking, a costly variant loses its paired test, the best cells reproduce") {
  Project p;
  const SweepConfig c = load_sweep_config(p.sweep(
      "objective = \"total_return\"\n[sweep.space]\n\"strategy.params.fast\" = [4, 6, 8]\n\"strategy.params.slow\" = [20, 30]\n"
      "[sweep.variants.free]\n\"execution.slippage_bps\" = 0\n[sweep.variants.costly]\n\"execution.slippage_bps\" = 40\n"
      "[sweep.folds]\ntrain = 0\ntest = 500\n"));
  const SweepSetup setup = prepare_sweep(c);
  SweepOptions o;
  o.workers = 2;
  const SweepOutcome s = run_sweep(c, setup, o);
  DossierInfo info;
  info.run_id = 9, info.status = "complete", info.equity_choices = 2;
  const SweepDossier d = build_dossier(c, setup, s.results, info);
  const auto j = nlohmann::json::parse(d.json);
  CHECK(j.at("cells_recorded") == s.plan.cells.size());
  REQUIRE(j.at("ranking").size() == s.ranking.size());
  CHECK(j.at("ranking")[0].at("sets") == s.ranking[0].sets);
  // Heatmap fast x slow: each entry is the mean score of the choices at those levels.
  REQUIRE(j.at("heatmaps").size() == 1);
  for (std::size_t a = 0; a < 3; ++a)
    for (std::size_t b = 0; b < 2; ++b) {
      double sum = 0;
      int n = 0;
      for (const auto& r : s.ranking)
        if (s.plan.points[r.point][0] == a && s.plan.points[r.point][1] == b) sum += r.score, ++n;
      CHECK(j.at("heatmaps")[0].at("mean_score")[a][b].get<double>() == doctest::Approx(sum / n));
    }
  // Importance of the variant: between-variant sum of squares over the total, by hand.
  double mean = 0, v_mean[2] = {0, 0};
  for (const auto& r : s.ranking) mean += r.score / 12, v_mean[r.variant] += r.score / 6;
  double total = 0;
  for (const auto& r : s.ranking) total += (r.score - mean) * (r.score - mean);
  const double between = 6 * ((v_mean[0] - mean) * (v_mean[0] - mean) + (v_mean[1] - mean) * (v_mean[1] - mean));
  REQUIRE(j.at("importance").size() == 3);
  CHECK(j.at("importance")[2].at("key") == "(variant)");
  CHECK(j.at("importance")[2].at("variance_explained").get<double>() == doctest::Approx(between / total));
  // 40 bps of slippage on every fill: the costly variant is worse on every paired cell that
  // trades. Variants are in key order, so "costly" is the reference.
  REQUIRE(j.at("variant_tests").size() == 1);
  const auto& t = j.at("variant_tests")[0];
  CHECK(t.at("variant") == "free");
  CHECK(t.at("against") == "costly");
  CHECK(t.at("mean_difference").get<double>() > 0);
  CHECK(t.at("q").get<double>() < 0.05);
  CHECK(t.at("verdict") == "free beats costly");
  // The best two choices' cells, run again, give the ledgers they recorded.
  CHECK(j.at("rerun").at("cells").get<std::size_t>() == 2 * 2 * (s.plan.cells.size() / 12 / 2));
  CHECK(j.at("rerun").at("reproduced") == j.at("rerun").at("cells"));
  CHECK(j.at("equity").size() == 4);  // 2 choices x 2 symbols
  CHECK(j.at("pbo").at("value").is_number());
  CHECK(j.at("deflated_sharpe").at("trials") == 12);
  CHECK(d.html.find("<h2>Heatmaps</h2>") != std::string::npos);
  CHECK(d.choices_csv.starts_with("rank,variant,sets,total_return,mean,stddev,fold_variance,min_trades,verdict,fold_1,"));
}

TEST_CASE("a cell whose strategy fails stops the sweep with that script error, from a worker process as from one") {
  Project p;
  p.write("fails.lua",
          "local S = {}\nS.params = { fast = 5 }\nS.features = { { name = 'e', kind = 'ema', period = 5 } }\n"
          "function S.on_bar(ctx, bar, f)\n  if S.params.fast == 7 and bar.close > 0 then error('fast 7 is not allowed') end\nend\nreturn S\n");
  p.write("RUN.toml", "[data]\nfiles = { BTC = \"BTC.csv\", ETH = \"ETH.csv\" }\ntimeframe = \"15m\"\n[strategy]\nscript = \"fails.lua\"\n[output]\ndb = \"\"\n");
  const SweepConfig c = load_sweep_config(p.sweep("[sweep.space]\n\"strategy.params.fast\" = [5, 6, 7, 8]\n"));
  for (int workers : {1, 2}) {
    SweepOptions o;
    o.workers = workers;
    std::size_t recorded = 0;
    o.on_cell = [&](const SweepCell&, const CellResult&) { ++recorded; };
    CHECK_THROWS_AS(run_sweep(c, o), ScriptError);
    CHECK(recorded < 8);
    try {
      run_sweep(c, o);
    } catch (const ScriptError& e) {
      CHECK(std::string(e.what()).find("fast 7 is not allowed") != std::string::npos);
    }
  }
}

TEST_CASE("a sweep of a config that trains: each fold trains on its train window only, and a cell equals onepath train + backtest on its windows") {
  Project p;
  p.write("RUN.toml", "[data]\nfiles = { BTC = \"BTC.csv\", ETH = \"ETH.csv\" }\ntimeframe = \"15m\"\n[strategy]\nsignal = \"" + kSource +
                          "/scripts/signals/ml_threshold_up.lua\"\nscripts_root = \"" + kSource +
                          "/scripts\"\n[strategy.params]\nenter = 0.3\n[train]\nfeatures = \"" + kSource +
                          "/scripts/features/ml_basic.lua\"\nout = \"unused.json\"\nlabel = \"triple_barrier\"\nhorizon = 8\nstop_pct = 0.02\n"
                          "take_pct = 0.03\nfolds = 2\nrounds = 15\nmax_depth = 3\nseed = 5\n[output]\ndb = \"\"\n");
  const SweepConfig c = load_sweep_config(p.sweep(
      "[sweep.space]\n\"strategy.params.enter\" = [0.25, 0.4]\n\"train.max_depth\" = [2, 3]\n"
      "[sweep.folds]\ntrain = 1200\ntest = 700\npurge = 16\n"));
  SweepOptions o;
  o.workers = 2;
  const SweepOutcome s = run_sweep(c, o);
  REQUIRE(s.plan.cells.size() == 4 * 2 * s.plan.folds[0].size());
  std::int64_t traded = 0;
  for (const auto& r : s.results) traded += r->metrics.trades;
  CHECK(traded > 0);  // the models' scores reach the strategy
  for (std::size_t i = 0; i < s.plan.cells.size(); i += 3) {
    const SweepCell& cell = s.plan.cells[i];
    CAPTURE(cell.key());
    REQUIRE(s.results[i]);
    REQUIRE(cell.train_end > cell.train_start);
    // Alone: `onepath train --set train.start/end=<the train window>` with the cell's keys, then
    // `onepath backtest --set data.start/end=<the test window> --set strategy.params.model=<that model>`.
    std::vector<std::string> sets = cell.sets;
    sets.push_back("data.files={ " + cell.symbols[0] + " = \"" + cell.symbols[0] + ".csv\" }");
    const std::string model = (p.dir / ("alone" + std::to_string(i) + ".json")).string();
    std::vector<std::string> train_sets = sets;
    train_sets.push_back("train.start=\"" + format_iso(cell.train_start) + "\"");
    train_sets.push_back("train.end=\"" + format_iso(cell.train_end) + "\"");
    train_sets.push_back("train.out=\"" + model + "\"");
    RunConfig tc = load_run_config((p.dir / "RUN.toml").string(), train_sets);
    tc.start = tc.train.start, tc.end = tc.train.end;
    TrainInput in;
    in.market = load_market(tc, in.timeframe);
    in.same_bar = tc.session.execution.same_bar;
    train_model(tc.train, in);
    // No row, label or feature of the test window reached training: the model's last row is
    // before the train window's end (its labels' horizon inside it), the purge before the test.
    const auto manifest = nlohmann::json::parse(read_file((p.dir / ("alone" + std::to_string(i) + ".manifest.json")).string()));
    const TimestampMs last_row = parse_timestamp(manifest.at("training_window").at("end").get<std::string>());
    CHECK(last_row < cell.train_end);
    CHECK(cell.train_end + 16 * 15 * 60000 <= cell.test_start);
    CHECK(in.market[0].ts.back() < cell.test_start);
    sets.push_back("data.start=\"" + format_iso(cell.test_start) + "\"");
    sets.push_back("data.end=\"" + format_iso(cell.test_end) + "\"");
    sets.push_back("strategy.params.model=\"" + model + "\"");
    const BacktestResult alone = run_backtest(load_run_config((p.dir / "RUN.toml").string(), sets));
    CHECK(alone.candles == s.results[i]->candles);
    require_same_metrics(alone.metrics, s.results[i]->metrics);
    CHECK(ledger(alone) == s.results[i]->ledger_sha256);
  }
  const auto no_train_window = load_sweep_config(p.sweep("[sweep.space]\n\"train.max_depth\" = [2, 3]\n"));
  CHECK_THROWS_WITH_AS(run_sweep(no_train_window), doctest::Contains("each fold needs a train window"), InputError);
}

TEST_CASE("cells that differ only in filters share their feature rows: the second replays the first's, and both equal their sweep's results") {
  Project p;
  const SweepConfig c = load_sweep_config(p.sweep("[sweep.space]\n\"strategy.params.fast\" = [3, 5]\n"
                                                  "[sweep.variants.base]\n[sweep.variants.long_cooldown]\n\"filters.0.bars\" = 6\n"
                                                  "[sweep.folds]\ntrain = 500\ntest = 700\npurge = 10\n"));
  const SweepSetup setup = prepare_sweep(c);
  const SweepOutcome swept = run_sweep(c, setup);
  const CellRunner runner(c, setup);
  // The same point, symbol and fold under both variants, then another point (other features).
  auto find = [&](std::size_t point, std::size_t variant) {
    for (const auto& cell : setup.plan.cells)
      if (cell.point == point && cell.variant == variant && cell.group == 1 && cell.fold == 1) return cell;
    FAIL("no such cell");
    return SweepCell{};
  };
  const SweepCell base = find(0, 0), cooldown = find(0, 1), other = find(1, 1);
  const CellResult a = runner.run(base);
  CHECK(runner.features_replayed() == 0);
  const CellResult b = runner.run(cooldown);
  CHECK(runner.features_replayed() == 1);
  const CellResult x = runner.run(other);
  CHECK(runner.features_replayed() == 1);
  for (const auto& [cell, r] : {std::pair{base, a}, {cooldown, b}, {other, x}}) {
    REQUIRE(swept.results[cell.index]);
    CHECK(r.ledger_sha256 == swept.results[cell.index]->ledger_sha256);
    require_same_metrics(r.metrics, swept.results[cell.index]->metrics);
  }
  CHECK(a.ledger_sha256 != b.ledger_sha256);  // the cooldown changed the trades, not the features
}
