// The dossier's statistics against published values, hand-worked examples, and plain loops
// written from their textbook definitions (numerical integration of the t density, the BH
// step-up rule as written, every CSCV split enumerated by hand).
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "core/stats.hpp"

using namespace onepath;

namespace {

// P(|T| >= t) by Simpson's rule on Student's density, substituting u = 1/(1+x) onto (0, 1/(1+t)].
double t_tail_by_integration(double t, double df) {
  const double c = std::exp(std::lgamma((df + 1) / 2) - std::lgamma(df / 2)) / std::sqrt(df * M_PI);
  auto density = [&](double x) { return c * std::pow(1 + x * x / df, -(df + 1) / 2); };
  auto integrand = [&](double u) { return u <= 0 ? 0.0 : density(1 / u - 1) / (u * u); };
  const int n = 200000;
  const double hi = 1 / (1 + t), h = hi / n;
  double s = integrand(0) + integrand(hi);
  for (int i = 1; i < n; ++i) s += integrand(i * h) * (i % 2 ? 4 : 2);
  return 2 * s * h / 3;
}

}  // namespace

TEST_CASE("Student's t: published critical values give p = 0.05 and 0.01, and p equals the density integrated") {
  CHECK(student_t_two_sided_p(2.2281388519649385, 10) == doctest::Approx(0.05).epsilon(1e-9));
  CHECK(student_t_two_sided_p(12.706204736174698, 1) == doctest::Approx(0.05).epsilon(1e-9));
  CHECK(student_t_two_sided_p(4.032142983557536, 5) == doctest::Approx(0.01).epsilon(1e-9));
  CHECK(student_t_two_sided_p(0, 7) == doctest::Approx(1.0));
  for (double t : {0.3, 1.0, 2.5, 6.0})  // df = 1 is Cauchy's: P(|T| >= t) = 1 - 2 atan(t) / pi
    CHECK(student_t_two_sided_p(t, 1) == doctest::Approx(1 - 2 * std::atan(t) / M_PI).epsilon(1e-12));
  for (double df : {2.0, 3.0, 9.0, 29.0})
    for (double t : {0.3, 1.0, 2.5, 6.0}) {
      INFO("t = " << t << ", df = " << df);
      CHECK(student_t_two_sided_p(t, df) == doctest::Approx(t_tail_by_integration(t, df)).epsilon(1e-7));
      CHECK(student_t_two_sided_p(-t, df) == student_t_two_sided_p(t, df));
    }
  CHECK(normal_quantile(0.975) == doctest::Approx(1.959963984540054).epsilon(1e-12));
  CHECK(normal_quantile(0.01) == doctest::Approx(-2.3263478740408408).epsilon(1e-12));
  CHECK(normal_cdf(normal_quantile(0.3)) == doctest::Approx(0.3).epsilon(1e-13));
}

TEST_CASE("the paired t-test: a hand-worked example, and the degenerate cases say so") {
  // differences 1, 2, 3, 4, 5: mean 3, sd sqrt(2.5), t = 3 / (sqrt(2.5) / sqrt(5)) = 4.2426...
  const PairedT r = paired_t_test({2, 4, 6, 8, 10}, {1, 2, 3, 4, 5});
  CHECK(r.n == 5);
  CHECK(r.mean_diff == doctest::Approx(3));
  CHECK(r.t == doctest::Approx(3 / std::sqrt(0.5)));
  CHECK(r.p == doctest::Approx(student_t_two_sided_p(3 / std::sqrt(0.5), 4)));
  CHECK(r.p < 0.05);
  CHECK(std::isnan(paired_t_test({1}, {2}).p));
  CHECK(std::isnan(paired_t_test({1, 2}, {1, 2}).p));  // no difference at all: no test
  CHECK(paired_t_test({2, 3}, {1, 2}).p == 0);          // the same difference every time
}

