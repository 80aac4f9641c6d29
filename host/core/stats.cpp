#include "core/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <stdexcept>

namespace onepath {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The continued fraction of I_x(a, b) (modified Lentz), valid for x < (a + 1) / (a + b + 2).
double beta_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 1000; ++m) {
    const double m2 = 2.0 * m;
    double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));  // the even step
    d = 1 + num * d;
    c = 1 + num / c;
    if (std::fabs(d) < tiny) d = tiny;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));  // the odd step
    d = 1 + num * d;
    c = 1 + num / c;
    if (std::fabs(d) < tiny) d = tiny;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    const double step = d * c;
    h *= step;
    if (std::fabs(step - 1) < 1e-15) break;
  }
  return h;
}

}  // namespace

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) return kNaN;
  // Newton's method on the CDF from a logistic first guess; the CDF is smooth and monotone.
  double x = std::log(p / (1 - p)) / 1.702;
  for (int i = 0; i < 100; ++i) {
    const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
    const double step = (normal_cdf(x) - p) / pdf;
    x -= step;
    if (std::fabs(step) < 1e-14 * std::max(1.0, std::fabs(x))) break;
  }
  return x;
}

double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return front * beta_fraction(a, b, x) / a;
  return 1 - front * beta_fraction(b, a, 1 - x) / b;  // the symmetry I_x(a,b) = 1 - I_{1-x}(b,a)
}

double student_t_two_sided_p(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return kNaN;
  if (std::isinf(t)) return 0;
  return incomplete_beta(df / 2, 0.5, df / (df + t * t));
}

PairedT paired_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("paired_t_test: samples of different sizes");
  PairedT r;
  r.n = a.size();
  if (r.n < 2) {
    r.t = r.p = kNaN;
    r.mean_diff = r.n ? a[0] - b[0] : kNaN;
    return r;
  }
  double sum = 0;
  for (std::size_t i = 0; i < r.n; ++i) sum += a[i] - b[i];
  r.mean_diff = sum / static_cast<double>(r.n);
  double ss = 0;
  for (std::size_t i = 0; i < r.n; ++i) ss += (a[i] - b[i] - r.mean_diff) * (a[i] - b[i] - r.mean_diff);
  const double sd = std::sqrt(ss / static_cast<double>(r.n - 1));
  if (!(sd > 0)) {
    r.t = r.mean_diff == 0 ? kNaN : std::copysign(std::numeric_limits<double>::infinity(), r.mean_diff);
    r.p = r.mean_diff == 0 ? kNaN : 0;
    return r;
  }
  r.t = r.mean_diff / (sd / std::sqrt(static_cast<double>(r.n)));
  r.p = student_t_two_sided_p(r.t, static_cast<double>(r.n - 1));
  return r;
}

std::vector<double> benjamini_hochberg(const std::vector<double>& p) {
  // Tests with no p-value (NaN) take no part and get none.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return p[x] < p[y]; });
  std::vector<double> q(p.size(), kNaN);
  const double m = static_cast<double>(order.size());
  double running = 1;
  for (std::size_t k = order.size(); k-- > 0;) {
    running = std::min(running, p[order[k]] * m / static_cast<double>(k + 1));
    q[order[k]] = running;
  }
  return q;
}

double expected_max_sharpe(double variance, double trials) {
  constexpr double euler_gamma = 0.5772156649015329;
  if (!(trials > 1) || !(variance >= 0)) return kNaN;
  return std::sqrt(variance) * ((1 - euler_gamma) * normal_quantile(1 - 1 / trials) + euler_gamma * normal_quantile(1 - 1 / (trials * M_E)));
}

double deflated_sharpe(double sr, double sr0, double periods, double skewness, double kurtosis) {
  const double spread = 1 - skewness * sr + (kurtosis - 1) / 4 * sr * sr;
  if (!(periods > 1) || !(spread > 0)) return kNaN;
  return normal_cdf((sr - sr0) * std::sqrt(periods - 1) / std::sqrt(spread));
}

Moments moments(const std::vector<double>& x) {
  Moments m;
  m.n = x.size();
  if (m.n == 0) return m;
  m.mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(m.n);
  double m2 = 0, m3 = 0, m4 = 0;
  for (double v : x) {
    const double d = v - m.mean;
    m2 += d * d, m3 += d * d * d, m4 += d * d * d * d;
  }
  const double n = static_cast<double>(m.n);
  m2 /= n, m3 /= n, m4 /= n;
  m.stddev = std::sqrt(m2);
  m.skewness = m2 > 0 ? m3 / std::pow(m2, 1.5) : 0;
  m.kurtosis = m2 > 0 ? m4 / (m2 * m2) : 3;
  return m;
}

Pbo cscv_pbo(const std::vector<std::vector<double>>& perf, bool maximize) {
  const std::size_t S = perf.size();
  if (S < 2 || S % 2) throw std::invalid_argument("CSCV needs an even number of blocks, at least 2 (got " + std::to_string(S) + ")");
  const std::size_t N = perf[0].size();
  if (N < 2) throw std::invalid_argument("CSCV needs at least 2 trials");
  for (const auto& row : perf)
    if (row.size() != N) throw std::invalid_argument("CSCV: every block needs every trial");
  Pbo r;
  std::size_t below = 0;
  // Every choice of S/2 blocks as the in-sample half, as a bit mask; the rest are out of sample.
  for (unsigned mask = 0; mask < (1u << S); ++mask) {
    if (static_cast<std::size_t>(__builtin_popcount(mask)) != S / 2) continue;
    std::vector<double> in(N, 0), out(N, 0);
    for (std::size_t s = 0; s < S; ++s)
      for (std::size_t n = 0; n < N; ++n) ((mask >> s) & 1 ? in : out)[n] += maximize ? perf[s][n] : -perf[s][n];
    const std::size_t best = static_cast<std::size_t>(std::max_element(in.begin(), in.end()) - in.begin());  // first of ties
    // Its rank out of sample, 1 = worst .. N = best (ties share the mean rank).
    double rank = 1;
    for (std::size_t n = 0; n < N; ++n) {
      if (n == best) continue;
      if (out[n] < out[best]) rank += 1;
      else if (out[n] == out[best]) rank += 0.5;
    }
    const double w = rank / static_cast<double>(N + 1);
    const double lambda = std::log(w / (1 - w));
    r.logits.push_back(lambda);
    below += lambda <= 0;
    ++r.splits;
  }
  r.pbo = static_cast<double>(below) / static_cast<double>(r.splits);
  return r;
}

double variance_explained(const std::vector<double>& scores, const std::vector<std::size_t>& level) {
  if (scores.size() != level.size() || scores.size() < 2) return kNaN;
  const double mean = std::accumulate(scores.begin(), scores.end(), 0.0) / static_cast<double>(scores.size());
  std::map<std::size_t, std::pair<double, std::size_t>> groups;
  double total = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    total += (scores[i] - mean) * (scores[i] - mean);
    groups[level[i]].first += scores[i];
    ++groups[level[i]].second;
  }
  if (!(total > 0)) return kNaN;
  double between = 0;
  for (const auto& [lv, g] : groups) {
    const double gm = g.first / static_cast<double>(g.second);
    between += static_cast<double>(g.second) * (gm - mean) * (gm - mean);
  }
  return between / total;
}

}  // namespace onepath
