// Features of another symbol in a Session: the same bits whatever order a slice's candles
// arrive in, equal to the batch join (enrich_market), through save / load, and in a backtest
// the strategy reads them like any feature.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "data/synth.hpp"
#include "enrich/cross_symbol.hpp"
#include "run/backtest.hpp"
#include "run/market_merge.hpp"
#include "run/session.hpp"
#include "fixtures.hpp"

using namespace onepath;
using onepath::test::market_with_gaps;
using onepath::test::TempDir;

namespace {

namespace fs = std::filesystem;
const std::string kSource = ONEPATH_SOURCE_DIR;
const Timeframe k15m = Timeframe::parse("15m");



// ETH and SOL read BTC (returns, a lagged one, a 1h RSI, a feature of a feature); every
// symbol reads ETH's; an own feature reads BTC's column (a correlation).
const char* kStrategy = R"(
local S = {}
S.features = {
  { name = "ret_4", kind = "returns", period = 4 },
  { name = "btc_ret_4", kind = "returns", period = 4, symbol = "BTC" },
  { name = "btc_ret_4_l3", kind = "returns", period = 4, symbol = "BTC", lag = 3 },
  { name = "btc_rsi_1h", kind = "rsi", period = 14, timeframe = "1h", symbol = "BTC" },
  { name = "btc_z", kind = "zscore", period = 20, input = "btc_ret_4", symbol = "BTC" },
  { name = "eth_bb", kind = "bbands", period = 20, symbol = "ETH" },
  { name = "corr_btc", kind = "correlation", period = 30, input = "ret_4", input2 = "btc_ret_4" },
}
function S.on_bar(ctx, bar, f)
  if f.btc_ret_4 ~= f.btc_ret_4 then return end
  if f.btc_ret_4 > 0.004 and ctx.position <= 0 then ctx:buy{ size = 0.2 }
  elseif f.btc_ret_4 < -0.004 and ctx.position > 0 then ctx:close() end
end
return S
)";

SessionConfig session_config(const TempDir& dir) {
  std::ofstream(dir / "cross.lua") << kStrategy;
  std::ofstream(dir / "RUN.toml") << "[data]\nsymbols = [\"BTC\", \"ETH\", \"SOL\"]\n[data.generate]\nbars = 10\n"
                                  << "[strategy]\nscript = \"" << (dir / "cross.lua") << "\"\nscripts_root = \"" << kSource << "/scripts\"\n"
                                  << "[output]\ndb = \"\"\n";
  return load_run_config(dir / "RUN.toml").session;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b)); }

// Every symbol's row after each of its candles, in the market's row order.
using Rows = std::vector<std::vector<std::vector<double>>>;  // [symbol][row][column]

Rows stream(const SessionConfig& c, const std::vector<CandleSeries>& market, std::uint64_t shuffle_seed, std::size_t restore_every = 0) {
  DiscardResults none;
  auto session = std::make_unique<Session>(c, k15m, none);
  session->start();
  Rows rows(market.size());
  MarketMerge merge(market);
  TimeSlice slice;
  std::uint64_t x = shuffle_seed;
  for (std::size_t n = 1; merge.next(slice); ++n) {
    if (shuffle_seed) {  // another arrival order within the slice
      for (std::size_t i = slice.candles.size(); i > 1; --i) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        std::swap(slice.candles[i - 1], slice.candles[(x >> 33) % i]);
      }
    }
    session->open(slice);
    for (const auto& [s, candle] : slice.candles) {
      session->on_candle(s, candle);
      std::vector<double> row(session->feature_columns().size());
      session->emit_features(s, row.data());
      rows[static_cast<std::size_t>(s)].push_back(std::move(row));
    }
    session->close(slice.ts);
    if (restore_every && n % restore_every == 0) {
      const std::string bytes = session->save();
      session = std::make_unique<Session>(c, k15m, none);
      session->load(bytes);
    }
  }
  return rows;
}

void check_same(const Rows& a, const Rows& b, const std::vector<std::string>& columns) {
  REQUIRE(a.size() == b.size());
  for (std::size_t s = 0; s < a.size(); ++s) {
    REQUIRE(a[s].size() == b[s].size());
    for (std::size_t i = 0; i < a[s].size(); ++i)
      for (std::size_t k = 0; k < columns.size(); ++k)
        if (!same_bits(a[s][i][k], b[s][i][k])) {
          FAIL("symbol " << s << " row " << i << " column " << columns[k] << ": " << a[s][i][k] << " vs " << b[s][i][k]);
          return;
        }
  }
}

}  // namespace

TEST_CASE("features of another symbol: the same bits in any arrival order, equal to the batch join, through save and load") {
  TempDir dir("cross-test");
  const SessionConfig c = session_config(dir);
  const auto market = market_with_gaps(3000, 11);
  DiscardResults none;
  const Session probe(c, k15m, none);
  const auto& columns = probe.feature_columns();
  REQUIRE(columns.size() == 9);  // bbands: 3 columns

  const Rows straight = stream(c, market, 0);
  check_same(straight, stream(c, market, 7), columns);
  check_same(straight, stream(c, market, 12345), columns);
  check_same(straight, stream(c, market, 0, 97), columns);

  // The batch side: each symbol's matrix, other symbols joined by time.
  const std::vector<FeatureColumns> batch = enrich_market(probe.feature_set(), k15m, market);
  Rows from_batch(market.size());
  std::size_t values = 0, nan_joined = 0;
  for (std::size_t s = 0; s < market.size(); ++s)
    for (std::size_t i = 0; i < market[s].size(); ++i) {
      std::vector<double> row;
      for (const auto& col : batch[s]) row.push_back(col[i]);
      from_batch[s].push_back(std::move(row));
      values += columns.size();
      nan_joined += std::isnan(batch[s][1][i]) && i > 10;
    }
  check_same(straight, from_batch, columns);
  CHECK(values > 70'000);
  CHECK(nan_joined > 0);  // bars BTC does not have: NaN, not a neighbour's value
  // BTC reading its own features is the same as computing them.
  const auto btc_own = enrich_market(FeatureSet{{probe.feature_set().features[0]}, "own"}, k15m, {market[0]});
  for (std::size_t i = 0; i < market[0].size(); ++i) REQUIRE(same_bits(btc_own[0][0][i], batch[0][1][i]));
}

TEST_CASE("a backtest whose strategy reads another symbol trades on it, and a symbol not in the run is refused with the fix") {
  TempDir dir("cross-test");
  SessionConfig c = session_config(dir);
  const auto market = market_with_gaps(3000, 5);
  const BacktestResult r = run_backtest_on(c, market, k15m);
  CHECK(r.trades.size() > 10);
  CHECK(std::find(r.feature_columns.begin(), r.feature_columns.end(), "btc_ret_4") != r.feature_columns.end());

  c.symbols = {"ETH", "SOL"};
  try {
    DiscardResults none;
    Session s(c, k15m, none);
    FAIL("a feature reading BTC was accepted without BTC's candles");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("reads symbol 'BTC', which is not one of this run's symbols (ETH, SOL); add it to [data] symbols") !=
          std::string::npos);
  }
}
