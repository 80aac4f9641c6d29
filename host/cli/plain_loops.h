/* Plain C loops of TA-Lib's definitions, written as TA-Lib's batch functions compute them
 * (running sums, Wilder smoothing, a rescan when a window's extreme leaves it). They are
 * the yardstick of `onepath bench indicators` and `bench enrich`: what a careful hand-written
 * loop costs per element with the project's flags. They agree with the indicators to
 * rounding (tests/indicators/plain_loops_test.cpp), not bit for bit: TA-Lib's running sums
 * drift, the indicators' do not. Outputs before the first valid row are NaN. */
#ifndef ONEPATH_PLAIN_LOOPS_H
#define ONEPATH_PLAIN_LOOPS_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void plain_sma(const double* x, size_t n, int period, double* out);
void plain_ema(const double* x, size_t n, int period, double* out);
void plain_rsi(const double* x, size_t n, int period, double* out);
void plain_trange(const double* h, const double* l, const double* c, size_t n, double* out);
void plain_atr(const double* h, const double* l, const double* c, size_t n, int period, int normalised, double* out);
void plain_adx(const double* h, const double* l, const double* c, size_t n, int period, double* adx, double* plus_di, double* minus_di);
void plain_macd(const double* x, size_t n, int fast, int slow, int signal, double* macd, double* sig, double* hist);
void plain_bbands(const double* x, size_t n, int period, double k, double* upper, double* middle, double* lower);
void plain_stddev(const double* x, size_t n, int period, double* out);
void plain_stoch(const double* h, const double* l, const double* c, size_t n, int k_period, int k_smooth, int d_period, double* k, double* d);
void plain_willr(const double* h, const double* l, const double* c, size_t n, int period, double* out);
void plain_cci(const double* h, const double* l, const double* c, size_t n, int period, double* out);
void plain_obv(const double* c, const double* v, size_t n, double* out);
void plain_mfi(const double* h, const double* l, const double* c, const double* v, size_t n, int period, double* out);

#ifdef __cplusplus
}
#endif
#endif