TEST_CASE("Benjamini-Hochberg: the step-up rule by hand, and a plain loop on random p-values") {
  const std::vector<double> q = benjamini_hochberg({0.01, 0.04, 0.03, 0.005});
  REQUIRE(q.size() == 4);
  CHECK(q[0] == doctest::Approx(0.02));
  CHECK(q[1] == doctest::Approx(0.04));
  CHECK(q[2] == doctest::Approx(0.04));
  CHECK(q[3] == doctest::Approx(0.02));
  CHECK(std::isnan(benjamini_hochberg({0.2, NAN})[1]));
  CHECK(benjamini_hochberg({0.2, NAN})[0] == doctest::Approx(0.2));
  // Definition: q_i = min over j with p_j >= p_i of min(1, p_j m / rank_j).
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> p(37);
  for (double& x : p) x = u(rng) * u(rng);
  const std::vector<double> got = benjamini_hochberg(p);
  for (std::size_t i = 0; i < p.size(); ++i) {
    double want = 1;
    for (std::size_t j = 0; j < p.size(); ++j) {
      if (p[j] < p[i]) continue;
      std::size_t rank = 0;
      for (double x : p) rank += x <= p[j];
      want = std::min(want, p[j] * static_cast<double>(p.size()) / static_cast<double>(rank));
    }
    CHECK(got[i] == doctest::Approx(want));
  }
}

TEST_CASE("the deflated Sharpe ratio: Bailey and Lopez de Prado's example gives 0.9004") {
  // 100 trials whose annualised Sharpe ratios vary by 1/2; the best shows 2.5 over five years of
  // daily returns with skewness -3 and kurtosis 10 (the paper's numerical example).
  const double days = 250, sr = 2.5 / std::sqrt(days), variance = 0.5 / days;
  const double sr0 = expected_max_sharpe(variance, 100);
  CHECK(sr0 * std::sqrt(days) == doctest::Approx(1.7894).epsilon(1e-3));
  CHECK(deflated_sharpe(sr, sr0, 1250, -3, 10) == doctest::Approx(0.9004).epsilon(1e-4));
  CHECK(deflated_sharpe(sr, sr0, 1250, 0, 3) > deflated_sharpe(sr, sr0, 1250, -3, 10));  // fat left tails cost confidence
  CHECK(std::isnan(expected_max_sharpe(variance, 1)));
  const Moments m = moments({1, 2, 3, 4, 10});
  CHECK(m.mean == doctest::Approx(4));
  CHECK(m.stddev == doctest::Approx(std::sqrt(10.0)));
  // deviations -3, -2, -1, 0, 6: m2 = 50/5, m3 = 180/5, m4 = 1394/5
  CHECK(m.skewness == doctest::Approx(36 / std::pow(10.0, 1.5)));
  CHECK(m.kurtosis == doctest::Approx(278.8 / 100));
}

TEST_CASE("PBO by CSCV: every split of a hand-worked matrix, and a trial best everywhere is never overfit") {
  // Blocks x trials. A wins the first half, B the second, C is steady: the split that puts
  // either half in sample picks the trial that is worst out of sample (2 of 6 splits).
  const std::vector<std::vector<double>> perf = {{3, 0, 1}, {3, 0, 1}, {0, 3, 1}, {0, 3, 1}};
  const Pbo r = cscv_pbo(perf);
  CHECK(r.splits == 6);
  CHECK(r.pbo == doctest::Approx(2.0 / 6));
  std::size_t worst = 0;
  for (double l : r.logits) worst += l == doctest::Approx(std::log(0.25 / 0.75));
  CHECK(worst == 2);
  // Minimising the same numbers is the mirror image.
  CHECK(cscv_pbo({{-3, 0, -1}, {-3, 0, -1}, {0, -3, -1}, {0, -3, -1}}, false).pbo == doctest::Approx(2.0 / 6));
  CHECK(cscv_pbo({{5, 1, 2}, {4, 0, 3}, {6, 2, 1}, {5, 1, 0}, {7, 3, 2}, {4, 2, 1}}).pbo == 0);
  CHECK(cscv_pbo({{5, 1, 2}, {4, 0, 3}, {6, 2, 1}, {5, 1, 0}, {7, 3, 2}, {4, 2, 1}}).splits == 20);
  CHECK_THROWS_AS(cscv_pbo({{1, 2}, {3, 4}, {5, 6}}), std::invalid_argument);
  CHECK_THROWS_AS(cscv_pbo({{1}, {2}}), std::invalid_argument);
}

TEST_CASE("a parameter's importance: the share of the variance its levels explain") {
  CHECK(variance_explained({1, 2, 3, 4}, {0, 0, 1, 1}) == doctest::Approx(0.8));
  CHECK(variance_explained({1, 2, 3, 4}, {0, 1, 0, 1}) == doctest::Approx(0.2));
  CHECK(variance_explained({1, 2, 3, 4}, {0, 1, 2, 3}) == doctest::Approx(1.0));
  CHECK(std::isnan(variance_explained({2, 2}, {0, 1})));
}
