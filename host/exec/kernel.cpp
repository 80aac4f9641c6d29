#include "exec/kernel.hpp"

#include <cmath>

#include "core/error.hpp"

namespace onepath {
namespace {

bool finite_positive(double x) { return std::isfinite(x) && x > 0; }

double level_price(const Level& l, double entry, int direction, double atr, bool is_stop) {
  int away = is_stop ? -direction : direction;  // a stop sits against the position, a target with it
  switch (l.mode) {
    case LevelMode::none: return std::nan("");
    case LevelMode::price: return l.value;
    case LevelMode::percent: return entry * (1.0 + away * l.value);
    case LevelMode::atr: return entry + away * l.value * atr;
  }
  return std::nan("");
}

}  // namespace

const char* exit_reason_name(ExitReason r) {
  static const char* names[] = {"stop", "take_profit", "time", "signal", "end_of_data", "risk"};
  return names[static_cast<int>(r)];
}

const char* exit_rule_name(ExitRule r) {
  static const char* names[] = {"", "gap", "stop_first", "open_proximity"};
  return names[static_cast<int>(r)];
}

Kernel::Kernel(ExecConfig config, std::vector<std::string> symbols)
    : config_(config), symbols_(std::move(symbols)), books_(symbols_.size()), cash_(config.initial_cash) {
  if (!finite_positive(config.initial_cash)) throw InputError("execution: initial cash must be positive");
  if (config.taker_fee_bps < 0 || config.maker_fee_bps < 0 || config.slippage < 0)
    throw InputError("execution: fees and slippage cannot be negative");
}

Kernel::Fill Kernel::fill_price(double reference, int direction, bool maker, const Candle& bar) const {
  if (config_.costs == CostMode::clean) return {reference, 0, 0};
  if (maker) return {reference, config_.maker_fee_bps, 0};
  double slip = config_.slippage_mode == SlippageMode::bps ? reference * config_.slippage / 10'000
                                                           : config_.slippage * (bar.high - bar.low);
  return {reference + direction * slip, config_.taker_fee_bps, slip};
}

void Kernel::open_lot(int symbol, const Order& o, Fill f, TimestampMs ts, std::int64_t brackets_from) {
  Book& b = books_[symbol];
  Lot lot;
  lot.id = next_id_++;
  lot.direction = o.direction;
  lot.quantity = o.quantity;
  lot.entry_price = f.price;
  lot.entry_fee = o.quantity * f.price * f.fee_bps / 10'000;
  lot.entry_slippage = f.slippage;
  lot.entry_ts = ts;
  lot.entry_bar = b.bar;
  lot.brackets_from_bar = brackets_from;
  lot.exit_bar = o.exit_after_bars > 0 ? b.bar + o.exit_after_bars : -1;
  lot.stop_loss = level_price(o.stop_loss, f.price, o.direction, o.atr, true);
  lot.take_profit = level_price(o.take_profit, f.price, o.direction, o.atr, false);
  lot.has_stop = std::isfinite(lot.stop_loss);
  lot.has_take = std::isfinite(lot.take_profit);
  cash_ -= o.direction * o.quantity * f.price + lot.entry_fee;
  b.lots.push_back(lot);
  ++fills_;
}

void Kernel::close_lot(int symbol, std::size_t index, double quantity, Fill f, TimestampMs ts, ExitReason reason,
                       ExitRule rule) {
  Book& b = books_[symbol];
  Lot& lot = b.lots[index];
  bool whole = quantity >= lot.quantity;
  double q = whole ? lot.quantity : quantity;
  double exit_fee = q * f.price * f.fee_bps / 10'000;
  double entry_fee = whole ? lot.entry_fee : lot.entry_fee * (q / lot.quantity);
  cash_ += lot.direction * q * f.price - exit_fee;
  Trade t;
  t.symbol = symbol;
  t.direction = lot.direction;
  t.quantity = q;
  t.entry_ts = lot.entry_ts;
  t.entry_bar = lot.entry_bar;
  t.entry_price = lot.entry_price;
  t.exit_ts = ts;
  t.exit_bar = b.bar;
  t.exit_price = f.price;
  t.fees = entry_fee + exit_fee;
  t.slippage = (lot.entry_slippage + f.slippage) * q;
  t.pnl = lot.direction * q * (f.price - lot.entry_price) - t.fees;
  t.ret = t.pnl / (q * lot.entry_price);
  t.reason = reason;
  t.rule = rule;
  trades_.push_back(t);
  ++fills_;
  if (whole) {
    b.lots.erase(b.lots.begin() + static_cast<std::ptrdiff_t>(index));
  } else {
    lot.quantity -= q;
    lot.entry_fee -= entry_fee;
  }
}

void Kernel::close_lots(int symbol, int direction_to_close, double quantity, double price_ref, bool maker,
                        const Candle& bar, ExitReason reason, ExitRule rule) {
  Book& b = books_[symbol];
  Fill f = fill_price(price_ref, -direction_to_close, maker, bar);
  double remaining = std::isnan(quantity) ? HUGE_VAL : quantity;
  for (std::size_t i = 0; i < b.lots.size() && remaining > 0;) {  // oldest first
    if (b.lots[i].direction != direction_to_close) {
      ++i;
      continue;
    }
    double q = std::min(remaining, b.lots[i].quantity);
    bool whole = q >= b.lots[i].quantity;
    remaining -= q;
    close_lot(symbol, i, q, f, bar.ts, reason, rule);
    if (!whole) ++i;
  }
}

void Kernel::fill_order(int symbol, const Order& o, double reference, bool maker, const Candle& bar,
                        std::int64_t brackets_from) {
  if (o.is_exit) {
    close_lots(symbol, -o.direction, o.quantity, reference, maker, bar, static_cast<ExitReason>(o.exit_reason), ExitRule::none);
    return;
  }
  // An entry against open lots first closes them: a reversal.
  close_lots(symbol, -o.direction, std::nan(""), reference, maker, bar, ExitReason::signal, ExitRule::none);
  open_lot(symbol, o, fill_price(reference, o.direction, maker, bar), bar.ts, brackets_from);
}

void Kernel::open_bar(int symbol, const Candle& c) {
  Book& b = books_[symbol];
  ++b.bar;

  // At the open: time exits that are due, then market orders decided before.
  Fill at_open{};
  for (std::size_t i = 0; i < b.lots.size();) {
    if (b.lots[i].exit_bar == b.bar) {
      at_open = fill_price(c.open, -b.lots[i].direction, false, c);
      close_lot(symbol, i, b.lots[i].quantity, at_open, c.ts, ExitReason::time, ExitRule::none);
    } else {
      ++i;
    }
  }
  std::vector<Order>& orders = b.orders;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < orders.size(); ++i) {
    const Order o = orders[i];
    if (o.type == OrderType::market) {
      fill_order(symbol, o, c.open, false, c, b.bar);
      continue;
    }
    // In the bar: a limit fills at its price, or at the open when the bar opens through
    // it; a stop likewise, at the worse of its price and the open.
    bool buy = o.direction > 0, filled = false;
    if (o.type == OrderType::limit && (buy ? c.low <= o.price : c.high >= o.price)) {
      fill_order(symbol, o, buy ? std::min(o.price, c.open) : std::max(o.price, c.open), true, c, b.bar + 1);
      filled = true;
    } else if (o.type == OrderType::stop && (buy ? c.high >= o.price : c.low <= o.price)) {
      fill_order(symbol, o, buy ? std::max(o.price, c.open) : std::min(o.price, c.open), false, c, b.bar + 1);
      filled = true;
    }
    if (!filled && b.bar < o.expires_bar) orders[kept++] = o;
  }
  orders.resize(kept);

