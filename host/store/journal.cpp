#include "store/journal.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/error.hpp"
#include "core/number_format.hpp"
#include "core/process.hpp"
#include "core/text_formats.hpp"

namespace onepath {
namespace {

std::string hostname() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// Migration N brings the schema from version N-1 to N. Only ever append.
std::vector<std::string> migrations(std::string_view dialect) {
  const std::string id = dialect == "postgresql" ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY";
  return {
      "CREATE TABLE runs (id " + id +
          ", created_at BIGINT NOT NULL, finished_at BIGINT, status TEXT NOT NULL, pid BIGINT, host TEXT, "
          "config_path TEXT, config_text TEXT, config_sha256 TEXT, git_revision TEXT, feature_set_version TEXT, "
          "data_fingerprint TEXT, symbols TEXT, metrics TEXT, error TEXT);"
          "CREATE INDEX runs_created ON runs (created_at);"
          "CREATE TABLE trades (run_id BIGINT NOT NULL REFERENCES runs (id), seq BIGINT NOT NULL, symbol TEXT NOT NULL, "
          "side TEXT NOT NULL, quantity DOUBLE PRECISION, entry_time BIGINT, entry_bar BIGINT, entry_price DOUBLE PRECISION, "
          "exit_time BIGINT, exit_bar BIGINT, exit_price DOUBLE PRECISION, fees DOUBLE PRECISION, slippage DOUBLE PRECISION, "
          "pnl DOUBLE PRECISION, ret DOUBLE PRECISION, exit_reason TEXT, exit_rule TEXT, PRIMARY KEY (run_id, seq));"
          "CREATE TABLE equity (run_id BIGINT NOT NULL REFERENCES runs (id), seq BIGINT NOT NULL, ts BIGINT NOT NULL, "
          "equity DOUBLE PRECISION, cash DOUBLE PRECISION, gross_exposure DOUBLE PRECISION, PRIMARY KEY (run_id, seq));"
          "CREATE TABLE decisions (run_id BIGINT NOT NULL REFERENCES runs (id), seq BIGINT NOT NULL, ts BIGINT NOT NULL, "
          "symbol TEXT, action TEXT, outcome TEXT, quantity DOUBLE PRECISION, feature_row_hash TEXT, features TEXT, "
          "model_score DOUBLE PRECISION, filter TEXT, reason TEXT, risk TEXT, PRIMARY KEY (run_id, seq));"
          "CREATE TABLE events (id " + id +
          ", run_id BIGINT, correlation_id TEXT, ts BIGINT NOT NULL, name TEXT NOT NULL, fields TEXT);",
      // 2: paper sessions are runs too
      "ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'backtest'",
      // 3: decisions name the strategy version that made them (hot reload)
      "ALTER TABLE decisions ADD COLUMN strategy_version TEXT",
      // 4: the files a run used, with their SHA-256
      "ALTER TABLE runs ADD COLUMN files TEXT",
      // 5: the names of a decision's features, in order (comma-separated), for explain and show
      "ALTER TABLE runs ADD COLUMN feature_columns TEXT",
      // 6: the model registry (store/model_registry.hpp): each version's file and manifest, kept whole
      "CREATE TABLE models (id " + id + ", name TEXT NOT NULL, version BIGINT NOT NULL, created_at BIGINT NOT NULL, "
          "status TEXT NOT NULL, sha256 TEXT NOT NULL, model TEXT NOT NULL, manifest TEXT NOT NULL, source TEXT, train_run BIGINT, "
          "promoted_at BIGINT, UNIQUE (name, version))",
      // 7: the process's start time beside its pid: a reused pid does not keep a crashed run alive
      "ALTER TABLE runs ADD COLUMN pid_start TEXT",
      // 8: a sweep's cells (store/sweep_cells.hpp), each once
      "CREATE TABLE sweep_cells (run_id BIGINT NOT NULL REFERENCES runs (id), cell BIGINT NOT NULL, point BIGINT NOT NULL, "
      "variant BIGINT NOT NULL, fold BIGINT NOT NULL, symbols TEXT NOT NULL, sets TEXT NOT NULL, test_start BIGINT NOT NULL, "
      "test_end BIGINT NOT NULL, objective DOUBLE PRECISION, trades BIGINT NOT NULL, total_return DOUBLE PRECISION, sharpe DOUBLE PRECISION, "
      "sortino DOUBLE PRECISION, calmar DOUBLE PRECISION, max_drawdown DOUBLE PRECISION, final_equity DOUBLE PRECISION, "
      "profit_factor DOUBLE PRECISION, win_rate DOUBLE PRECISION, candles BIGINT NOT NULL, decisions BIGINT NOT NULL, "
      "ledger_sha256 TEXT NOT NULL, seconds DOUBLE PRECISION NOT NULL, PRIMARY KEY (run_id, cell))",
      // 9: the cells a cluster's workers claim (store/sweep_queue.hpp)
      "CREATE TABLE sweep_queue (run_id BIGINT NOT NULL REFERENCES runs (id), cell BIGINT NOT NULL, state TEXT NOT NULL, "
      "worker TEXT, heartbeat BIGINT, attempts BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (run_id, cell))",
  };
}

std::string features_text(const std::vector<double>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    if (std::isfinite(v[i])) append_double(s, v[i]); else s += "null";
  }
  return s + "]";
}

std::vector<double> parse_features(const std::string& s) {
  std::vector<double> out;
  std::size_t pos = 1;
  while (pos < s.size() && s[pos] != ']') {
    std::size_t end = s.find_first_of(",]", pos);
    std::string item = s.substr(pos, end - pos);
    out.push_back(item == "null" ? std::nan("") : std::strtod(item.c_str(), nullptr));
    pos = end + (s[end] == ',' ? 1 : 0);
  }
  return out;
}

// "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ..." for `rows` rows.
std::string insert_sql(const std::string& table, const std::vector<std::string>& columns, std::size_t rows) {
  std::string sql = "INSERT INTO " + table + " (";
  for (std::size_t c = 0; c < columns.size(); ++c) sql += (c ? ", " : "") + columns[c];
  sql += ") VALUES ";
  int n = 1;
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r ? ", (" : "(";
    for (std::size_t c = 0; c < columns.size(); ++c) sql += (c ? ", $" : "$") + std::to_string(n++);
    sql += ")";
  }
  return sql;
}

