#include "exec/order.hpp"

#include <cmath>
#include <string>
#include <utility>

#include "core/error.hpp"

namespace onepath {
namespace {
bool finite_positive(double x) { return std::isfinite(x) && x > 0; }
}  // namespace

void validate_intent(const Intent& in) {
  auto bad = [](const std::string& option, const std::string& why) { throw InputError("order option '" + option + "': " + why); };
  if (in.action == IntentAction::close) {
    if (!(std::isnan(in.close_quantity) || finite_positive(in.close_quantity))) bad("quantity", "must be a positive number");
    return;
  }
  if (in.type != OrderType::market && !finite_positive(in.price)) bad("price", "a limit or stop order needs a positive price");
  if (!finite_positive(in.size.value)) bad("size", "must be a positive number");
  if (!(std::isnan(in.size.max_fraction) || finite_positive(in.size.max_fraction))) bad("max_fraction", "must be a positive fraction");
  for (auto [l, name] : {std::pair{&in.stop_loss, "stop_loss"}, std::pair{&in.take_profit, "take_profit"}}) {
    if (l->mode == LevelMode::none) continue;
    if (!finite_positive(l->value)) bad(name, "must be a positive number");
    if (l->mode == LevelMode::percent && l->value >= 1 && l == &in.stop_loss) bad(name, "a percentage stop must be below 1 (100 %)");
    if (l->mode == LevelMode::atr && !finite_positive(in.atr)) bad("atr", "an ATR-multiple level needs the ATR value");
  }
  if (in.size.mode == SizeMode::risk_fraction && in.stop_loss.mode == LevelMode::none)
    bad("size", "sizing by risk needs a stop_loss");
  if (in.exit_after_bars < 0) bad("exit_after_bars", "must be 0 (none) or more");
  if (in.valid_bars < 1) bad("valid_bars", "must be at least 1");
}

}  // namespace onepath