  check_brackets(symbol, c);
  b.last_close = c.close;
  b.last_ts = c.ts;
}

BracketHit bracket_hit(const Candle& c, int d, bool has_stop, double stop, bool has_take, double take, SameBarRule same_bar) {
  // "Beyond" in the losing direction for the stop, the winning one for the target.
  auto at_or_beyond = [d](double price, double level, bool is_stop) { return is_stop ? d * (price - level) <= 0 : d * (price - level) >= 0; };
  BracketHit h;
  if (has_stop && at_or_beyond(c.open, stop, true)) {
    h.stop = true, h.price = c.open, h.rule = ExitRule::gap;
  } else if (has_take && at_or_beyond(c.open, take, false)) {
    h.take = true, h.price = c.open, h.rule = ExitRule::gap;
  } else {
    double worst = d > 0 ? c.low : c.high, best = d > 0 ? c.high : c.low;
    bool s = has_stop && at_or_beyond(worst, stop, true);
    bool t = has_take && at_or_beyond(best, take, false);
    if (s && t) {  // the bar touched both: which came first is unknowable, the rule decides
      bool by_stop_first = same_bar == SameBarRule::stop_first;
      h.rule = by_stop_first ? ExitRule::stop_first : ExitRule::open_proximity;
      bool stop_wins = by_stop_first || std::fabs(c.open - stop) <= std::fabs(c.open - take);
      s = stop_wins;
      t = !stop_wins;
    }
    h.stop = s, h.take = t;
    h.price = s ? stop : take;
  }
  return h;
}

