// onepath runs list | show | compare | export | verify: the journal, read.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "data/fingerprint.hpp"
#include "cli/commands.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/number_format.hpp"
#include "core/sha256.hpp"
#include "core/text_formats.hpp"
#include "data/candle_io.hpp"
#include "run/backtest.hpp"
#include "store/journal.hpp"

namespace onepath::cli {
namespace {

// The metrics JSON the backtest writes: one "key": value per line, in a fixed order.
std::vector<std::pair<std::string, std::string>> metric_fields(const std::string& json) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while ((pos = json.find('"', pos)) != std::string::npos) {
    std::size_t end = json.find('"', pos + 1);
    std::size_t colon = json.find(':', end);
    if (end == std::string::npos || colon == std::string::npos || json.find('\n', end) < colon) break;
    std::size_t stop = json.find('\n', colon);
    std::string value = json.substr(colon + 1, stop - colon - 1);
    while (!value.empty() && (value.back() == ',' || value.back() == ' ')) value.pop_back();
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    out.emplace_back(json.substr(pos + 1, end - pos - 1), value);
    pos = stop;
  }
  return out;
}

std::string metric(const std::string& json, const std::string& key) {
  for (const auto& [k, v] : metric_fields(json))
    if (k == key) return v;
  return "";
}

Journal& journal_at(std::unique_ptr<Journal>& j, const std::string& db) {
  if (!j) j = Journal::open_existing(db);
  return *j;
}

RunInfo need_run(Journal& j, std::int64_t id) {
  auto r = j.run(id);
  if (!r) throw InputError("no run " + std::to_string(id) + " in the journal " + j.db().describe() + " ('onepath runs list')");
  return *r;
}

// `-` (or nothing) is stdout; a regular file or a new path is written whole or not at all
// (through a symlink, to its target: the link stays); anything else (a FIFO, /dev/stdout,
// a device) is streamed to, never replaced.
void write_output(const std::string& out, const std::string& text) {
  namespace fs = std::filesystem;
  if (out.empty() || out == "-") {
    fmt::print("{}", text);
    return;
  }
  std::error_code ec;
  const fs::file_status st = fs::status(out, ec);  // what a link points at
  if (!fs::exists(st) || fs::is_regular_file(st)) {
    const bool link = fs::is_symlink(fs::symlink_status(out, ec));
    write_file_atomic(link && fs::exists(st) ? fs::canonical(out).string() : out, text);
    return;
  }
  if (fs::is_directory(st)) throw InputError("--out " + out + " is a folder; name a file");
  std::FILE* f = std::fopen(out.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write '" + out + "': " + std::strerror(errno));
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) throw std::runtime_error("cannot write '" + out + "': " + std::strerror(errno));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    if (end > at) out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

// Lines of A not in B ("-") and of B not in A ("+"), each in its own order.
void print_line_diff(const char* what, const std::string& a, const std::string& b, std::int64_t ia, std::int64_t ib) {
  const auto la = lines_of(a), lb = lines_of(b);
  std::vector<std::string> gone, added;
  for (const auto& l : la)
    if (std::find(lb.begin(), lb.end(), l) == lb.end()) gone.push_back(l);
  for (const auto& l : lb)
    if (std::find(la.begin(), la.end(), l) == la.end()) added.push_back(l);
  if (gone.empty() && added.empty()) {
    fmt::print("{}: identical\n", what);
    return;
  }
  fmt::print("{}: differ (- run {}, + run {})\n", what, ia, ib);
  for (const auto& l : gone) fmt::print("  - {}\n", l);
  for (const auto& l : added) fmt::print("  + {}\n", l);
}

std::string trade_line(const TradeRecord& r) {
  const Trade& t = r.trade;
  return fmt::format("{} {} {} @ {} ({}) -> {} ({}), pnl {}, {}", r.symbol, t.direction > 0 ? "long" : "short", format_double(t.quantity),
                     format_double(t.entry_price), format_iso(t.entry_ts), format_double(t.exit_price), format_iso(t.exit_ts),
                     format_double(t.pnl), exit_reason_name(t.reason));
}

// A metric as a person reads it: money to the cent, ratios to 4 significant digits, counts
// and names as they are. The journal and --json keep every digit.
std::string for_people(const std::string& key, const std::string& raw) {
  static const std::vector<std::string> money = {"initial_equity", "final_equity", "avg_win", "avg_loss", "fees"};
  if (raw.empty() || raw == "null") return "-";
  char* end = nullptr;
  const double v = std::strtod(raw.c_str(), &end);
  if (end == raw.c_str() || *end != '\0') return raw;  // text, a list
  if (std::find(money.begin(), money.end(), key) != money.end()) return fmt::format("{:.2f}", v);
  if (raw.find_first_of(".eE") == std::string::npos) return raw;  // a count
  return fmt::format("{:.4g}", v);
}

// The run's facts as a JSON object (runs list --json, runs show --json, runs export).
std::string run_json(const RunInfo& r) {
  auto q = [](const std::string& s) { return json_quote(s); };
  return "{\"id\": " + std::to_string(r.id) + ", \"kind\": " + q(r.kind) + ", \"status\": " + q(Journal::display_status(r)) +
         ", \"created_at\": " + q(format_iso(r.created_at)) + ", \"finished_at\": " + (r.finished_at ? q(format_iso(r.finished_at)) : "null") +
         ", \"config_path\": " + q(r.config_path) + ", \"config_sha256\": " + q(r.config_sha256) + ", \"git_revision\": " + q(r.git_revision) +
         ", \"feature_set_version\": " + q(r.feature_set_version) + ", \"data_fingerprint\": " + q(r.data_fingerprint) +
         ", \"symbols\": " + q(r.symbols) + (r.error.empty() ? "" : ", \"error\": " + q(r.error)) + "}";
}

std::string files_json(const std::string& files) {
  std::string out = "[";
  for (const auto& l : lines_of(files)) {
    const std::string sha = l.substr(0, l.find(' ')), path = l.size() > 66 ? l.substr(66) : "";
    out += (out.size() > 1 ? ", " : "") + std::string("{\"sha256\": ") + json_quote(sha) + ", \"path\": " + json_quote(path) + "}";
  }
  return out + "]";
}

// Rows of cells printed in columns as wide as their widest cell: nothing is cut.
void print_table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right) {
  std::vector<std::size_t> width(rows.empty() ? 0 : rows[0].size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const std::string pad(width[i] - row[i].size(), ' ');
      line += (i ? "  " : "") + (right[i] ? pad + row[i] : row[i] + (i + 1 < row.size() ? pad : ""));
    }
    fmt::print("{}\n", line);
  }
}

}  // namespace

