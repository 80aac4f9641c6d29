#include "store/sweep_cells.hpp"

#include <cmath>
#include <limits>

namespace onepath {
namespace {

constexpr const char* kColumns =
    "cell, point, variant, fold, symbols, sets, test_start, test_end, objective, trades, total_return, sharpe, sortino, calmar, max_drawdown, "
    "final_equity, profit_factor, win_rate, candles, decisions, ledger_sha256, seconds";

// NaN (an undefined ratio) is kept as NULL: SQLite has no NaN.
void bind_number(Statement& s, int i, double v) {
  if (std::isnan(v)) s.bind_null(i);
  else s.bind(i, v);
}
double number(const Statement& s, int c) { return s.is_null(c) ? std::numeric_limits<double>::quiet_NaN() : s.real(c); }

}  // namespace

void SweepCells::record(std::int64_t run_id, const SweepCellRow& r) {
  Db& db = journal_.db();
  auto ins = db.prepare(std::string("INSERT INTO sweep_cells (run_id, ") + kColumns +
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)");
  int i = 1;
  ins->bind(i++, run_id);
  ins->bind(i++, r.cell);
  ins->bind(i++, r.point);
  ins->bind(i++, r.variant);
  ins->bind(i++, r.fold);
  ins->bind(i++, r.symbols);
  ins->bind(i++, r.sets);
  ins->bind(i++, static_cast<std::int64_t>(r.test_start));
  ins->bind(i++, static_cast<std::int64_t>(r.test_end));
  bind_number(*ins, i++, r.objective);
  ins->bind(i++, r.metrics.trades);
  for (double v : {r.metrics.total_return, r.metrics.sharpe, r.metrics.sortino, r.metrics.calmar, r.metrics.max_drawdown, r.metrics.final_equity,
                   r.metrics.profit_factor, r.metrics.win_rate})
    bind_number(*ins, i++, v);
  ins->bind(i++, r.candles);
  ins->bind(i++, r.decisions);
  ins->bind(i++, r.ledger_sha256);
  ins->bind(i++, r.seconds);
  ins->step();
}

std::vector<SweepCellRow> SweepCells::of(std::int64_t run_id) {
  auto q = journal_.db().prepare(std::string("SELECT ") + kColumns + " FROM sweep_cells WHERE run_id = $1 ORDER BY cell");
  q->bind(1, run_id);
  std::vector<SweepCellRow> out;
  while (q->step()) {
    SweepCellRow r;
    int c = 0;
    r.cell = q->int64(c++);
    r.point = q->int64(c++);
    r.variant = q->int64(c++);
    r.fold = q->int64(c++);
    r.symbols = q->text(c++);
    r.sets = q->text(c++);
    r.test_start = q->int64(c++);
    r.test_end = q->int64(c++);
    r.objective = number(*q, c++);
    r.metrics.trades = q->int64(c++);
    for (double* v : {&r.metrics.total_return, &r.metrics.sharpe, &r.metrics.sortino, &r.metrics.calmar, &r.metrics.max_drawdown,
                      &r.metrics.final_equity, &r.metrics.profit_factor, &r.metrics.win_rate})
      *v = number(*q, c++);
    r.candles = q->int64(c++);
    r.decisions = q->int64(c++);
    r.ledger_sha256 = q->text(c++);
    r.seconds = q->real(c++);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace onepath
