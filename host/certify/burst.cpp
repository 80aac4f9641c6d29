// Seed 001 §11bis: filters with state (cooldown, concurrency) must decide a rapid-fire burst
// and a long drought the same whether the run was interrupted or not. A probe strategy
// stands in for the user's: on every symbol 20 bars of buys, 500 bars of nothing, 20 more
// (each burst closed 10 bars after it ends), through the config's own filters, risk limits
// and execution. Eq. 3 and 4 then restore inside each burst, in the drought and as it ends,
// besides their random slices.
#include <algorithm>

#include "certify/checks.hpp"
#include "run/market_merge.hpp"

namespace onepath {
namespace {

constexpr std::size_t kStart = 50, kBurst = 20, kDrought = 500, kCloseAfter = 10;
constexpr const char* kProbePath = "(certify)/burst_and_drought.lua";

std::string probe_script() {
  const std::string first = std::to_string(kStart), second = std::to_string(kStart + kBurst + kDrought);
  return "-- onepath certify's burst-and-drought probe (docs/certify.md)\n"
         "local S = {}\n"
         "S.features = { { name = \"probe_ret\", kind = \"returns\", period = 1 } }\n"
         "local function in_burst(n, from) return n > from and n <= from + " + std::to_string(kBurst) + " end\n"
         "function S.on_bar(ctx, bar, f)\n"
         "  local n = (ctx.state.n or 0) + 1\n"
         "  ctx.state.n = n\n"
         "  if in_burst(n, " + first + ") or in_burst(n, " + second + ") then\n"
         "    ctx:buy{ size = 0.02 }\n"
         "  elseif (n == " + std::to_string(kStart + kBurst + kCloseAfter) + " or n == " +
         std::to_string(kStart + 2 * kBurst + kDrought + kCloseAfter) + ") and ctx.position > 0 then\n"
         "    ctx:close()\n"
         "  end\n"
         "end\n"
         "return S\n";
}

}  // namespace

std::optional<CertifyCase> burst_drought_case(const RunConfig& config, const CertifyCase& config_case) {
  const std::size_t needed = kStart + 2 * kBurst + kDrought + kCloseAfter + 1;
  for (const auto& s : config_case.market)
    if (s.size() < needed) return std::nullopt;
  SessionConfig session = config_case.session;
  session.strategy = kProbePath;
  session.signal.clear();
  session.params.clear();
  auto sources = session.limits.sources ? std::make_shared<SourceMap>(*session.limits.sources) : std::make_shared<SourceMap>();
  (*sources)[kProbePath] = probe_script();
  session.limits.sources = std::move(sources);
  CertifyCase c = make_case("burst and drought", config, std::move(session), config_case.market, config_case.tf);
  c.probe = true;
  // The slices at which the first symbol sees the bars that matter.
  const std::vector<std::size_t> bars = {kStart + kBurst / 2, kStart + kBurst, kStart + kBurst + kDrought / 2, kStart + kBurst + kDrought,
                                         kStart + kBurst + kDrought + kBurst / 2};
  MarketMerge merge(c.market);
  std::size_t slice = 0, seen = 0;
  for (TimeSlice s; merge.next(s);) {
    ++slice;
    for (const auto& [symbol, candle] : s.candles)
      if (symbol == 0 && std::find(bars.begin(), bars.end(), ++seen) != bars.end()) c.restore_at.push_back(slice);
  }
  return c;
}

}  // namespace onepath