// Rows in batches: one multi-row INSERT per batch, prepared once per batch size.
template <class Row, class Bind>
void insert_rows(Db& db, const std::string& table, const std::vector<std::string>& columns, const std::vector<Row>& rows,
                 Bind bind_row) {
  constexpr std::size_t kBatch = 256;
  std::unique_ptr<Statement> full;
  for (std::size_t start = 0; start < rows.size(); start += kBatch) {
    std::size_t n = std::min(kBatch, rows.size() - start);
    std::unique_ptr<Statement> part;
    Statement* st;
    if (n == kBatch) {
      if (!full) full = db.prepare(insert_sql(table, columns, kBatch));
      st = full.get();
    } else {
      part = db.prepare(insert_sql(table, columns, n));
      st = part.get();
    }
    for (std::size_t r = 0; r < n; ++r) bind_row(*st, static_cast<int>(r * columns.size()) + 1, rows[start + r], start + r);
    st->step();
    st->reset();
  }
}

const char* kRunColumns =
    "id, created_at, finished_at, status, pid, host, config_path, config_text, config_sha256, git_revision, feature_set_version, "
    "data_fingerprint, symbols, metrics, error, kind, files, feature_columns, pid_start";

RunInfo read_run(const Statement& s) {
  RunInfo r;
  r.id = s.int64(0);
  r.created_at = s.int64(1);
  r.finished_at = s.is_null(2) ? 0 : s.int64(2);
  r.status = s.text(3);
  r.pid = s.is_null(4) ? 0 : s.int64(4);
  r.host = s.text(5);
  r.config_path = s.text(6);
  r.config_text = s.text(7);
  r.config_sha256 = s.text(8);
  r.git_revision = s.text(9);
  r.feature_set_version = s.text(10);
  r.data_fingerprint = s.text(11);
  r.symbols = s.text(12);
  r.metrics = s.text(13);
  r.error = s.text(14);
  r.kind = s.text(15);
  r.files = s.text(16);
  r.pid_start = s.is_null(18) ? "" : s.text(18);
  for (std::string rest = s.text(17); !rest.empty();) {
    const auto comma = rest.find(',');
    r.feature_columns.push_back(rest.substr(0, comma));
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }
  return r;
}

}  // namespace

