// onepath data gen | check | resample
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <filesystem>
#include <map>

#include "cli/commands.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/number_format.hpp"
#include "data/candle_io.hpp"
#include "data/resample.hpp"
#include "data/synth.hpp"
#include "data/validate.hpp"

namespace onepath::cli {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::optional<Timeframe> optional_timeframe(const std::string& name) {
  if (name.empty()) return std::nullopt;
  return Timeframe::parse(name);
}

std::string where(const CandleFile& f, std::size_t row) {
  return row < f.lines.size() ? "line " + std::to_string(f.lines[row]) : "row " + std::to_string(row + 1);
}

// Prints the report; returns true when the data has no errors.
bool print_report(const CandleFile& f, const ValidationReport& r, std::size_t max_listed) {
  const CandleSeries& s = f.series;
  fmt::print("{}: {} candles", f.path, s.size());
  if (!s.empty()) fmt::print(", {} .. {}", format_iso(s.ts.front()), format_iso(s.ts.back()));
  fmt::print(", timeframe {}{}\n", r.timeframe.name(), r.timeframe_inferred ? " (inferred from the data)" : "");

  fmt::print("  gaps: {} ({} candles missing)\n", r.gaps.size(), r.missing_candles);
  for (std::size_t i = 0; i < r.gaps.size() && (max_listed == 0 || i < max_listed); ++i) {
    const Gap& g = r.gaps[i];
    fmt::print("    {}: {} missing between {} and {}\n", where(f, g.row), g.missing, format_iso(g.after_ts),
               format_iso(g.before_ts));
    log::debug("data_gap", {{"file", f.path}, {"after", format_iso(g.after_ts)}, {"before", format_iso(g.before_ts)},
                            {"missing", g.missing}});
  }
  if (max_listed != 0 && r.gaps.size() > max_listed) fmt::print("    ... and {} more gaps\n", r.gaps.size() - max_listed);

  for (Severity sev : {Severity::error, Severity::warning}) {
    std::map<std::string, std::size_t> per_rule;
    for (const auto& fd : r.findings)
      if (fd.severity == sev) ++per_rule[fd.rule];
    std::string counts;
    for (const auto& [rule, n] : per_rule) counts += (counts.empty() ? "" : ", ") + rule + " " + std::to_string(n);
    fmt::print("  {}: {}{}\n", sev == Severity::error ? "errors" : "warnings", r.count(sev),
               counts.empty() ? "" : " (" + counts + ")");
    std::map<std::string, std::size_t> listed;
    for (const auto& fd : r.findings) {
      if (fd.severity != sev) continue;
      std::size_t& n = listed[fd.rule];
      if (max_listed != 0 && n++ >= max_listed) continue;
      std::string value = fd.column.empty() ? "" : " " + fd.column + "=" + (fd.column == "ts" ? format_iso(static_cast<TimestampMs>(fd.value)) : format_double(fd.value));
      fmt::print("    {} {}{}: {}\n", where(f, fd.row), fd.rule, value, fd.message);
    }
    for (const auto& [rule, n] : per_rule)
      if (max_listed != 0 && n > max_listed) fmt::print("    ... and {} more {}\n", n - max_listed, rule);
  }
  log::info("data_check", {{"file", f.path}, {"candles", s.size()}, {"timeframe", std::string(r.timeframe.name())},
                           {"gaps", r.gaps.size()}, {"missing", r.missing_candles},
                           {"errors", r.count(Severity::error)}, {"warnings", r.count(Severity::warning)}});
  fmt::print("  {}\n", r.ok() ? "OK" : "FAILED: fix the errors above");
  return r.ok();
}

void add_gen(CLI::App& data, Action& action) {
  struct Opts {
    std::string symbols = "BTC", timeframe = "15m", start = "2024-03-01", end, scenario = "volatile", out, ts_format = "iso";
    std::size_t bars = 10'000;
    std::uint64_t seed = 1;
    double corr = 0.8;
    bool no_defects = false, force = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = data.add_subcommand("gen", "Generate a deterministic synthetic market (same seed, same bytes)");
  cmd->add_option("--out", o->out, "A folder (one SYMBOL.csv per symbol) or, for one symbol, a .csv file")->required();
  cmd->add_option("--symbols", o->symbols, "Comma-separated; the first leads, the others follow it")->capture_default_str();
  cmd->add_option("--timeframe", o->timeframe, "Bar size: 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 1w")->capture_default_str();
  cmd->add_option("--start", o->start, "First bar, ISO-8601 UTC (aligned down to the timeframe)")->capture_default_str();
  auto* bars = cmd->add_option("--bars", o->bars, "Bars in the range, before gaps remove some")->capture_default_str();
  cmd->add_option("--end", o->end, "End of the range (exclusive), instead of --bars")->excludes(bars);
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--scenario", o->scenario, "quiet, volatile (with a flash crash) or stress")
      ->check(CLI::IsMember({"quiet", "volatile", "stress"}))->capture_default_str();
  cmd->add_option("--corr", o->corr, "Correlation of each follower's shocks with the leader's")
      ->check(CLI::Range(-1.0, 1.0))->capture_default_str();
  cmd->add_flag("--no-defects", o->no_defects, "No gaps and no zero-volume candles");
  cmd->add_flag("--force", o->force, "Replace files that exist (without it, an existing file is an error)");
  cmd->add_option("--ts-format", o->ts_format, "Timestamps as 'iso' (2024-03-01T00:00:00Z) or 'ms' (epoch ms)")
      ->check(CLI::IsMember({"iso", "ms"}))->capture_default_str();
  cmd->footer(
      "Examples:\n"
      "  onepath data gen --out market/ --symbols BTC,ETH,SOL                 15m, 10000 bars from 2024-03-01\n"
      "  onepath data gen --out btc.csv --timeframe 1h --start 2023-01-01 --end 2024-01-01 --scenario stress\n"
      "Known symbols start at realistic prices (BTC 60000, ETH 3000, SOL 150, ...); others at 100.");
  cmd->callback([o, &action] {
    action = [o] {
      SynthOptions so;
      so.timeframe = Timeframe::parse(o->timeframe);
      so.start_ms = so.timeframe.floor(parse_timestamp(o->start));
      if (!o->end.empty()) {
        TimestampMs end = parse_timestamp(o->end);
        if (end <= so.start_ms) throw InputError("--end " + o->end + " is not after --start " + o->start);
        so.bars = static_cast<std::size_t>((end - so.start_ms + so.timeframe.duration_ms() - 1) / so.timeframe.duration_ms());
      } else {
        so.bars = o->bars;
      }
      so.seed = o->seed;
      so.scenario = parse_scenario(o->scenario);
      so.with_defects = !o->no_defects;
      auto names = split_list(o->symbols);
      if (names.empty()) throw InputError("--symbols names no symbol");
      {  // nothing is overwritten unasked, and that is known before the generating
        namespace fs = std::filesystem;
        const bool one_file = o->out.size() > 4 && o->out.ends_with(".csv");
        for (const auto& n : names) {
          const fs::path path = one_file ? fs::path(o->out) : fs::path(o->out) / (n + ".csv");
          if (!o->force && fs::exists(path)) throw InputError(path.string() + " exists; --force replaces it");
        }
      }
      for (const auto& n : names) so.symbols.push_back(preset_symbol(n, o->corr));
      auto market = generate_market(so);

      namespace fs = std::filesystem;
      bool to_file = o->out.size() > 4 && o->out.ends_with(".csv");
      if (to_file && market.size() > 1) throw InputError("--out names one .csv file but there are several symbols; give a folder");
      if (!to_file) fs::create_directories(o->out);
      TsFormat tsf = o->ts_format == "ms" ? TsFormat::epoch_ms : TsFormat::iso;
      fmt::print("{} market, {} {} bars from {} (seed {}):\n", o->scenario, so.bars, so.timeframe.name(),
                 format_iso(so.start_ms), so.seed);
      fmt::print("  {:<8} {:>9} {:>14} {:>14} {:>14} {:>9}  {}\n", "symbol", "candles", "first close", "last close",
                 "min low", "return", "file");
      for (const auto& s : market) {
        std::string path = to_file ? o->out : (fs::path(o->out) / (s.symbol + ".csv")).string();
        write_file_atomic(path, to_csv(s, tsf));
        double lo = *std::min_element(s.low.begin(), s.low.end());
        double ret = 100.0 * (s.close.back() / s.close.front() - 1.0);
        fmt::print("  {:<8} {:>9} {:>14} {:>14} {:>14} {:>8.1f}%  {}\n", s.symbol, s.size(), format_double(s.close.front()),
                   format_double(s.close.back()), format_double(lo), ret, path);
        log::debug("data_generated", {{"symbol", s.symbol}, {"candles", s.size()}, {"file", path}});
      }
      return 0;
    };
  });
}

void add_check(CLI::App& data, Action& action) {
  struct Opts {
    std::vector<std::string> files;
    std::string timeframe;
    std::size_t max_listed = 10;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = data.add_subcommand("check", "Validate candle files: order, alignment, OHLC sanity, gaps, quality warnings");
  cmd->add_option("FILE", o->files, "CSV or JSON candle files")->required()->check(CLI::ExistingFile);
  cmd->add_option("--timeframe", o->timeframe, "The candles' timeframe; inferred from the smallest step when absent");
  cmd->add_option("--max-listed", o->max_listed, "Items listed per rule (0 = all)")->capture_default_str();
  cmd->footer(
      "Errors (exit 2): ts_duplicate, ts_disorder, ts_misaligned, not_finite, ohlc_inconsistent, volume_negative.\n"
      "Warnings (exit 0): return_outlier (|log return| > 5 trailing sigmas), volume_drop (> 80% below the\n"
      "trailing 20-bar mean), wick_to_body (wicks > 5x the body). Gaps are counted and listed.\n"
      "Examples:\n"
      "  onepath data check market/BTC.csv\n"
      "  onepath data check --timeframe 1h --max-listed 0 btc_1h.csv\n"
      "  onepath --log-format json data check market/*.csv");
  cmd->callback([o, &action] {
    action = [o] {
      bool all_ok = true;
      for (const auto& path : o->files) {
        CandleFile f = read_candles(path);
        if (f.series.empty()) throw InputError(path + ": no candles");
        ValidateOptions vo;
        vo.timeframe = optional_timeframe(o->timeframe);
        all_ok = print_report(f, validate(f.series, vo), o->max_listed) && all_ok;
      }
      return all_ok ? 0 : 2;
    };
  });
}

void add_resample(CLI::App& data, Action& action) {
  struct Opts {
    std::string file, to, timeframe, out;
    bool keep_partial = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = data.add_subcommand("resample", "Aggregate candles to a higher timeframe (aligned-close policy)");
  cmd->add_option("FILE", o->file, "CSV or JSON candle file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--to", o->to, "Target timeframe, a whole multiple of the data's")->required();
  cmd->add_option("--timeframe", o->timeframe, "The candles' timeframe; inferred from the data when absent");
  cmd->add_option("--out", o->out, "Output CSV (written whole or not at all); stdout when absent");
  cmd->add_flag("--keep-partial", o->keep_partial, "Also write the last bar when it is not complete yet");
  cmd->footer(
      "A higher bar holds the base candles whose open time falls inside it. It is complete when its last\n"
      "base candle is there, or, when that one is missing, when a candle of a later bar arrives.\n"
      "Examples:\n"
      "  onepath data resample market/BTC.csv --to 1h --out btc_1h.csv\n"
      "  onepath data resample btc_1m.json --to 1d > btc_1d.csv");
  cmd->callback([o, &action] {
    action = [o] {
      CandleFile f = read_candles(o->file);
      if (f.series.empty()) throw InputError(o->file + ": no candles");
      ValidateOptions vo;
      vo.timeframe = optional_timeframe(o->timeframe);
      if (!vo.timeframe) {
        vo.timeframe = infer_timeframe(f.series);
        log::info("timeframe_inferred", {{"file", o->file}, {"timeframe", std::string(vo.timeframe->name())}});
      }
      Resampler check_target(*vo.timeframe, Timeframe::parse(o->to));  // a usage error before any data error
      ValidationReport report = validate(f.series, vo);
      if (!report.ok()) {
        print_report(f, report, 10);
        return 2;
      }
      CandleSeries out = resample(f.series, report.timeframe, Timeframe::parse(o->to), o->keep_partial);
      std::string csv = to_csv(out);
      if (o->out.empty()) fmt::print("{}", csv); else write_file_atomic(o->out, csv);
      log::info("data_resampled", {{"file", o->file}, {"from", std::string(report.timeframe.name())}, {"to", o->to},
                                   {"candles_in", f.series.size()}, {"bars_out", out.size()}});
      return 0;
    };
  });
}

}  // namespace

void add_data_commands(CLI::App& app, Action& action) {
  auto* data = app.add_subcommand("data", "Candle data: generate, check, resample");
  data->require_subcommand(1);
  add_gen(*data, action);
  add_check(*data, action);
  add_resample(*data, action);
}

}  // namespace onepath::cli
