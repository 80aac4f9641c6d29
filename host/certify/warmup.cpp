// Recursive analysis: how much history each feature really needs. At random bars T of the
// first symbol, each column's value from startup histories of growing length is compared
// with the full history's; the least length whose values agree within 1e-9 relative at
// every T is what the data shows, beside what the enricher declares and bootstraps with.
#include <algorithm>
#include <cmath>

#include "certify/checks.hpp"
#include "enrich/cross_symbol.hpp"
#include "core/number_format.hpp"

namespace onepath {
namespace {

bool settled(double a, double full) {
  if (std::isnan(a) || std::isnan(full)) return std::isnan(a) && std::isnan(full);
  return std::fabs(a - full) <= 1e-9 * std::fabs(full) || a == full;
}

}  // namespace

std::vector<WarmupTruth> measure_warmup(const CertifyCase& c, Rng& rng) {
  const CandleSeries& s = c.market[0];
  const FeatureColumns& full = c.batch[0];
  Enricher probe(c.features, c.tf);
  const std::size_t declared = probe.warmup_bars();
  std::vector<WarmupTruth> out(c.columns.size());
  for (std::size_t k = 0; k < out.size(); ++k) out[k].column = c.columns[k], out[k].declared = declared;
  if (declared == 0 || s.size() < 2) return out;
  // Histories on a doubling grid up to 4 x the declared warm-up, the declared one included.
  std::vector<std::size_t> grid;
  for (std::size_t h = 8; h < 4 * declared; h *= 2) grid.push_back(h);
  grid.push_back(declared);
  grid.push_back(2 * declared);
  grid.push_back(4 * declared);
  std::sort(grid.begin(), grid.end());
  grid.erase(std::unique(grid.begin(), grid.end()), grid.end());
  // Points late enough for the longest history; else as late as there are.
  const std::size_t longest = grid.back();
  std::vector<std::size_t> points;
  for (int i = 0; i < 5; ++i) {
    const std::size_t lo = std::min(longest, s.size() - 1);
    points.push_back(lo + static_cast<std::size_t>(rng.below(s.size() - lo)));
  }
  std::vector<bool> ok_exact(out.size()), ok_near(out.size());
  std::vector<double> row(c.columns.size());
  for (std::size_t h : grid) {
    std::fill(ok_exact.begin(), ok_exact.end(), true);
    std::fill(ok_near.begin(), ok_near.end(), true);
    bool tried = false;
    for (std::size_t t : points) {
      if (t + 1 < h) continue;  // not that much history before t
      tried = true;
      CandleSeries history;
      history.symbol = s.symbol;
      for (std::size_t i = t + 1 - h; i <= t; ++i) history.push_back(s[i]);
      Enricher e(c.features, c.tf);
      FeatureColumns cols, externals;
      if (e.external_count() > 0) {  // other symbols' features: their candles of the same span
        std::vector<CandleSeries> span(c.market.size());
        for (std::size_t m = 0; m < c.market.size(); ++m) {
          span[m].symbol = c.market[m].symbol;
          for (std::size_t i = 0; i < c.market[m].size(); ++i)
            if (c.market[m].ts[i] >= history.ts.front() && c.market[m].ts[i] <= history.ts.back()) span[m].push_back(c.market[m][i]);
        }
        std::vector<std::string> symbols;
        for (const auto& m : span) symbols.push_back(m.symbol);
        CrossSymbolJoin join(c.features, c.tf, symbols);
        join.bootstrap(span);
        externals = join.join(history.ts);
      }
      e.enrich_batch(history, cols, 1, e.external_count() > 0 ? &externals : nullptr);  // a startup history, short on purpose
      e.emit(row.data());
      for (std::size_t k = 0; k < out.size(); ++k) {
        ok_near[k] = ok_near[k] && settled(row[k], full[k][t]);
        ok_exact[k] = ok_exact[k] && same_value(row[k], full[k][t]);
      }
    }
    if (!tried) continue;
    for (std::size_t k = 0; k < out.size(); ++k) {
      if (ok_near[k] && out[k].measured == 0) out[k].measured = h, out[k].exact = ok_exact[k];
      if (h == declared && !ok_near[k]) out[k].short_declared = true;
    }
  }
  return out;
}

}  // namespace onepath