std::string trades_csv(const std::vector<TradeRecord>& trades) {
  std::string s = "symbol,side,quantity,entry_time,entry_bar,entry_price,exit_time,exit_bar,exit_price,fees,slippage,pnl,return,exit_reason,exit_rule\n";
  for (const auto& [sym, t] : trades) {
    s += csv_field(sym) + (t.direction > 0 ? ",long," : ",short,");
    append_double(s, t.quantity);
    s += "," + format_iso(t.entry_ts) + "," + std::to_string(t.entry_bar) + ",";
    append_double(s, t.entry_price);
    s += "," + format_iso(t.exit_ts) + "," + std::to_string(t.exit_bar) + ",";
    for (double v : {t.exit_price, t.fees, t.slippage, t.pnl, t.ret}) append_double(s, v), s += ",";
    s += std::string(exit_reason_name(t.reason)) + "," + exit_rule_name(t.rule) + "\n";
  }
  return s;
}

Journal::Journal(std::unique_ptr<Db> db) : db_(std::move(db)) { migrate(); }

std::unique_ptr<Journal> Journal::open_existing(const std::string& address) {
  const bool postgres = address.starts_with("postgresql://") || address.starts_with("postgres://");
  const std::string file = address.starts_with("sqlite:") ? address.substr(7) : address;
  if (!postgres && !std::filesystem::exists(file))
    throw InputError("no journal at " + file + " (a backtest or paper session makes one; --db names another)");
  return open(address);
}

bool Journal::delete_run(std::int64_t id) {
  if (!run(id)) return false;
  in_transaction([&] {
    for (const char* table : {"trades", "equity", "decisions", "events", "sweep_cells", "sweep_queue"}) {
      auto del = db_->prepare(std::string("DELETE FROM ") + table + " WHERE run_id = $1");
      del->bind(1, id);
      del->step();
    }
    auto del = db_->prepare("DELETE FROM runs WHERE id = $1");
    del->bind(1, id);
    del->step();
  });
  return true;
}

void Journal::migrate() {
  const bool pg = db_->dialect() == "postgresql";
  db_->begin();
  try {
    if (pg) db_->exec("SELECT pg_advisory_xact_lock(7011)");  // one migrator at a time
    db_->exec("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)");
    auto q = db_->prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    q->step();
    const std::int64_t have = q->int64(0);
    q.reset();
    if (have > kJournalSchemaVersion)
      throw InputError("the journal " + db_->describe() + " has schema version " + std::to_string(have) +
                       ", newer than this onepath's (" + std::to_string(kJournalSchemaVersion) + "); use a newer onepath to read it");
    auto steps = migrations(db_->dialect());
    for (std::int64_t v = have + 1; v <= kJournalSchemaVersion; ++v) {
      db_->exec(steps[static_cast<std::size_t>(v - 1)]);
      auto ins = db_->prepare("INSERT INTO schema_version (version) VALUES ($1)");
      ins->bind(1, v);
      ins->step();
    }
    db_->commit();
  } catch (...) {
    db_->rollback();
    throw;
  }
}

std::int64_t Journal::start_run(const RunInfo& info) {
  auto s = db_->prepare(
      "INSERT INTO runs (created_at, status, pid, host, config_path, config_text, config_sha256, git_revision, "
      "feature_set_version, data_fingerprint, symbols, kind, files, pid_start) VALUES ($1, 'running', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
      "$13) "
      "RETURNING id");
  s->bind(1, now_ms());
  s->bind(2, static_cast<std::int64_t>(::getpid()));
  s->bind(3, hostname());
  s->bind(4, info.config_path);
  s->bind(5, info.config_text);
  s->bind(6, info.config_sha256);
  s->bind(7, info.git_revision);
  s->bind(8, info.feature_set_version);
  s->bind(9, info.data_fingerprint);
  s->bind(10, info.symbols);
  s->bind(11, info.kind);
  s->bind(12, info.files);
  s->bind(13, process_start_time(::getpid()));
  if (!s->step()) throw std::runtime_error("journal: no id returned for a new run");
  return s->int64(0);
}

