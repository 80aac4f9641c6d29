#pragma once
// The statistics of a sweep's dossier, each from its published definition:
// - Student's t (two-sided p) through the regularised incomplete beta function;
// - the paired t-test of two variants over the same cells, and Benjamini-Hochberg's
//   adjusted p-values (q) for many such tests at once;
// - the deflated Sharpe ratio (Bailey & Lopez de Prado, 2014): the probability that the
//   best of N trials has a true Sharpe ratio above what the best of N would show by luck;
// - the probability of backtest overfitting by combinatorially symmetric cross-validation
//   (Bailey, Borwein, Lopez de Prado & Zhu, 2015);
// - a parameter's importance as the share of the scores' variance its levels explain (eta^2).
#include <cstddef>
#include <vector>

namespace onepath {

double normal_cdf(double x);
double normal_quantile(double p);  // 0 < p < 1
// I_x(a, b), the regularised incomplete beta function.
double incomplete_beta(double a, double b, double x);
// P(|T| >= |t|) for Student's t with `df` degrees of freedom.
double student_t_two_sided_p(double t, double df);

struct PairedT {
  std::size_t n = 0;
  double mean_diff = 0, t = 0, p = 1;  // a - b; p two-sided; NaN t and p when n < 2 or no spread
};
PairedT paired_t_test(const std::vector<double>& a, const std::vector<double>& b);

// Benjamini-Hochberg adjusted p-values, in the order given (monotone, capped at 1).
std::vector<double> benjamini_hochberg(const std::vector<double>& p);

// The Sharpe ratio the best of `trials` independent trials reaches by luck alone when their
// Sharpe ratios vary by `variance` around zero (eq. of Bailey & Lopez de Prado 2014).
double expected_max_sharpe(double variance, double trials);
// DSR: P(true SR > sr0) for an observed per-period Sharpe ratio `sr` over `periods` returns
// with the given skewness and (non-excess) kurtosis.
double deflated_sharpe(double sr, double sr0, double periods, double skewness, double kurtosis);

struct Moments {
  std::size_t n = 0;
  double mean = 0, stddev = 0, skewness = 0, kurtosis = 3;  // kurtosis not in excess; population moments
};
Moments moments(const std::vector<double>& x);

struct Pbo {
  double pbo = 0;               // share of splits whose in-sample best ranks below the out-of-sample median
  std::size_t splits = 0;       // C(S, S/2)
  std::vector<double> logits;   // lambda per split
};
// `perf[s][n]`: the performance of trial n in block s (S blocks, S even >= 2, N >= 2 trials);
// higher is better unless !maximize. Throws std::invalid_argument otherwise.
Pbo cscv_pbo(const std::vector<std::vector<double>>& perf, bool maximize = true);

// eta^2: the share of the variance of `scores` explained by the groups `level` puts them in.
double variance_explained(const std::vector<double>& scores, const std::vector<std::size_t>& level);

}  // namespace onepath
