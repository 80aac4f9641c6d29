// onepath bench csv: user-facing measurements on generated data.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <chrono>
#include <unistd.h>

#include <filesystem>

#include "cli/commands.hpp"
#include "core/atomic_file.hpp"
#include "data/candle_io.hpp"
#include "data/synth.hpp"

namespace onepath::cli {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void add_bench_csv(CLI::App& bench, Action& action) {
  struct Opts {
    std::size_t rows = 1'000'000;
    int runs = 5;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = bench.add_subcommand("csv", "Time reading a generated candle CSV (best of several runs)");
  cmd->add_option("--rows", o->rows, "Candles in the file")->capture_default_str();
  cmd->add_option("--runs", o->runs, "Timed reads; the best is reported")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object instead of text");
  cmd->footer("Example:\n  onepath bench csv --rows 1000000");
  cmd->callback([o, &action] {
    action = [o] {
      SynthOptions so;
      so.symbols = {preset_symbol("BTC", 1.0)};
      so.bars = o->rows;
      so.start_ms = parse_timestamp("2020-01-01");
      so.with_defects = false;
      std::string csv = to_csv(generate_market(so)[0]);
      auto path = (std::filesystem::temp_directory_path() / ("onepath-bench-" + std::to_string(::getpid()) + ".csv")).string();
      write_file_atomic(path, csv);
      double best = 1e300;
      std::size_t n = 0;
      for (int r = 0; r < o->runs; ++r) {
        auto t0 = Clock::now();
        n = read_candles(path).series.size();
        best = std::min(best, seconds_since(t0));
      }
      std::filesystem::remove(path);
      double mb = static_cast<double>(csv.size()) / 1e6;
      if (o->json)
        fmt::print("{{\"bench\":\"csv\",\"rows\":{},\"bytes\":{},\"best_seconds\":{:.6f},\"rows_per_second\":{:.0f}}}\n", n,
                   csv.size(), best, static_cast<double>(n) / best);
      else
        fmt::print("csv read: {} candles ({:.1f} MB, ISO timestamps) in {:.3f} s best of {}: {:.2f} M candles/s, {:.0f} MB/s\n",
                   n, mb, best, o->runs, static_cast<double>(n) / best / 1e6, mb / best);
      return 0;
    };
  });
}

}  // namespace

void add_bench_commands(CLI::App& app, Action& action) {
  auto* bench = app.add_subcommand("bench", "Measure onepath on this machine (generated data, no network)");
  bench->require_subcommand(1);
  add_bench_csv(*bench, action);
}

}  // namespace onepath::cli