void Journal::insert_results(std::int64_t id, const std::vector<std::string>& symbols, const Seqs& first,
                             const std::vector<Trade>& trades, const std::vector<EquityPoint>& equity,
                             const std::vector<DecisionRecord>& decisions) {
  insert_rows(*db_, "trades",
              {"run_id", "seq", "symbol", "side", "quantity", "entry_time", "entry_bar", "entry_price", "exit_time", "exit_bar",
               "exit_price", "fees", "slippage", "pnl", "ret", "exit_reason", "exit_rule"},
              trades, [&](Statement& s, int p, const Trade& t, std::size_t i) {
                s.bind(p, id), s.bind(p + 1, first.trades + static_cast<std::int64_t>(i));
                s.bind(p + 2, symbols.at(static_cast<std::size_t>(t.symbol)));
                s.bind(p + 3, std::string_view(t.direction > 0 ? "long" : "short")), s.bind(p + 4, t.quantity);
                s.bind(p + 5, t.entry_ts), s.bind(p + 6, t.entry_bar), s.bind(p + 7, t.entry_price);
                s.bind(p + 8, t.exit_ts), s.bind(p + 9, t.exit_bar), s.bind(p + 10, t.exit_price);
                s.bind(p + 11, t.fees), s.bind(p + 12, t.slippage), s.bind(p + 13, t.pnl), s.bind(p + 14, t.ret);
                s.bind(p + 15, std::string_view(exit_reason_name(t.reason))), s.bind(p + 16, std::string_view(exit_rule_name(t.rule)));
              });
  insert_rows(*db_, "equity", {"run_id", "seq", "ts", "equity", "cash", "gross_exposure"}, equity,
              [&](Statement& s, int p, const EquityPoint& e, std::size_t i) {
                s.bind(p, id), s.bind(p + 1, first.equity + static_cast<std::int64_t>(i)), s.bind(p + 2, e.ts);
                s.bind(p + 3, e.equity), s.bind(p + 4, e.cash), s.bind(p + 5, e.gross_exposure);
              });
  insert_rows(*db_, "decisions",
              {"run_id", "seq", "ts", "symbol", "action", "outcome", "quantity", "feature_row_hash", "features", "model_score",
               "filter", "reason", "risk", "strategy_version"},
              decisions, [&](Statement& s, int p, const DecisionRecord& d, std::size_t i) {
                s.bind(p, id), s.bind(p + 1, first.decisions + static_cast<std::int64_t>(i)), s.bind(p + 2, d.ts);
                s.bind(p + 3, symbols.at(static_cast<std::size_t>(d.symbol)));
                s.bind(p + 4, d.action), s.bind(p + 5, d.outcome), s.bind(p + 6, d.quantity), s.bind(p + 7, d.feature_row_hash);
                s.bind(p + 8, features_text(d.features)), s.bind_null(p + 9);  // no model yet
                s.bind(p + 10, d.filter), s.bind(p + 11, d.reason), s.bind(p + 12, d.risk), s.bind(p + 13, d.strategy_version);
              });
}

void Journal::set_outcome(std::int64_t id, const std::string& status, const Outcome& outcome) {
  auto done = db_->prepare(
      "UPDATE runs SET status = $1, finished_at = $2, metrics = $3, feature_set_version = $4, data_fingerprint = $5 WHERE id = $6");
  done->bind(1, status);
  done->bind(2, now_ms());
  done->bind(3, outcome.metrics_json);
  done->bind(4, outcome.feature_set_version);
  done->bind(5, outcome.data_fingerprint);
  done->bind(6, id);
  done->step();
  if (!outcome.files.empty()) {
    auto files = db_->prepare("UPDATE runs SET files = $1 WHERE id = $2");
    files->bind(1, outcome.files);
    files->bind(2, id);
    files->step();
  }
  if (!outcome.feature_columns.empty()) {
    auto columns = db_->prepare("UPDATE runs SET feature_columns = $1 WHERE id = $2");
    std::string joined;
    for (const auto& name : outcome.feature_columns) joined += (joined.empty() ? "" : ",") + name;
    columns->bind(1, joined);
    columns->bind(2, id);
    columns->step();
  }
}

