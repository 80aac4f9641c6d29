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
#include "enrich/enricher.hpp"
#include "enrich/shadow.hpp"
#include "lua/feature_file.hpp"
#include "plugin/loader.hpp"
#include "run/backtest.hpp"
#include "run/run_config.hpp"

namespace onepath::cli {
namespace {

FeatureColumns stream_columns(Enricher& e, const CandleSeries& s) {
  FeatureColumns cols(e.columns().size(), std::vector<double>(s.size()));
  std::vector<double> row(e.columns().size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    e.update(s[i]);
    e.emit(row.data());
    for (std::size_t k = 0; k < row.size(); ++k) cols[k][i] = row[k];
  }
  return cols;
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
    std::vector<std::string> plugins;
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
      "  onepath enrich --data market/BTC.csv --features my_features.lua --out f.csv --plugin build/plugins/ta_extra.so");
  cmd->callback([o, &action] {
    action = [o] {
      for (const auto& p : o->plugins) load_plugin(p);
      std::string registry = kDefaultJournal;
      if (!o->config.empty()) registry = load_run_config(o->config).registry;  // loads its [[plugins]]
      use_model_registry(o->db.empty() ? registry : o->db);
      CandleFile f = read_candles(o->data);
      if (f.series.empty()) throw InputError(o->data + ": no candles");
      ValidateOptions vo;
      if (!o->timeframe.empty()) vo.timeframe = Timeframe::parse(o->timeframe);
      ValidationReport report = validate(f.series, vo);
      if (report.timeframe_inferred) log::info("timeframe_inferred", {{"file", o->data}, {"timeframe", std::string(report.timeframe.name())}});
      if (!report.ok()) {
        const Finding* first = nullptr;
        for (const auto& x : report.findings)
          if (x.severity == Severity::error) { first = &x; break; }
        throw InputError(o->data + ":" + std::to_string(f.lines[first->row]) + ": " + first->rule + ": " + first->message +
                         " (" + std::to_string(report.count(Severity::error)) + " errors; see 'onepath data check')");
      }
      FeatureSet set = load_feature_file(o->features);
      Enricher e(set, report.timeframe);
      log::info("enrich_start", {{"file", o->data}, {"features", o->features}, {"feature_set_version", e.version()},
                                 {"columns", e.columns().size()}, {"warmup_bars", e.warmup_bars()}, {"mode", o->mode}});
      FeatureColumns cols = o->mode == "batch" ? e.enrich_batch(f.series, o->threads) : stream_columns(e, f.series);
      for (const auto& feature : e.never_ready(f.series.size()))
        log::warn("feature_never_ready", {{"feature", feature}, {"candles", f.series.size()}, {"file", o->data}});
      if (o->shadow) {
        Enricher other(set, report.timeframe);
        FeatureColumns alt = o->mode == "batch" ? stream_columns(other, f.series) : other.enrich_batch(f.series, o->threads);
        ShadowComparator cmp(e.columns(), 0.0, 0);  // modes must agree exactly: any difference is reported
        std::vector<double> a(cols.size()), b(cols.size());
        try {
          for (std::size_t i = 0; i < f.series.size(); ++i) {
            for (std::size_t k = 0; k < cols.size(); ++k) a[k] = cols[k][i], b[k] = alt[k][i];
            cmp.compare(i, f.series.ts[i], a.data(), b.data());
          }
        } catch (const std::runtime_error&) {
        }
        if (const auto& d = cmp.first()) {
          fmt::print("shadow: FIRST DIVERGENCE at row {} ({}), feature {}: {} = {}, other mode = {}\n", d->row + 1, format_iso(d->ts),
                     d->column, o->mode, format_double(d->a), format_double(d->b));
          return 1;
        }
        fmt::print("shadow: batch and stream agree on all {} rows x {} columns, bit for bit\n", f.series.size(), cols.size());
      }
      write_features(o->out, f.series, e.columns(), cols);
      fmt::print("{} rows x {} features ({} mode) -> {}; feature_set_version {}, WARMUP_BARS {}\n", f.series.size(),
                 e.columns().size(), o->mode, o->out, e.version(), e.warmup_bars());
      return 0;
    };
  });
}

}  // namespace onepath::cli
