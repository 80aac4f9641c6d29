// onepath certify RUN.toml: the parity certificate of a config, and --check of one.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <filesystem>

#include "certify/certify.hpp"
#include "cli/commands.hpp"
#include "cli/recorded_run.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "run/backtest.hpp"
#include "run/run_config.hpp"
#include "store/journal.hpp"

namespace onepath::cli {

void add_certify_commands(CLI::App& app, Action& action) {
  struct Opts {
    std::string config, out, db, check;
    std::vector<std::string> sets;
    bool fixtures = false, allow_in_sample = false, no_journal = false, quiet = false;
    int splits = 5, lookahead = 10;
    std::uint64_t seed = 1;
    std::size_t fixture_bars = 3000;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("certify", "Prove a config's one code path: batch = streaming, restores, paper = backtest, no lookahead");
  cmd->add_option("RUN.toml", o->config, "The run's configuration (its data, strategy, filters, plugins and models)")->check(CLI::ExistingFile);
  cmd->add_option("--set", o->sets, "Override a config value: key.path=value (repeatable)");
  cmd->add_flag("--fixtures", o->fixtures, "Also the seed grid: BTC / ETH / SOL generated x quiet / volatile / stress (9 cases)");
  cmd->add_option("--fixture-bars", o->fixture_bars, "Candles per fixture case")->capture_default_str()->check(CLI::Range(200, 1000000));
  cmd->add_option("--splits", o->splits, "Random save/restore and bootstrap points per check")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--lookahead", o->lookahead, "Random cut points of the lookahead analysis")->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--seed", o->seed, "Seed of the random points (the certificate names it)")->capture_default_str();
  cmd->add_flag("--allow-in-sample", o->allow_in_sample, "A model trained on the certified data is a warning, not a failure");
  cmd->add_option("--out", o->out, "Folder for certificate.json and certificate.html (default runs/<config name>/certify)");
  cmd->add_option("--db", o->db, "Journal: a SQLite file or postgresql://... (default [output] db, else runs/onepath.db)");
  cmd->add_flag("--no-journal", o->no_journal, "Do not record the certification in the journal");
  cmd->add_option("--check", o->check, "Say whether an earlier certificate still applies: its inputs hashed again")->check(CLI::ExistingFile);
  cmd->footer(
      "Eq. 1: every feature column, batch = streaming at every bar, and after a bootstrap, snapshot and restore at\n"
      "random bars. Eq. 2: each model, native batch = native one row = libxgboost. Eq. 3 and 4: decisions, trades,\n"
      "marks and the whole state are the same when the run is saved and restored at random slices. Eq. 5: a paper\n"
      "replay at full speed = the backtest. Lookahead: nothing at or before a cut changes when the data after it is\n"
      "removed or replaced. Recursive: the history each feature really needs. Exact comparisons, bit for bit.\n"
      "Examples:\n"
      "  onepath certify examples/quickstart.toml --fixtures\n"
      "  onepath certify --check runs/quickstart/certify/certificate.json\n"
      "Exit codes: 0 certified (or --check: it still applies), 1 a divergence, a lookahead, a model in sample (or\n"
      "--check: an input changed), 2 bad usage or input. Details: docs/certify.md.");
  cmd->callback([o, &action] {
    action = [o] {
      namespace fs = std::filesystem;
      if (!o->check.empty()) {
        const CertificateCheck r = check_certificate(o->check);
        for (const auto& line : r.changed) fmt::print("changed: {}\n", line);
        fmt::print("{}: {} ({} input files hashed again)\n", o->check, r.applies ? "still applies" : "no longer applies", r.checked);
        return r.applies ? 0 : 1;
      }
      if (o->config.empty()) throw InputError("certify needs a RUN.toml (or --check CERTIFICATE.json)");
      RunConfig c = load_run_config(o->config, o->sets);
      if (!o->db.empty()) c.journal = c.registry = o->db;
      if (o->no_journal) c.journal.clear();
      CertifyOptions co;
      co.fixtures = o->fixtures;
      co.fixture_bars = o->fixture_bars;
      co.splits = o->splits;
      co.lookahead = o->lookahead;
      co.seed = o->seed;
      co.allow_in_sample = o->allow_in_sample;
      co.version = ONEPATH_VERSION;
      co.git_revision = ONEPATH_GIT_REV;
      co.progress = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };

      RecordedRun recorded(c, "certify");
      const Certificate cert = recorded.run([&] { return certify(c, co); });
      Journal* journal = recorded.journal.get();
      const std::int64_t run_id = recorded.id;
      const fs::path out = o->out.empty() ? fs::path("runs") / fs::path(c.path).stem() / "certify" : fs::path(o->out);
      fs::create_directories(out);
      const std::string json = certificate_json(cert);
      write_file_atomic((out / "certificate.json").string(), json);
      write_file_atomic((out / "certificate.html").string(), certificate_html(cert));
      if (journal) {
        std::string files;
        for (const auto& i : cert.inputs) files += i.sha256 + "  " + i.path + "\n";
        if (cert.passed) journal->end_run(run_id, "complete", {"", "", json, files, {}});
        else journal->fail_run(run_id, cert.divergence ? "diverged: " + cert.divergence->stage + ", " + cert.divergence->field
                                                       : cert.failures.empty() ? "failed" : cert.failures.front());
      }
      if (cert.divergence) fmt::print("{}", describe(*cert.divergence));
      for (const auto& f : cert.failures) fmt::print("FAILED: {}\n", f);
      for (const auto& w : cert.warnings) fmt::print("warning: {}\n", w);
      std::size_t checks = 0;
      for (const auto& k : cert.cases) checks += k.stages.size();
      fmt::print("certificate {}: {} cases, {} checks, {} inputs hashed, {:.1f} s\n  {}\n  {}\n", cert.passed ? "PASSED" : "FAILED", cert.cases.size(),
                 checks, cert.inputs.size(), cert.seconds, (out / "certificate.json").string(), (out / "certificate.html").string());
      if (journal) fmt::print("  journal: run {} in {}\n", run_id, c.journal);
      return cert.passed ? 0 : 1;
    };
  });
}

}  // namespace onepath::cli
