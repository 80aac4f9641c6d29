#pragma once
// Timing for benchmarks: the CPU's time-stamp counter (a few ns to read, unlike a clock
// call), its rate calibrated against the steady clock, and percentiles of samples.
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace onepath {

inline std::uint64_t cycles_now() {
  unsigned aux;
  return __rdtscp(&aux);
}

// Counter ticks per nanosecond, measured over about 50 ms.
inline double cycles_per_ns() {
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  std::uint64_t c0 = cycles_now();
  while (Clock::now() - t0 < std::chrono::milliseconds(50)) {
  }
  std::uint64_t c1 = cycles_now();
  double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
  return static_cast<double>(c1 - c0) / ns;
}

// The p-th percentile (0..100) of samples, which it sorts.
inline double percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  std::size_t i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(samples.size() - 1) + 0.5);
  return samples[std::min(i, samples.size() - 1)];
}

}  // namespace onepath
