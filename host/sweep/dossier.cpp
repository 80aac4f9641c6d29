#include "sweep/dossier.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/number_format.hpp"
#include "core/text_formats.hpp"
#include "core/time.hpp"
#include "run/backtest.hpp"
#include "sweep/dossier_html.hpp"
#include "core/stats.hpp"

namespace onepath {
namespace {

using json = nlohmann::json;
constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

json number(double v) { return std::isfinite(v) ? json(v) : json(); }

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// Variants against the first one, fold by fold (pairs: same point, symbols and fold).
json variant_tests(const SweepConfig& c, const SweepPlan& plan, const std::vector<std::optional<CellResult>>& results) {
  json out = json::array();
  if (c.variants.size() < 2) return out;
  std::map<std::tuple<std::size_t, std::size_t, std::size_t, std::size_t>, double> objective;  // (point, variant, group, fold)
  for (const auto& cell : plan.cells)
    if (results[cell.index] && std::isfinite(results[cell.index]->objective))
      objective[{cell.point, cell.variant, cell.group, cell.fold}] = results[cell.index]->objective;
  std::vector<PairedT> tests;
  for (std::size_t v = 1; v < c.variants.size(); ++v) {
    std::vector<double> a, b;
    for (const auto& [key, x] : objective) {
      const auto& [point, variant, group, fold] = key;
      if (variant != v) continue;
      const auto ref = objective.find({point, 0, group, fold});
      if (ref == objective.end()) continue;
      a.push_back(x), b.push_back(ref->second);
    }
    tests.push_back(paired_t_test(a, b));
  }
  std::vector<double> p;
  for (const auto& t : tests) p.push_back(t.p);
  const std::vector<double> q = benjamini_hochberg(p);
  for (std::size_t k = 0; k < tests.size(); ++k) {
    const std::string& name = c.variants[k + 1].name;
    const std::string& ref = c.variants[0].name;
    std::string verdict;
    if (std::isnan(q[k])) verdict = "no test (" + std::to_string(tests[k].n) + " paired cells)";
    else if (q[k] >= 0.05) verdict = "no difference at 5% after Benjamini-Hochberg";
    else verdict = ((tests[k].mean_diff > 0) == c.maximize ? name + " beats " + ref : ref + " beats " + name);
    out.push_back({{"variant", name}, {"against", ref}, {"pairs", tests[k].n}, {"mean_difference", number(tests[k].mean_diff)},
                   {"t", number(tests[k].t)}, {"p", number(tests[k].p)}, {"q", number(q[k])}, {"verdict", verdict}});
  }
  return out;
}

// Per-bar returns of an equity curve.
void append_returns(const std::vector<EquityPoint>& e, std::vector<double>& out) {
  for (std::size_t i = 1; i < e.size(); ++i)
    if (e[i - 1].equity > 0) out.push_back(e[i].equity / e[i - 1].equity - 1);
}

}  // namespace

std::string sweep_cells_csv(const SweepConfig& c, const SweepPlan& plan, const std::vector<std::optional<CellResult>>& results) {
  std::string out = "cell,point,variant,symbols,fold,test_start,test_end,candles,trades,objective,total_return,sharpe,max_drawdown,ledger_sha256\n";
  for (const auto& cell : plan.cells) {
    const auto& r = results[cell.index];
    if (!r) continue;
    out += fmt::format("{},{},{},{},{},{},{},{},{},", cell.index + 1, cell.point + 1, csv_field(c.variants[cell.variant].name),
                       joined(cell.symbols, "+"), cell.fold + 1, format_iso(cell.test_start), format_iso(cell.test_end), r->candles, r->metrics.trades);
    for (double v : {r->objective, r->metrics.total_return, r->metrics.sharpe, r->metrics.max_drawdown}) append_double(out, v), out += ',';
    out += r->ledger_sha256 + "\n";
  }
  return out;
}

SweepDossier build_dossier(const SweepConfig& c, const SweepSetup& setup, const std::vector<std::optional<CellResult>>& results, const DossierInfo& info) {
  const SweepPlan& plan = setup.plan;
  std::size_t recorded = 0;
  for (const auto& r : results) recorded += r.has_value();
  if (!recorded) throw InputError("sweep run " + std::to_string(info.run_id) + " has no cell recorded yet: nothing to report");
  const std::vector<RankedChoice> ranking = rank_cells(c, plan, results);
  std::size_t most_folds = 0;
  for (const auto& f : plan.folds) most_folds = std::max(most_folds, f.size());

  // The choices, ranked, with their gates.
  json choices = json::array();
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> rank_of;
  std::map<std::pair<std::size_t, std::size_t>, double> sharpe_of;  // the mean of its cells' Sharpe ratios
  {
    std::map<std::pair<std::size_t, std::size_t>, std::pair<double, std::size_t>> sums;
    for (const auto& cell : plan.cells)
      if (results[cell.index] && std::isfinite(results[cell.index]->metrics.sharpe)) {
        auto& s = sums[{cell.point, cell.variant}];
        s.first += results[cell.index]->metrics.sharpe, ++s.second;
      }
    for (const auto& [k, s] : sums) sharpe_of[k] = s.first / static_cast<double>(s.second);
  }
  for (std::size_t i = 0; i < ranking.size(); ++i) {
    const RankedChoice& r = ranking[i];
    rank_of[{r.point, r.variant}] = i + 1;
    json per_fold = json::array();
    for (double x : r.per_fold) per_fold.push_back(number(x));
    choices.push_back({{"rank", i + 1}, {"point", r.point + 1}, {"variant", c.variants[r.variant].name}, {"sets", r.sets}, {"score", number(r.score)},
                       {"mean", number(r.mean)}, {"stddev", number(r.stddev)}, {"fold_variance", number(r.fold_variance)}, {"cells", r.cells},
                       {"min_trades", r.min_trades}, {"passes", r.passes}, {"verdict", r.passes ? "keep" : r.why_not}, {"per_fold", per_fold}});
  }

  // Each swept key's importance, and a heatmap per pair of keys (the mean score of the choices
  // at each pair of levels, over the other keys and the variants).
  json importance = json::array(), heatmaps = json::array();
  {
    std::vector<const RankedChoice*> scored;
    for (const auto& r : ranking)
      if (std::isfinite(r.score)) scored.push_back(&r);
    std::vector<double> scores;
    for (const auto* r : scored) scores.push_back(r->score);
    for (std::size_t a = 0; a < c.space.size(); ++a) {
      std::vector<std::size_t> level;
      for (const auto* r : scored) level.push_back(plan.points[r->point][a]);
      importance.push_back({{"key", c.space[a].key}, {"variance_explained", number(variance_explained(scores, level))}});
    }
    if (c.variants.size() > 1) {
      std::vector<std::size_t> level;
      for (const auto* r : scored) level.push_back(r->variant);
      importance.push_back({{"key", "(variant)"}, {"variance_explained", number(variance_explained(scores, level))}});
    }
    for (std::size_t a = 0; a < c.space.size(); ++a)
      for (std::size_t b = a + 1; b < c.space.size(); ++b) {
        const std::size_t na = c.space[a].values.size(), nb = c.space[b].values.size();
        std::vector<std::vector<std::pair<double, std::size_t>>> sum(na, std::vector<std::pair<double, std::size_t>>(nb));
        for (const auto* r : scored) {
          auto& s = sum[plan.points[r->point][a]][plan.points[r->point][b]];
          s.first += r->score, ++s.second;
        }
        json rows = json::array();
        for (std::size_t i = 0; i < na; ++i) {
          json row = json::array();
          for (std::size_t j = 0; j < nb; ++j) row.push_back(sum[i][j].second ? number(sum[i][j].first / static_cast<double>(sum[i][j].second)) : json());
          rows.push_back(row);
        }
        heatmaps.push_back({{"rows", c.space[a].key}, {"columns", c.space[b].key}, {"row_values", c.space[a].values},
                            {"column_values", c.space[b].values}, {"mean_score", rows}});
      }
  }

  // The best choices' cells again: their equity, and the proof they reproduce.
  const CellRunner runner(c, setup);
  const double periods_per_year = 365.25 * 86400000.0 / static_cast<double>(setup.tf.duration_ms());
  json equity = json::array();
  std::size_t rerun = 0, reproduced = 0;
  std::vector<double> best_returns;
  std::size_t drawn = 0;
  for (const RankedChoice& r : ranking) {
    if (drawn >= info.equity_choices || !std::isfinite(r.score)) break;
    ++drawn;
    std::map<std::size_t, std::vector<const SweepCell*>> by_group;
    for (const auto& cell : plan.cells)
      if (cell.point == r.point && cell.variant == r.variant && results[cell.index]) by_group[cell.group].push_back(&cell);
    for (const auto& [group, cells] : by_group) {
      json points = json::array();
      double carry = 1;
      std::vector<std::pair<TimestampMs, double>> curve;
      for (const SweepCell* cell : cells) {  // plan order: folds ascending
        const BacktestResult b = runner.backtest(*cell);
        ++rerun;
        reproduced += ledger_sha256_of(b) == results[cell->index]->ledger_sha256;
        if (drawn == 1) append_returns(b.equity, best_returns);
        if (b.equity.empty() || !(b.equity.front().equity > 0)) continue;
        const double base = b.equity.front().equity;
        for (const auto& e : b.equity) curve.push_back({e.ts, carry * e.equity / base});
        carry = curve.back().second;
      }
      const std::size_t every = std::max<std::size_t>(1, curve.size() / 400);
      for (std::size_t i = 0; i < curve.size(); i += every) points.push_back({curve[i].first, curve[i].second});
      if (!curve.empty() && (curve.size() - 1) % every) points.push_back({curve.back().first, curve.back().second});
      equity.push_back({{"rank", drawn}, {"symbols", joined(plan.groups[group], "+")}, {"points", points}});
    }
  }

  // Overfitting guards.
  json dsr, pbo;
  {
    std::vector<double> trial_sharpes;
    for (const auto& r : ranking)
      if (std::isfinite(r.score) && sharpe_of.count({r.point, r.variant})) trial_sharpes.push_back(sharpe_of[{r.point, r.variant}] / std::sqrt(periods_per_year));
    const Moments m = moments(best_returns);
    if (trial_sharpes.size() < 2 || m.n < 3 || !(m.stddev > 0)) {
      dsr = {{"value", nullptr}, {"why", "needs at least 2 scored choices and a best choice with varying returns"}};
    } else {
      const Moments t = moments(trial_sharpes);
      const double variance = t.stddev * t.stddev * static_cast<double>(t.n) / static_cast<double>(t.n - 1);
      const double sr = m.mean / m.stddev, sr0 = expected_max_sharpe(variance, static_cast<double>(trial_sharpes.size()));
      const double value = deflated_sharpe(sr, sr0, static_cast<double>(m.n), m.skewness, m.kurtosis);
      dsr = {{"value", number(value)},
             {"trials", trial_sharpes.size()},
             {"sharpe_annualised", number(sr * std::sqrt(periods_per_year))},
             {"expected_max_sharpe_annualised", number(sr0 * std::sqrt(periods_per_year))},
             {"trial_sharpe_variance_annualised", number(variance * periods_per_year)},
             {"returns", m.n},
             {"skewness", number(m.skewness)},
             {"kurtosis", number(m.kurtosis)},
             {"verdict", std::isfinite(value) && value >= 0.95 ? "the best choice's Sharpe ratio beats the best of this many trials by luck (DSR >= 0.95)"
                                                                : "not distinguishable from the best of this many trials by luck (DSR < 0.95)"}};
    }
    // Blocks: the folds (an odd count drops the oldest), merged to at most 16 when there are
    // more; at least 4 (6 splits).
    std::vector<const RankedChoice*> complete;
    for (const auto& r : ranking) {
      bool all = std::isfinite(r.score) && r.per_fold.size() == most_folds;
      for (double x : r.per_fold) all = all && std::isfinite(x);
      if (all) complete.push_back(&r);
    }
    const std::size_t first = most_folds % 2, usable = most_folds - first, blocks = std::min<std::size_t>(usable, 16) & ~std::size_t{1};
    if (blocks < 4 || complete.size() < 2) {  // 2 blocks make 2 splits: no distribution to speak of
      pbo = {{"value", nullptr}, {"why", "needs at least 4 folds and 2 choices run on every fold (have " + std::to_string(most_folds) + " folds, " +
                                             std::to_string(complete.size()) + " such choices)"}};
    } else {
      std::vector<std::vector<double>> perf(blocks, std::vector<double>(complete.size(), 0));
      std::vector<std::size_t> per_block(blocks, 0);
      for (std::size_t f = first; f < most_folds; ++f) ++per_block[(f - first) * blocks / usable];
      for (std::size_t n = 0; n < complete.size(); ++n)
        for (std::size_t f = first; f < most_folds; ++f) {
          const std::size_t b = (f - first) * blocks / usable;
          perf[b][n] += complete[n]->per_fold[f] / static_cast<double>(per_block[b]);
        }
      const Pbo p = cscv_pbo(perf, c.maximize);
      pbo = {{"value", p.pbo}, {"blocks", blocks}, {"splits", p.splits}, {"choices", complete.size()},
             {"verdict", p.pbo <= 0.5 ? "the in-sample best tends to stay above the median out of sample" : "overfit: the in-sample best falls below the median out of sample more often than not"}};
    }
  }

  std::size_t passing = 0;
  for (const auto& r : ranking) passing += r.passes;
  json doc = {{"run", info.run_id},
              {"status", info.status},
              {"sweep", c.path},
              {"objective", c.objective},
              {"direction", c.maximize ? "max" : "min"},
              {"cells_planned", plan.cells.size()},
              {"cells_recorded", recorded},
              {"choices", choices.size()},
              {"choices_passing", passing},
              {"constraints", {{"min_trades_per_fold", c.min_trades_per_fold}, {"max_fold_variance", c.max_fold_variance >= 0 ? json(c.max_fold_variance) : json()}}},
              {"ranking", choices},
              {"importance", importance},
              {"heatmaps", heatmaps},
              {"variant_tests", variant_tests(c, plan, results)},
              {"deflated_sharpe", dsr},
              {"pbo", pbo},
              {"equity", equity},
              {"rerun", {{"cells", rerun}, {"reproduced", reproduced}}}};

  SweepDossier d;
  d.json = doc.dump(2) + "\n";
  d.cells_csv = sweep_cells_csv(c, plan, results);
  d.choices_csv = "rank,variant,sets," + c.objective + ",mean,stddev,fold_variance,min_trades,verdict";
  for (std::size_t f = 0; f < most_folds; ++f) d.choices_csv += ",fold_" + std::to_string(f + 1);
  d.choices_csv += "\n";
  for (std::size_t i = 0; i < ranking.size(); ++i) {
    const RankedChoice& r = ranking[i];
    d.choices_csv += fmt::format("{},{},{},", i + 1, csv_field(c.variants[r.variant].name), csv_field(joined(r.sets, " ")));
    for (double v : {r.score, r.mean, r.stddev, r.fold_variance}) append_double(d.choices_csv, v), d.choices_csv += ',';
    d.choices_csv += std::to_string(r.min_trades) + "," + csv_field(r.passes ? "keep" : r.why_not);
    for (std::size_t f = 0; f < most_folds; ++f) d.choices_csv += ",", append_double(d.choices_csv, f < r.per_fold.size() ? r.per_fold[f] : kMissing);
    d.choices_csv += "\n";
  }
  d.html = render_dossier_html(doc);
  auto verdict_line = [](const json& j, const char* name) {
    return j.at("value").is_null() ? std::string(name) + ": " + j.at("why").get<std::string>()
                                   : std::string(name) + " " + format_short(j.at("value").get<double>()) + ": " + j.at("verdict").get<std::string>();
  };
  d.summary.push_back(fmt::format("{} of {} cells recorded; {} choices, {} pass the constraints", recorded, plan.cells.size(), ranking.size(), passing));
  d.summary.push_back(verdict_line(dsr, "deflated Sharpe ratio"));
  d.summary.push_back(verdict_line(pbo, "PBO (CSCV)"));
  for (const auto& t : doc.at("variant_tests")) d.summary.push_back("variant " + t.at("variant").get<std::string>() + " vs " + t.at("against").get<std::string>() + ": " + t.at("verdict").get<std::string>());
  d.summary.push_back(fmt::format("the best {} choices' {} cells run again: {} reproduced their recorded ledgers", drawn, rerun, reproduced));
  return d;
}

}  // namespace onepath