template <class F>
void Journal::in_transaction(F&& work) {
  db_->begin();
  try {
    work();
    db_->commit();
  } catch (...) {
    db_->rollback();
    throw;
  }
}

void Journal::complete_run(std::int64_t id, const std::vector<std::string>& symbols, const std::vector<Trade>& trades,
                           const std::vector<EquityPoint>& equity, const std::vector<DecisionRecord>& decisions,
                           const Outcome& outcome, std::size_t equity_every) {
  std::vector<EquityPoint> sampled;
  equity_every = std::max<std::size_t>(equity_every, 1);
  for (std::size_t i = 0; i < equity.size(); ++i)
    if (i % equity_every == 0 || i + 1 == equity.size()) sampled.push_back(equity[i]);
  in_transaction([&] {
    insert_results(id, symbols, {}, trades, sampled, decisions);
    set_outcome(id, "complete", outcome);
  });
}

void Journal::append(std::int64_t id, const std::vector<std::string>& symbols, const Seqs& first, const std::vector<Trade>& trades,
                     const std::vector<EquityPoint>& equity, const std::vector<DecisionRecord>& decisions) {
  in_transaction([&] { insert_results(id, symbols, first, trades, equity, decisions); });
}

void Journal::replace_mark(std::int64_t id, std::int64_t seq, const EquityPoint& m) {
  auto s = db_->prepare("UPDATE equity SET ts = $1, equity = $2, cash = $3, gross_exposure = $4 WHERE run_id = $5 AND seq = $6");
  s->bind(1, m.ts);
  s->bind(2, m.equity);
  s->bind(3, m.cash);
  s->bind(4, m.gross_exposure);
  s->bind(5, id);
  s->bind(6, seq);
  s->step();
}

void Journal::resume_run(std::int64_t id, const Seqs& keep) {
  in_transaction([&] {
    for (auto [table, n] : {std::pair{"trades", keep.trades}, std::pair{"equity", keep.equity}, std::pair{"decisions", keep.decisions}}) {
      auto del = db_->prepare(std::string("DELETE FROM ") + table + " WHERE run_id = $1 AND seq >= $2");
      del->bind(1, id);
      del->bind(2, n);
      del->step();
    }
    auto up = db_->prepare("UPDATE runs SET status = 'running', finished_at = NULL, pid = $1, host = $2, pid_start = $3 WHERE id = $4");
    up->bind(1, static_cast<std::int64_t>(::getpid()));
    up->bind(2, hostname());
    up->bind(3, process_start_time(::getpid()));
    up->bind(4, id);
    up->step();
  });
}

void Journal::end_run(std::int64_t id, const std::string& status, const Outcome& outcome) {
  in_transaction([&] { set_outcome(id, status, outcome); });
}

void Journal::fail_run(std::int64_t id, const std::string& error) {
  auto s = db_->prepare("UPDATE runs SET status = 'failed', finished_at = $1, error = $2 WHERE id = $3");
  s->bind(1, now_ms());
  s->bind(2, error);
  s->bind(3, id);
  s->step();
}

void Journal::event(std::int64_t run_id, const std::string& correlation_id, const std::string& name, const std::string& fields_json) {
  auto s = db_->prepare("INSERT INTO events (run_id, correlation_id, ts, name, fields) VALUES ($1, $2, $3, $4, $5)");
  s->bind(1, run_id);
  s->bind(2, correlation_id);
  s->bind(3, now_ms());
  s->bind(4, name);
  s->bind(5, fields_json);
  s->step();
}

