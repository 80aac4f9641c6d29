#include "sweep/plan.hpp"

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "core/time.hpp"

namespace onepath {

std::vector<SweepPoint> sweep_points(const SweepConfig& c) {
  std::vector<SweepPoint> out;
  if (c.space.empty()) return {SweepPoint{}};
  if (c.search == SweepConfig::Search::grid || (c.search == SweepConfig::Search::halving && c.trials == 0)) {
    double total = 1;
    for (const auto& a : c.space) total *= static_cast<double>(a.values.size());
    if (total > 10'000'000) throw InputError(c.path + ": the grid has " + std::to_string(static_cast<long long>(total)) + " points; at most 10 000 000 (search = \"random\" draws some)");
    SweepPoint p(c.space.size(), 0);
    for (;;) {  // the last axis turns fastest, like nested loops over the keys in sorted order
      out.push_back(p);
      std::size_t k = c.space.size();
      while (k > 0 && ++p[k - 1] == c.space[k - 1].values.size()) p[--k] = 0;
      if (k == 0) break;
    }
    return out;
  }
  // random: each draw independent of the others and of any worker, distinct points only
  Rng rng(c.seed);
  std::set<SweepPoint> seen;
  for (std::size_t tries = 0; out.size() < c.trials && tries < c.trials * 50; ++tries) {
    SweepPoint p;
    for (const auto& a : c.space) p.push_back(static_cast<std::size_t>(rng.below(a.values.size())));
    if (seen.insert(p).second) out.push_back(std::move(p));
  }
  return out;
}

std::vector<FoldWindow> sweep_folds(const FoldSpec& f, std::size_t bars) {
  if (f.test == 0) return {FoldWindow{0, 0, 0, bars}};
  std::vector<FoldWindow> out;
  for (std::size_t k = 0; f.count == 0 || out.size() < f.count; ++k) {
    FoldWindow w;
    w.train_begin = f.anchored ? 0 : k * f.step;
    w.train_end = k * f.step + f.train;
    w.test_begin = w.train_end + f.purge;
    w.test_end = w.test_begin + f.test;
    if (w.test_end > bars) break;
    out.push_back(w);
  }
  if (out.empty())
    throw InputError("sweep.folds: not one fold fits in " + std::to_string(bars) + " bars (train " + std::to_string(f.train) + " + purge " +
                     std::to_string(f.purge) + " + test " + std::to_string(f.test) + ")");
  return out;
}

std::vector<std::string> point_sets(const SweepConfig& c, const SweepPoint& p) {
  std::vector<std::string> sets;
  for (std::size_t k = 0; k < c.space.size(); ++k) sets.push_back(c.space[k].key + "=" + c.space[k].values[p[k]]);
  return sets;
}

std::string SweepCell::key() const {
  std::string s;
  for (const auto& x : symbols) s += (s.empty() ? "" : "+") + x;
  return "point " + std::to_string(point + 1) + ", variant " + std::to_string(variant + 1) + ", " + s + ", fold " + std::to_string(fold + 1);
}

SweepPlan plan_sweep(const SweepConfig& c, const std::vector<CandleSeries>& market) {
  SweepPlan plan;
  plan.points = sweep_points(c);
  // Groups and their bars: a symbol's own candles, or every time slice of the market.
  std::vector<std::vector<TimestampMs>> times;
  if (c.each_symbol) {
    for (const auto& s : market) plan.groups.push_back({s.symbol}), times.push_back(s.ts);
  } else {
    std::vector<std::string> all;
    std::vector<TimestampMs> ts;
    for (const auto& s : market) all.push_back(s.symbol), ts.insert(ts.end(), s.ts.begin(), s.ts.end());
    std::sort(ts.begin(), ts.end());
    ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
    plan.groups.push_back(all), times.push_back(std::move(ts));
  }
  for (std::size_t g = 0; g < plan.groups.size(); ++g) {
    try {
      plan.folds.push_back(sweep_folds(c.folds, times[g].size()));
    } catch (const InputError& e) {
      throw InputError(c.path + ": " + plan.groups[g][0] + (c.each_symbol ? "" : " and the rest") + ": " + e.what());
    }
  }
  for (std::size_t p = 0; p < plan.points.size(); ++p)
    for (std::size_t v = 0; v < c.variants.size(); ++v)
      for (std::size_t g = 0; g < plan.groups.size(); ++g)
        for (std::size_t f = 0; f < plan.folds[g].size(); ++f) {
          SweepCell cell;
          cell.index = plan.cells.size();
          cell.point = p, cell.variant = v, cell.group = g, cell.fold = f;
          cell.sets = point_sets(c, plan.points[p]);
          cell.sets.insert(cell.sets.end(), c.variants[v].sets.begin(), c.variants[v].sets.end());
          cell.symbols = plan.groups[g];
          const FoldWindow& w = plan.folds[g][f];
          cell.test_start = times[g][w.test_begin];
          cell.test_end = w.test_end < times[g].size() ? times[g][w.test_end] : times[g].back() + 1;
          if (w.train_end > w.train_begin) cell.train_start = times[g][w.train_begin], cell.train_end = times[g][w.train_end];
          plan.cells.push_back(std::move(cell));
        }
  return plan;
}

}  // namespace onepath
