#include "data/resample.hpp"

#include "core/error.hpp"

namespace onepath {

Resampler::Resampler(Timeframe base, Timeframe target) : base_(base), target_(target) {
  if (target.duration_ms() <= base.duration_ms() || target.duration_ms() % base.duration_ms() != 0)
    throw InputError("cannot resample " + std::string(base.name()) + " to " + std::string(target.name()) +
                     ": the target must be a longer timeframe and a whole multiple of the base");
}

CandleSeries resample(const CandleSeries& series, Timeframe base, Timeframe target, bool keep_partial) {
  Resampler r(base, target);
  CandleSeries out;
  out.symbol = series.symbol;
  out.reserve(series.size() * base.duration_ms() / target.duration_ms() + 1);
  for (std::size_t i = 0; i < series.size(); ++i) r.push(series[i], [&](const Candle& bar) { out.push_back(bar); });
  if (keep_partial)
    if (auto p = r.partial()) out.push_back(*p);
  return out;
}

}  // namespace onepath
