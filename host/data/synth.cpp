#include "data/synth.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/memory_budget.hpp"
#include "core/rng.hpp"

namespace onepath {
namespace {

struct ScenarioParams {
  double annual_vol;
  double trend_annual;  // size of the drift in a trending regime
  double jump_prob;     // per bar
  double jump_sd;       // log size
  double crash_depth;   // 0 = no flash crash
  int gap_rounds;       // how many gaps of each size 1, 5, 50
  double zero_volume_prob;
};

ScenarioParams params_of(Scenario s) {
  switch (s) {
    case Scenario::quiet:
      return {0.30, 0.3, 0.0005, 0.010, 0.0, 1, 0.002};
    case Scenario::volatile_market:
      return {0.80, 0.6, 0.0020, 0.030, 0.15, 1, 0.002};
    case Scenario::stress:
      return {1.10, 0.8, 0.0040, 0.050, 0.35, 2, 0.004};
  }
  return {};
}

constexpr double kRegimeVol[3] = {0.6, 1.0, 2.2};  // calm, normal, hot
constexpr double kRegimeStay = 0.995;
constexpr double kTrendSwitch = 0.002;
constexpr int kCrashBars = 3, kRecoveryBars = 30;

double round_to(double v, double scale) { return std::round(v * scale) / scale; }

// Powers of ten that keep about seven significant digits of the starting price.
double price_scale(double start_price) {
  int digits = static_cast<int>(std::floor(std::log10(start_price))) + 1;
  return std::pow(10.0, std::clamp(7 - digits, 0, 10));
}

// Market-wide state per bar, shared by every symbol: regime, trend, jumps, crash.
struct MarketPath {
  std::vector<double> vol_mult, drift, jump, crash;
};

MarketPath make_market_path(const SynthOptions& o, const ScenarioParams& p, double bar_years) {
  Rng rng(o.seed ^ 0x6D61726B6574ULL);
  MarketPath m;
  m.vol_mult.resize(o.bars), m.drift.resize(o.bars), m.jump.resize(o.bars), m.crash.assign(o.bars, 0.0);
  int regime = 1, trend = 0;
  for (std::size_t i = 0; i < o.bars; ++i) {
    if (!rng.chance(kRegimeStay)) regime = static_cast<int>(rng.below(3));
    if (rng.chance(kTrendSwitch)) trend = static_cast<int>(rng.below(3)) - 1;
    m.vol_mult[i] = kRegimeVol[regime];
    m.drift[i] = trend * p.trend_annual * bar_years;
    m.jump[i] = rng.chance(p.jump_prob) ? rng.normal() * p.jump_sd : 0.0;
  }
  if (p.crash_depth > 0 && o.bars > 4 * (kCrashBars + kRecoveryBars)) {
    std::size_t at = o.bars * 3 / 5;
    double fall = std::log(1.0 - p.crash_depth);
    for (int k = 0; k < kCrashBars; ++k) m.crash[at + k] = fall / kCrashBars;
    for (int k = 0; k < kRecoveryBars; ++k) m.crash[at + kCrashBars + k] = -0.5 * fall / kRecoveryBars;
  }
  return m;
}

CandleSeries make_symbol(const SynthOptions& o, const ScenarioParams& p, const MarketPath& m, const std::vector<double>& leader_shocks,
                         std::size_t index, double sigma_base) {
  const SynthSymbol& sym = o.symbols[index];
  std::uint64_t seed_state = o.seed + 0x100 * (index + 1);
  Rng rng(splitmix64(seed_state));
  const double rho = index == 0 ? 1.0 : std::clamp(sym.correlation, -1.0, 1.0);
  const double own = std::sqrt(1.0 - rho * rho);
  const double scale = price_scale(sym.start_price);
  const double base_volume = 2.0e6 / sym.start_price;

  // Rows removed to make gaps: one of each size per round, never overlapping.
  std::vector<bool> missing(o.bars, false);
  if (o.with_defects && o.bars > 400) {
    for (int round = 0; round < p.gap_rounds; ++round)
      for (std::size_t size : {1, 5, 50}) {
        for (int attempt = 0; attempt < 100; ++attempt) {
          std::size_t at = 20 + rng.below(o.bars - size - 40);
          bool clear = std::none_of(missing.begin() + at - 2, missing.begin() + at + size + 2, [](bool b) { return b; });
          if (!clear) continue;
          std::fill(missing.begin() + at, missing.begin() + at + size, true);
          break;
        }
      }
  }

  CandleSeries s;
  s.symbol = sym.name;
  s.reserve(o.bars);
  double price = sym.start_price;
  for (std::size_t i = 0; i < o.bars; ++i) {
    double sigma = sigma_base * sym.vol_multiplier * m.vol_mult[i];
    double z = rho * leader_shocks[i] + own * rng.normal();
    double idio_jump = (index > 0 && rng.chance(p.jump_prob / 2)) ? rng.normal() * p.jump_sd : 0.0;
    double r = m.drift[i] + sigma * z + m.jump[i] * sym.vol_multiplier + idio_jump + m.crash[i] * std::min(sym.vol_multiplier, 2.0);
    bool zero_volume = o.with_defects && rng.chance(p.zero_volume_prob);
    double w1 = std::fabs(rng.normal()), w2 = std::fabs(rng.normal()), vn = rng.normal();

    double open = round_to(price, scale);
    Candle c{o.start_ms + static_cast<TimestampMs>(i) * o.timeframe.duration_ms(), open, open, open, open, 0.0};
    if (!zero_volume) {
      price *= std::exp(r);
      double close = round_to(price, scale);
      double wick = sigma * (m.crash[i] < 0 ? 3.0 : 0.3);
      c.close = close;
      c.high = round_to(std::max(open, close) * std::exp(w1 * wick), scale);
      c.low = round_to(std::min(open, close) * std::exp(-w2 * wick), scale);
      double activity = 1.0 + std::fabs(r) / std::max(sigma, 1e-12);
      c.volume = round_to(base_volume * m.vol_mult[i] * activity * std::exp(0.4 * vn), 1000.0);
    }
    if (!missing[i]) s.push_back(c);
  }
  return s;
}

}  // namespace

Scenario parse_scenario(std::string_view name) {
  if (name == "quiet") return Scenario::quiet;
  if (name == "volatile") return Scenario::volatile_market;
  if (name == "stress") return Scenario::stress;
  throw InputError("unknown scenario '" + std::string(name) + "' (quiet, volatile, stress)");
}

std::string_view scenario_name(Scenario s) {
  switch (s) {
    case Scenario::quiet:
      return "quiet";
    case Scenario::volatile_market:
      return "volatile";
    case Scenario::stress:
      return "stress";
  }
  return "?";
}

SynthSymbol preset_symbol(const std::string& name, double correlation) {
  struct Preset {
    const char* name;
    double price, vol;
  };
  static const Preset presets[] = {{"BTC", 60000, 1.0}, {"ETH", 3000, 1.25}, {"SOL", 150, 1.6}, {"BNB", 550, 1.1}, {"XRP", 0.55, 1.4},
                                   {"DOGE", 0.12, 1.8}, {"ADA", 0.45, 1.5},  {"AVAX", 35, 1.7}, {"LINK", 15, 1.5}};
  for (const auto& p : presets)
    if (name == p.name) return {name, p.price, p.vol, correlation};
  return {name, 100.0, 1.5, correlation};
}

std::vector<CandleSeries> generate_market(const SynthOptions& o) {
  if (o.symbols.empty()) throw InputError("the generator needs at least one symbol");
  if (o.bars == 0) throw InputError("the generator needs at least one bar");
  // What is written must read back: ISO timestamps have four-digit years.
  if (o.start_ms > kLastIsoMs ||
      static_cast<double>(o.bars - 1) * static_cast<double>(o.timeframe.duration_ms()) > static_cast<double>(kLastIsoMs - o.start_ms))
    throw InputError(
        "the generated bars would run past 9999-12-31, which ISO-8601 timestamps (four-digit years) cannot say; start earlier or ask for fewer bars");
  for (const auto& s : o.symbols)
    if (!(s.start_price > 0) || !(s.vol_multiplier > 0))
      throw InputError("symbol '" + s.name + "': start price and volatility multiplier must be positive");
  // the candles (6 numbers) and the path behind them (about 5 more per bar)
  check_memory(static_cast<double>(o.bars) * static_cast<double>(o.symbols.size()) * 11 * 8,
               "generating " + std::to_string(o.bars) + " bars of " + std::to_string(o.symbols.size()) + " symbols");
  const ScenarioParams p = params_of(o.scenario);
  const double bar_years = static_cast<double>(o.timeframe.duration_ms()) / (365.0 * kMsPerDay);
  const double sigma_base = p.annual_vol * std::sqrt(bar_years);
  const MarketPath market = make_market_path(o, p, bar_years);

  std::vector<double> leader_shocks(o.bars);
  std::uint64_t leader_seed = o.seed ^ 0x6C6561646572ULL;
  Rng leader_rng(splitmix64(leader_seed));
  for (auto& z : leader_shocks) z = leader_rng.normal();

  std::vector<CandleSeries> out;
  for (std::size_t i = 0; i < o.symbols.size(); ++i) out.push_back(make_symbol(o, p, market, leader_shocks, i, sigma_base));
  return out;
}

}  // namespace onepath