void Kernel::check_brackets(int symbol, const Candle& c) {
  Book& b = books_[symbol];
  for (std::size_t i = 0; i < b.lots.size();) {
    const Lot& lot = b.lots[i];
    if (b.bar < lot.brackets_from_bar || !(lot.has_stop || lot.has_take)) {
      ++i;
      continue;
    }
    const int d = lot.direction;
    const BracketHit hit = bracket_hit(c, d, lot.has_stop, lot.stop_loss, lot.has_take, lot.take_profit, config_.same_bar);
    if (!hit.stop && !hit.take) {
      ++i;
      continue;
    }
    // A stop-loss is a stop order (taker, slipped); a take-profit a resting limit (maker).
    Fill f = fill_price(hit.price, -d, hit.take, c);
    close_lot(symbol, i, lot.quantity, f, c.ts, hit.stop ? ExitReason::stop : ExitReason::take_profit, hit.rule);
  }
}

double Kernel::size(int symbol, const Intent& in) const {
  validate_intent(in);
  const double price = books_[symbol].last_close, eq = equity();
  if (!(price > 0) || !(eq > 0)) return 0;
  double q = 0;
  switch (in.size.mode) {
    case SizeMode::quantity: q = in.size.value; break;
    case SizeMode::equity_fraction: q = in.size.value * eq / price; break;
    case SizeMode::risk_fraction: {
      int d = in.action == IntentAction::buy ? 1 : -1;
      double stop = level_price(in.stop_loss, price, d, in.atr, true);
      double distance = d * (price - stop);
      q = distance > 0 ? in.size.value * eq / distance : 0;
      break;
    }
  }
  if (std::isfinite(in.size.max_fraction)) q = std::min(q, in.size.max_fraction * eq / price);
  return q;
}

std::int64_t Kernel::submit(int symbol, const Intent& in, double quantity) {
  validate_intent(in);
  Book& b = books_[symbol];
  Order o;
  o.id = next_id_++;
  o.symbol = symbol;
  o.type = in.type;
  o.price = in.price;
  o.decided_bar = b.bar;
  o.expires_bar = b.bar + in.valid_bars;
  if (in.action == IntentAction::close) {
    double pos = position(symbol);
    if (pos == 0) return 0;  // nothing to close
    o.is_exit = true;
    o.direction = pos > 0 ? -1 : 1;
    o.quantity = in.close_quantity;
    o.exit_reason = static_cast<std::uint8_t>(ExitReason::signal);
  } else {
    if (!(quantity > 0)) return 0;
    o.direction = in.action == IntentAction::buy ? 1 : -1;
    o.quantity = quantity;
    o.stop_loss = in.stop_loss;
    o.take_profit = in.take_profit;
    o.atr = in.atr;
    o.exit_after_bars = in.exit_after_bars;
  }
  if (config_.fill_mode == FillMode::close && o.type == OrderType::market) {
    Candle now{b.last_ts, b.last_close, b.last_close, b.last_close, b.last_close, 0};
    fill_order(symbol, o, b.last_close, false, now, b.bar + 1);
  } else {
    b.orders.push_back(o);
  }
  return o.id;
}

void Kernel::exit_all(ExitReason reason) {
  for (std::size_t s = 0; s < books_.size(); ++s) {
    double pos = position(static_cast<int>(s));
    if (pos == 0) continue;
    Book& b = books_[s];
    Order o;
    o.id = next_id_++;
    o.symbol = static_cast<int>(s);
    o.is_exit = true;
    o.direction = pos > 0 ? -1 : 1;
    o.quantity = std::nan("");
    o.decided_bar = b.bar;
    o.expires_bar = b.bar + 1;
    o.exit_reason = static_cast<std::uint8_t>(reason);
    b.orders.push_back(o);
  }
}

EquityPoint Kernel::mark(TimestampMs ts) const { return {ts, equity(), cash_, gross_exposure()}; }

void Kernel::finish() {
  for (std::size_t s = 0; s < books_.size(); ++s) {
    Book& b = books_[s];
    b.orders.clear();
    Candle last{b.last_ts, b.last_close, b.last_close, b.last_close, b.last_close, 0};
    for (int d : {1, -1}) close_lots(static_cast<int>(s), d, std::nan(""), b.last_close, false, last, ExitReason::end_of_data, ExitRule::none);
  }
}

double Kernel::equity() const {
  double e = cash_;
  for (const auto& b : books_)
    for (const auto& l : b.lots) e += l.direction * l.quantity * b.last_close;
  return e;
}

double Kernel::gross_exposure() const {
  double g = 0;
  for (const auto& b : books_)
    for (const auto& l : b.lots) g += l.quantity * b.last_close;
  return g;
}

double Kernel::position(int symbol) const {
  double p = 0;
  for (const auto& l : books_[symbol].lots) p += l.direction * l.quantity;
  return p;
}

int Kernel::open_positions() const {
  int n = 0;
  for (const auto& b : books_) n += !b.lots.empty();
  return n;
}

bool Kernel::has_pending_entry(int symbol) const {
  for (const auto& o : books_[symbol].orders)
    if (!o.is_exit) return true;
  return false;
}

}  // namespace onepath