std::vector<RunInfo> Journal::list_runs(std::size_t limit) {
  auto s = db_->prepare(std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY id DESC LIMIT $1");
  s->bind(1, static_cast<std::int64_t>(limit));
  std::vector<RunInfo> out;
  while (s->step()) out.push_back(read_run(*s));
  return out;
}

std::optional<RunInfo> Journal::run(std::int64_t id) {
  auto s = db_->prepare(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = $1");
  s->bind(1, id);
  if (!s->step()) return std::nullopt;
  return read_run(*s);
}

std::vector<TradeRecord> Journal::trades(std::int64_t id) {
  auto s = db_->prepare(
      "SELECT symbol, side, quantity, entry_time, entry_bar, entry_price, exit_time, exit_bar, exit_price, fees, slippage, pnl, ret, "
      "exit_reason, exit_rule FROM trades WHERE run_id = $1 ORDER BY seq");
  s->bind(1, id);
  std::vector<TradeRecord> out;
  while (s->step()) {
    TradeRecord r;
    r.symbol = s->text(0);
    Trade& t = r.trade;
    t.direction = s->text(1) == "long" ? 1 : -1;
    t.quantity = s->real(2), t.entry_ts = s->int64(3), t.entry_bar = s->int64(4), t.entry_price = s->real(5);
    t.exit_ts = s->int64(6), t.exit_bar = s->int64(7), t.exit_price = s->real(8);
    t.fees = s->real(9), t.slippage = s->real(10), t.pnl = s->real(11), t.ret = s->real(12);
    std::string reason = s->text(13), rule = s->text(14);
    for (int k = 0; k < 6; ++k)
      if (reason == exit_reason_name(static_cast<ExitReason>(k))) t.reason = static_cast<ExitReason>(k);
    for (int k = 0; k < 4; ++k)
      if (rule == exit_rule_name(static_cast<ExitRule>(k))) t.rule = static_cast<ExitRule>(k);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<EquityPoint> Journal::equity(std::int64_t id) {
  auto s = db_->prepare("SELECT ts, equity, cash, gross_exposure FROM equity WHERE run_id = $1 ORDER BY seq");
  s->bind(1, id);
  std::vector<EquityPoint> out;
  while (s->step()) out.push_back({s->int64(0), s->real(1), s->real(2), s->real(3)});
  return out;
}

std::vector<DecisionRecord> Journal::decisions(std::int64_t id) {
  auto s = db_->prepare(
      "SELECT ts, symbol, action, outcome, quantity, feature_row_hash, features, filter, reason, risk, strategy_version FROM decisions "
      "WHERE run_id = $1 ORDER BY seq");
  s->bind(1, id);
  std::vector<std::string> symbols;  // the run's, in order: a decision's symbol is an index into them
  if (auto r = run(id))
    for (std::size_t at = 0; at <= r->symbols.size();) {
      std::size_t comma = std::min(r->symbols.find(',', at), r->symbols.size());
      symbols.push_back(r->symbols.substr(at, comma - at));
      at = comma + 1;
    }
  std::vector<DecisionRecord> out;
  while (s->step()) {
    DecisionRecord d;
    d.ts = s->int64(0);
    const std::string symbol = s->text(1);
    d.symbol = static_cast<int>(std::find(symbols.begin(), symbols.end(), symbol) - symbols.begin());
    d.action = s->text(2), d.outcome = s->text(3), d.quantity = s->real(4), d.feature_row_hash = s->text(5);
    d.features = parse_features(s->text(6));
    d.filter = s->text(7), d.reason = s->text(8), d.risk = s->text(9), d.strategy_version = s->text(10);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Journal::Event> Journal::events(std::int64_t id) {
  auto s = db_->prepare("SELECT ts, name, fields FROM events WHERE run_id = $1 ORDER BY id");
  s->bind(1, id);
  std::vector<Event> out;
  while (s->step()) out.push_back({s->int64(0), s->text(1), s->text(2)});
  return out;
}

std::vector<Journal::Event> Journal::events_correlated(const std::string& correlation_id) {
  auto s = db_->prepare("SELECT ts, name, fields FROM events WHERE correlation_id = $1 ORDER BY id");
  s->bind(1, correlation_id);
  std::vector<Event> out;
  while (s->step()) out.push_back({s->int64(0), s->text(1), s->text(2)});
  return out;
}

std::size_t Journal::count(const std::string& table, std::int64_t run_id) {
  if (table != "trades" && table != "equity" && table != "decisions" && table != "events")
    throw std::logic_error("journal: no table " + table);
  auto s = db_->prepare("SELECT COUNT(*) FROM " + table + " WHERE run_id = $1");
  s->bind(1, run_id);
  s->step();
  return static_cast<std::size_t>(s->int64(0));
}

std::string Journal::display_status(const RunInfo& info) {
  if (info.status == "running" && info.host == hostname() && info.pid > 0 && !process_alive(info.pid, info.pid_start))
    return "failed (process gone)";
  return info.status;
}

}  // namespace onepath
