// onepath enrich: a feature set over a candle file, in batch or streaming mode.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/number_format.hpp"
#include "data/candle_io.hpp"
#include "data/validate.hpp"
#include "enrich/cross_symbol.hpp"
#include "enrich/enricher.hpp"
#include "enrich/shadow.hpp"
#include "lua/feature_file.hpp"
#include "plugin/loader.hpp"
#include "run/backtest.hpp"
#include "run/market_merge.hpp"
#include "run/run_config.hpp"

namespace onepath::cli {
namespace {

// market[0] is the series enriched; the others, the symbols its features read (--with).
FeatureColumns stream_columns(Enricher& e, const std::vector<CandleSeries>& market) {
  const CandleSeries& s = market[0];
  FeatureColumns cols(e.columns().size(), std::vector<double>(s.size()));
  std::vector<double> row(e.columns().size()), externals(e.external_count());
  std::unique_ptr<CrossSymbolJoin> join;
  std::vector<std::string> symbols;
  for (const auto& m : market) symbols.push_back(m.symbol);
  if (e.external_count() > 0) join = std::make_unique<CrossSymbolJoin>(e.feature_set(), e.base_timeframe(), symbols);
  MarketMerge merge(market);
  TimeSlice slice;
  std::size_t i = 0;
  while (merge.next(slice)) {  // the other symbols' candles of a time first, as a session steps them
    if (join)
      for (const auto& [symbol, candle] : slice.candles) join->update(symbol, candle);
    if (slice.candles.front().first != 0) continue;
    if (join) join->externals(slice.ts, externals.data()), e.set_externals(externals.data());
    e.update(s[i]);
    e.emit(row.data());
    for (std::size_t k = 0; k < row.size(); ++k) cols[k][i] = row[k];
    ++i;
  }
  return cols;
}

FeatureColumns batch_columns(Enricher& e, const std::vector<CandleSeries>& market, int threads) {
  FeatureColumns cols;
  if (e.external_count() == 0) return e.enrich_batch(market[0], threads);
  std::vector<std::string> symbols;
  for (const auto& m : market) symbols.push_back(m.symbol);
  CrossSymbolJoin join(e.feature_set(), e.base_timeframe(), symbols);
  join.bootstrap(market);
  const FeatureColumns externals = join.join(market[0].ts);
  e.enrich_batch(market[0], cols, threads, &externals);
  return cols;
}

// A candle file, checked as `data check` would: an error names its line and rule.
CandleSeries read_checked(const std::string& path, const std::string& timeframe, Timeframe& tf) {
  CandleFile f = read_candles(path);
  if (f.series.empty()) throw InputError(path + ": no candles");
  ValidateOptions vo;
  if (!timeframe.empty()) vo.timeframe = Timeframe::parse(timeframe);
  ValidationReport report = validate(f.series, vo);
  if (report.timeframe_inferred) log::info("timeframe_inferred", {{"file", path}, {"timeframe", std::string(report.timeframe.name())}});
  if (!report.ok()) {
    const Finding* first = nullptr;
    for (const auto& x : report.findings)
      if (x.severity == Severity::error) {
        first = &x;
        break;
      }
    throw InputError(path + ":" + std::to_string(f.lines[first->row]) + ": " + first->rule + ": " + first->message + " (" +
                     std::to_string(report.count(Severity::error)) + " errors; see 'onepath data check')");
  }
  tf = report.timeframe;
  return std::move(f.series);
}

void write_features(const std::string& path, const CandleSeries& s, const std::vector<std::string>& names, const FeatureColumns& cols) {
  AtomicFile out(path);
  std::string buf = "ts";
  for (const auto& n : names) buf += "," + n;
  buf += "\n";
  for (std::size_t i = 0; i < s.size(); ++i) {
    buf += format_iso(s.ts[i]);
    for (const auto& c : cols) {
      buf += ',';
      append_double(buf, c[i]);
    }
    buf += '\n';
    if (buf.size() > (1 << 20)) out.write(buf), buf.clear();
  }
  out.write(buf);
  out.commit();
}

}  // namespace

void add_enrich_commands(CLI::App& app, Action& action) {
  struct Opts {
    std::string data, features, out, mode = "batch", timeframe, config, db;
    std::vector<std::string> plugins, with;
    bool shadow = false;
    int threads = 1;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("enrich", "Compute a feature set over candles: one code path for batch and streaming");
  cmd->add_option("--data", o->data, "Candle file (CSV or JSON)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--features", o->features, "Feature set (scripts/features/*.lua)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", o->out, "Output CSV: ts and one column per feature output (written whole or not at all)")->required();
  cmd->add_option("--mode", o->mode, "batch (column by column) or stream (candle by candle); both give the same bytes")
      ->check(CLI::IsMember({"batch", "stream"}))->capture_default_str();
  cmd->add_option("--timeframe", o->timeframe, "The candles' timeframe; inferred from the data when absent");
  cmd->add_option("--threads", o->threads, "Batch mode: independent features on this many threads")->check(CLI::Range(1, 64))->capture_default_str();
  cmd->add_option("--with", o->with, "SYMBOL=FILE: the candles of a symbol the features read (symbol = \"BTC\"), joined as-of (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--shadow", o->shadow, "Run both modes, compare every value, report the first divergence");
  cmd->add_option("--plugin", o->plugins, "A native plugin whose indicator kinds the features use (repeatable)")
      ->check(CLI::ExistingFile)
      ->allow_extra_args(false);
  cmd->add_option("--config", o->config, "A RUN.toml whose [[plugins]] to load (and whose journal finds registered models)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--db", o->db, "The journal whose model registry resolves models named by name (default: the config's, else runs/onepath.db)");
  cmd->footer(
      "NaN (before a feature's first valid row) is an empty field; numbers read back to the same double.\n"
      "Examples:\n"
      "  onepath data gen --out market/ --symbols BTC\n"
      "  onepath enrich --data market/BTC.csv --features scripts/features/example.lua --out btc_features.csv\n"
      "  onepath enrich --data market/BTC.csv --features scripts/features/example.lua --out f.csv --mode stream --shadow\n"
      "  onepath enrich --data market/BTC.csv --features my_features.lua --out f.csv --plugin build/plugins/ta_extra.so\n"
      "  onepath enrich --data market/ETH.csv --with BTC=market/BTC.csv --features examples/cross_asset/features.lua --out eth.csv");
  cmd->callback([o, &action] {
    action = [o] {
      for (const auto& p : o->plugins) load_plugin(p);
      std::string registry = kDefaultJournal;
      if (!o->config.empty()) registry = load_run_config(o->config).registry;  // loads its [[plugins]]
      use_model_registry(o->db.empty() ? registry : o->db);
      Timeframe tf = Timeframe::parse("1m");
      std::vector<CandleSeries> market{read_checked(o->data, o->timeframe, tf)};
      FeatureSet set = load_feature_file(o->features);
      for (const auto& w : o->with) {  // SYMBOL=FILE
        const auto eq = w.find('=');
        if (eq == std::string::npos || eq == 0) throw InputError("--with '" + w + "': give SYMBOL=FILE, e.g. --with BTC=market/BTC.csv");
        Timeframe other = tf;
        market.push_back(read_checked(w.substr(eq + 1), o->timeframe, other));
        market.back().symbol = w.substr(0, eq);
        if (!(other == tf))
          throw InputError(w.substr(eq + 1) + ": timeframe " + std::string(other.name()) + " differs from " + o->data + "'s " + std::string(tf.name()));
      }
      for (const auto& symbol : symbols_read(set))
        if (std::none_of(market.begin() + 1, market.end(), [&](const CandleSeries& m) { return m.symbol == symbol; }))
          throw InputError(o->features + ": its features read symbol '" + symbol + "'; give its candles with --with " + symbol + "=FILE");
      market[0].symbol = "";  // the series enriched: never one the features name
      const CandleSeries& series = market[0];
      Enricher e(set, tf);
      log::info("enrich_start", {{"file", o->data}, {"features", o->features}, {"feature_set_version", e.version()},
                                 {"columns", e.columns().size()}, {"warmup_bars", e.warmup_bars()}, {"mode", o->mode}});
      FeatureColumns cols = o->mode == "batch" ? batch_columns(e, market, o->threads) : stream_columns(e, market);
      for (const auto& feature : e.never_ready(series.size()))
        log::warn("feature_never_ready", {{"feature", feature}, {"candles", series.size()}, {"file", o->data}});
      if (o->shadow) {
        Enricher other(set, tf);
        FeatureColumns alt = o->mode == "batch" ? stream_columns(other, market) : batch_columns(other, market, o->threads);
        ShadowComparator cmp(e.columns(), 0.0, 0);  // modes must agree exactly: any difference is reported
        std::vector<double> a(cols.size()), b(cols.size());
        try {
          for (std::size_t i = 0; i < series.size(); ++i) {
            for (std::size_t k = 0; k < cols.size(); ++k) a[k] = cols[k][i], b[k] = alt[k][i];
            cmp.compare(i, series.ts[i], a.data(), b.data());
          }
        } catch (const std::runtime_error&) {
        }
        if (const auto& d = cmp.first()) {
          fmt::print("shadow: FIRST DIVERGENCE at row {} ({}), feature {}: {} = {}, other mode = {}\n", d->row + 1, format_iso(d->ts),
                     d->column, o->mode, format_double(d->a), format_double(d->b));
          return 1;
        }
        fmt::print("shadow: batch and stream agree on all {} rows x {} columns, bit for bit\n", series.size(), cols.size());
      }
      write_features(o->out, series, e.columns(), cols);
      fmt::print("{} rows x {} features ({} mode) -> {}; feature_set_version {}, WARMUP_BARS {}\n", series.size(),
                 e.columns().size(), o->mode, o->out, e.version(), e.warmup_bars());
      return 0;
    };
  });
}

}  // namespace onepath::cli