void add_runs_commands(CLI::App& app, Action& action) {
  auto db = std::make_shared<std::string>(kDefaultJournal);
  auto journal = std::make_shared<std::unique_ptr<Journal>>();
  auto* runs = app.add_subcommand("runs", "The journal of runs: list, show, compare, export, verify, delete, prune");
  runs->require_subcommand(1);
  runs->add_option("--db", *db, "A SQLite file or postgresql://...")->capture_default_str();
  runs->footer(
      "Examples:\n"
      "  onepath runs list\n"
      "  onepath runs show 3\n"
      "  onepath runs compare 3 4\n"
      "  onepath runs export 3 --format csv --out trades.csv\n"
      "  onepath runs verify 3          re-run it on the same data and compare exactly\n"
      "  onepath runs delete 4 5\n"
      "  onepath runs prune --keep 50\n"
      "  onepath runs --db postgresql://user@host/onepath list");

  auto* list = runs->add_subcommand("list", "The latest runs");
  auto limit = std::make_shared<std::size_t>(20);
  auto json = std::make_shared<bool>(false);
  list->add_option("--limit", *limit, "How many")->capture_default_str();
  list->add_flag("--json", *json, "One JSON array on stdout: each run's facts, trade count and metrics in full precision");
  list->callback([=, &action] {
    action = [=] {
      Journal& j = journal_at(*journal, *db);
      const auto all = j.list_runs(static_cast<std::int64_t>(*limit));
      if (*json) {
        std::string out = "[";
        for (const auto& r : all) {
          std::string run = run_json(r);
          run.pop_back();
          out += (out.size() > 1 ? ",\n " : "") + run + ", \"trades\": " + std::to_string(j.count("trades", r.id)) +
                 ", \"metrics\": " + (r.metrics.empty() ? "null" : r.metrics) + "}";
        }
        fmt::print("{}]\n", out);
        return 0;
      }
      std::vector<std::vector<std::string>> rows = {{"id", "kind", "created (UTC)", "status", "config", "symbols", "trades", "return"}};
      for (const auto& r : all) {
        std::string ret = metric(r.metrics, "total_return");
        rows.push_back({std::to_string(r.id), r.kind, format_iso(r.created_at / 1000 * 1000), Journal::display_status(r), r.config_path, r.symbols,
                        std::to_string(j.count("trades", r.id)), ret.empty() || ret == "null" ? "-" : fmt::format("{:.2f}%", 100 * std::stod(ret))});
      }
      print_table(rows, {true, false, false, false, false, false, true, true});
      return 0;
    };
  });

  auto id_a = std::make_shared<std::int64_t>(0), id_b = std::make_shared<std::int64_t>(0);
  auto* show = runs->add_subcommand("show", "One run: where it came from, its metrics, its first trades");
  auto show_json = std::make_shared<bool>(false);
  show->add_option("ID", *id_a, "Run id")->required();
  show->add_flag("--json", *show_json, "One JSON object on stdout: the run, its config and files, metrics in full precision");
  show->callback([=, &action] {
    action = [=] {
      Journal& j = journal_at(*journal, *db);
      RunInfo r = need_run(j, *id_a);
      auto trades = j.trades(r.id);
      if (*show_json) {
        std::string first;
        for (std::size_t i = 0; i < trades.size() && i < 5; ++i) first += (i ? ", " : "") + json_quote(trade_line(trades[i]));
        fmt::print("{{\"run\": {},\n \"rows\": {{\"trades\": {}, \"equity\": {}, \"decisions\": {}, \"events\": {}}},\n \"metrics\": {},\n"
                   " \"first_trades\": [{}],\n \"config\": {},\n \"files\": {}}}\n",
                   run_json(r), trades.size(), j.count("equity", r.id), j.count("decisions", r.id), j.count("events", r.id),
                   r.metrics.empty() ? "null" : r.metrics, first, json_quote(r.config_text), files_json(r.files));
        return 0;
      }
      fmt::print("{} run {}  {}\n  created   {}{}\n  config    {} (sha256 {})\n  symbols   {}\n  revision  {}\n  features  {}\n  data      {}\n",
                 r.kind, r.id, Journal::display_status(r), format_iso(r.created_at), r.finished_at ? ", finished " + format_iso(r.finished_at) : "",
                 r.config_path, r.config_sha256.substr(0, 16), r.symbols, r.git_revision, r.feature_set_version, r.data_fingerprint.substr(0, 16));
      if (!r.error.empty()) fmt::print("  error     {}\n", r.error);
      fmt::print("  rows      {} trades, {} equity marks, {} decisions, {} events\n", trades.size(), j.count("equity", r.id),
                 j.count("decisions", r.id), j.count("events", r.id));
      for (const auto& [k, v] : metric_fields(r.metrics)) fmt::print("  {:<20} {}\n", k, for_people(k, v));
      for (std::size_t i = 0; i < trades.size() && i < 5; ++i) fmt::print("  trade {}: {}\n", i + 1, trade_line(trades[i]));
      fmt::print("config (as run, --set values applied):\n");
      for (const auto& l : lines_of(r.config_text)) fmt::print("  {}\n", l);
      if (!r.files.empty()) {
        fmt::print("files (SHA-256):\n");
        for (const auto& l : lines_of(r.files)) fmt::print("  {}\n", l);
      }
      return 0;
    };
  });

  auto* compare = runs->add_subcommand("compare", "Two runs' metrics side by side, and their first differing trade");
  compare->add_option("A", *id_a, "Run id")->required();
  compare->add_option("B", *id_b, "Run id")->required();
  compare->callback([=, &action] {
    action = [=] {
      Journal& j = journal_at(*journal, *db);
      RunInfo a = need_run(j, *id_a), b = need_run(j, *id_b);
      // What the runs were first, then what they gave.
      print_line_diff("config", a.config_text, b.config_text, a.id, b.id);
      print_line_diff("files", a.files, b.files, a.id, b.id);
      std::vector<std::vector<std::string>> rows = {{"", "run " + std::to_string(a.id), "run " + std::to_string(b.id), ""}};
      for (const auto& [k, v] : metric_fields(a.metrics)) {
        const std::string w = metric(b.metrics, k);
        rows.push_back({k, for_people(k, v), for_people(k, w), v == w ? "" : "*"});  // '*': differs in full precision
      }
      print_table(rows, {false, true, true, false});
      auto ta = j.trades(a.id), tb = j.trades(b.id);
      std::size_t n = std::min(ta.size(), tb.size()), i = 0;
      while (i < n && ta[i].symbol == tb[i].symbol && ta[i].trade == tb[i].trade) ++i;
      if (i == n && ta.size() == tb.size())
        fmt::print("trades: identical ({})\n", ta.size());
      else
        fmt::print("first differing trade: #{}\n  run {}: {}\n  run {}: {}\n", i + 1, a.id, i < ta.size() ? trade_line(ta[i]) : "(none)",
                   b.id, i < tb.size() ? trade_line(tb[i]) : "(none)");
      return 0;
    };
  });

  auto format = std::make_shared<std::string>("csv");
  auto out = std::make_shared<std::string>();
  auto* exp = runs->add_subcommand("export", "A run's trades as CSV, or the whole run as JSON");
  exp->add_option("ID", *id_a, "Run id")->required();
  exp->add_option("--format", *format, "csv (the trades) or json (run, metrics, trades, equity)")
      ->check(CLI::IsMember({"csv", "json"}))->capture_default_str();
  exp->add_option("--out", *out, "Output file (whole or not at all); '-' or absent: stdout; a FIFO or device is streamed to");
  exp->callback([=, &action] {
    action = [=] {
      Journal& j = journal_at(*journal, *db);
      RunInfo r = need_run(j, *id_a);
      auto trades = j.trades(r.id);
      std::string text;
      if (*format == "csv") {
        text = trades_csv(trades);
      } else {
        auto q = [](const std::string& s) { return json_quote(s); };
        auto num = [](double v) { return std::isfinite(v) ? format_double(v) : std::string("null"); };
        text = "{\"run\": " + run_json(r) + ",\n\"metrics\": " + (r.metrics.empty() ? "null" : r.metrics) + ",\n\"trades\": [";
        for (std::size_t i = 0; i < trades.size(); ++i) {
          const Trade& t = trades[i].trade;
          text += (i ? ",\n" : "\n") + std::string("{\"symbol\": ") + q(trades[i].symbol) + ", \"side\": " + q(t.direction > 0 ? "long" : "short") +
                  ", \"quantity\": " + num(t.quantity) + ", \"entry_time\": " + q(format_iso(t.entry_ts)) + ", \"entry_price\": " +
                  num(t.entry_price) + ", \"exit_time\": " + q(format_iso(t.exit_ts)) + ", \"exit_price\": " + num(t.exit_price) +
                  ", \"fees\": " + num(t.fees) + ", \"pnl\": " + num(t.pnl) + ", \"exit_reason\": " + q(exit_reason_name(t.reason)) + "}";
        }
        text += "],\n\"equity\": [";
        auto eq = j.equity(r.id);
        for (std::size_t i = 0; i < eq.size(); ++i)
          text += (i ? "," : "") + std::string("[") + std::to_string(eq[i].ts) + "," + num(eq[i].equity) + "]";
        text += "]}\n";
      }
      write_output(*out, text);
      return 0;
    };
  });

  auto ids = std::make_shared<std::vector<std::int64_t>>();
  auto* del = runs->add_subcommand("delete", "Delete runs and everything of them");
  del->add_option("ID", *ids, "Run ids")->required();
  del->callback([=, &action] {
    action = [=] {
      Journal& j = journal_at(*journal, *db);
      for (std::int64_t id : *ids) need_run(j, id);  // all exist, or nothing is deleted
      for (std::int64_t id : *ids) {
        j.delete_run(id);
        fmt::print("deleted run {}\n", id);
      }
      return 0;
    };
  });

  struct Prune {
    std::size_t keep = 0;
    double older_than_days = 0;
    bool dry_run = false;
  };
  auto pr = std::make_shared<Prune>();
  auto* prune = runs->add_subcommand("prune", "Delete old runs: beyond the newest --keep, or older than --older-than days");
  prune->add_option("--keep", pr->keep, "Keep the newest N runs")->check(CLI::NonNegativeNumber);
  prune->add_option("--older-than", pr->older_than_days, "Delete runs created more than DAYS ago")->check(CLI::PositiveNumber);
  prune->add_flag("--dry-run", pr->dry_run, "Only say what would be deleted");
  prune->footer("Running runs are never pruned. Example:\n  onepath runs prune --keep 50\n  onepath runs prune --older-than 30 --dry-run");
  prune->callback([=, &action] {
    action = [=] {
      if (!pr->keep && pr->older_than_days <= 0) throw InputError("runs prune needs --keep N or --older-than DAYS");
      Journal& j = journal_at(*journal, *db);
      const auto all = j.list_runs(std::numeric_limits<std::int64_t>::max());  // newest first
      const TimestampMs now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
      const auto cutoff = now - static_cast<TimestampMs>(pr->older_than_days * 86'400'000.0);
      std::size_t n = 0;
      for (std::size_t i = 0; i < all.size(); ++i) {
        const RunInfo& r = all[i];
        const bool beyond = pr->keep && i >= pr->keep, old = pr->older_than_days > 0 && r.created_at < cutoff;
        if (!(beyond || old) || Journal::display_status(r) == "running") continue;
        if (!pr->dry_run) j.delete_run(r.id);
        fmt::print("{} run {} ({}, {})\n", pr->dry_run ? "would delete" : "deleted", r.id, format_iso(r.created_at / 1000 * 1000), r.status);
        ++n;
      }
      fmt::print("{} {} run{}\n", pr->dry_run ? "would delete" : "deleted", n, n == 1 ? "" : "s");
      return 0;
    };
  });

  auto* verify = runs->add_subcommand("verify", "Re-run a run's stored config on the same data and compare exactly");
  verify->add_option("ID", *id_a, "Run id")->required();
  verify->footer(
      "A backtest, or a paper session that replayed all its [data]. The data must be the same (its fingerprint\n"
      "is checked first); then trades, metrics and the\n"
      "feature-row hashes of every decision must match bit for bit. Exit 0 when they do, 1 when not.");
  verify->callback([=, &action] {
    action = [=] {
      Journal& j = journal_at(*journal, *db);
      RunInfo r = need_run(j, *id_a);
      if (r.status != "complete") throw InputError("run " + std::to_string(r.id) + " is " + Journal::display_status(r) + "; only complete runs can be verified");
      if (r.kind != "backtest" && r.kind != "paper") throw InputError("run " + std::to_string(r.id) + " is a " + r.kind + " run; only backtests and paper sessions can be verified");
      RunConfig c = load_run_config_text(r.config_text, r.config_path);
      // A paper session that replayed its [data] from the first candle is the backtest of it (Eq. 5).
      const bool paper = r.kind == "paper";
      if (paper && (r.data_fingerprint.empty() || c.paper.start))
        throw InputError("run " + std::to_string(r.id) + " is a paper session on " +
                         (r.data_fingerprint.empty() ? std::string("a live or generated feed: its candles cannot be replayed") : "a replay from [paper] start: only a replay of all its [data] can be verified"));
      c.output_dir.clear();
      c.journal.clear();
      c.registry = *db;
      Timeframe tf = Timeframe::parse("15m");
      std::vector<CandleSeries> market = load_market(c, tf);
      std::string fp = market_fingerprint(market);
      if (fp != r.data_fingerprint) {
        fmt::print("run {}: DATA CHANGED: the input data's fingerprint was {} and is now {}; the run cannot be reproduced on it\n",
                   r.id, r.data_fingerprint.substr(0, 16), fp.substr(0, 16));
        return 1;
      }
      BacktestResult now = run_backtest_on(c.session, market, tf);
      auto stored = j.trades(r.id);
      std::size_t n = std::min(stored.size(), now.trades.size()), i = 0;
      while (i < n && stored[i].trade == [&] { Trade t = now.trades[i]; t.symbol = 0; return t; }() && stored[i].symbol == now.symbols[now.trades[i].symbol]) ++i;
      bool trades_ok = i == n && stored.size() == now.trades.size();
      // The results, not the strings that name where things are: the strategy's path
      // depends on where the run was started from.
      auto results = [](const std::string& json) {
        auto fields = metric_fields(json);
        std::erase_if(fields, [](const auto& f) { return f.first == "strategy"; });
        return fields;
      };
      // A paper session's metrics come from its journal's marks: every one only with equity_every = 1.
      const bool metrics_compared = !paper || c.equity_every == 1;
      bool metrics_ok = !metrics_compared || results(metrics_json(c, now)) == results(r.metrics);
      auto decisions = j.decisions(r.id);
      bool hashes_ok = decisions.size() == now.decision_log.size();
      for (std::size_t k = 0; hashes_ok && k < decisions.size(); ++k) hashes_ok = decisions[k].feature_row_hash == now.decision_log.record(k).feature_row_hash;
      fmt::print("run {}: data {} (same), trades {} ({}), metrics {}, decisions' feature-row hashes {} ({})\n", r.id, fp.substr(0, 16),
                 trades_ok ? "identical" : "DIFFER", now.trades.size(),
                 !metrics_compared ? "not compared (equity_every > 1)" : metrics_ok ? "identical" : "DIFFER", hashes_ok ? "identical" : "DIFFER",
                 now.decision_log.size());
      if (!trades_ok)
        fmt::print("  first differing trade #{}: stored {} / now {}\n", i + 1, i < stored.size() ? trade_line(stored[i]) : "(none)",
                   i < now.trades.size() ? trade_line({now.symbols[now.trades[i].symbol], now.trades[i]}) : "(none)");
      bool ok = trades_ok && metrics_ok && hashes_ok;
      if (!ok) {  // what changed since the run: its scripts and files as they are now
        for (const auto& l : lines_of(r.files)) {
          const std::string sha = l.substr(0, l.find(' ')), path = l.size() > 66 ? l.substr(66) : "";
          std::string now_sha;
          try {
            now_sha = sha256_hex(read_file(path));
          } catch (const std::exception&) {
            now_sha = "(gone)";
          }
          if (now_sha != sha) fmt::print("  changed since the run: {} ({} -> {})\n", path, sha.substr(0, 12), now_sha.substr(0, 12));
        }
      }
      fmt::print("{}\n", ok ? "VERIFIED: the run reproduces exactly" : "NOT REPRODUCED");
      return ok ? 0 : 1;
    };
  });
}

}  // namespace onepath::cli
