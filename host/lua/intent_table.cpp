#include "lua/intent_table.hpp"

#include <lua.hpp>

#include <cmath>
#include <string>

#include "core/error.hpp"

namespace onepath {
namespace {

constexpr const char* kOptions =
    "size, qty, risk, max_fraction, type, price, stop_loss, sl_pct, sl_atr, take_profit, tp_pct, tp_atr, atr, exit_after, valid_bars";

}  // namespace

Intent intent_from_table(lua_State* L, int index, IntentAction action, const char* method, bool with_action) {
  const std::string m = method;
  auto fail = [&](const std::string& why) -> Intent { throw InputError(m + ": " + why); };
  index = index < 0 ? lua_gettop(L) + index + 1 : index;
  Intent in;
  in.action = action;
  if (lua_isnoneornil(L, index)) return in;
  if (lua_type(L, index) != LUA_TTABLE) return fail("takes a table of options, e.g. " + m + "{size = 0.1}");
  if (with_action) {
    lua_pushliteral(L, "action");
    lua_rawget(L, index);  // raw: a script's metamethod is not host code
    std::string a = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    lua_pop(L, 1);
    if (a == "buy") in.action = IntentAction::buy;
    else if (a == "sell") in.action = IntentAction::sell;
    else if (a == "close") in.action = IntentAction::close;
    else return fail("'action' must be \"buy\", \"sell\" or \"close\"");
  }
  int sizes = 0, stops = 0, takes = 0;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      return fail("options are named (found a list item)");
    }
    const std::string key = lua_tostring(L, -2);
    const int type = lua_type(L, -1);
    const double num = type == LUA_TNUMBER ? lua_tonumber(L, -1) : std::nan("");
    const std::string text = type == LUA_TSTRING ? lua_tostring(L, -1) : "";
    lua_pop(L, 1);
    auto number = [&]() {
      if (type != LUA_TNUMBER) {
        lua_pop(L, 1);
        fail("option '" + key + "' must be a number");
      }
      return num;
    };
    if (with_action && key == "action") continue;
    if (in.action == IntentAction::close) {
      if (key != "qty") {
        lua_pop(L, 1);
        return fail("unknown option '" + key + "' (known: qty)");
      }
      in.close_quantity = number();
    } else if (key == "size") {
      in.size = {SizeMode::equity_fraction, number(), in.size.max_fraction}, ++sizes;
    } else if (key == "qty") {
      in.size = {SizeMode::quantity, number(), in.size.max_fraction}, ++sizes;
    } else if (key == "risk") {
      in.size = {SizeMode::risk_fraction, number(), in.size.max_fraction}, ++sizes;
    } else if (key == "max_fraction") {
      in.size.max_fraction = number();
    } else if (key == "type") {
      if (text == "market") in.type = OrderType::market;
      else if (text == "limit") in.type = OrderType::limit;
      else if (text == "stop") in.type = OrderType::stop;
      else {
        lua_pop(L, 1);
        return fail("option 'type' must be \"market\", \"limit\" or \"stop\"");
      }
    } else if (key == "price") {
      in.price = number();
    } else if (key == "stop_loss" || key == "sl_pct" || key == "sl_atr") {
      in.stop_loss = {key == "stop_loss" ? LevelMode::price : key == "sl_pct" ? LevelMode::percent : LevelMode::atr, number()}, ++stops;
    } else if (key == "take_profit" || key == "tp_pct" || key == "tp_atr") {
      in.take_profit = {key == "take_profit" ? LevelMode::price : key == "tp_pct" ? LevelMode::percent : LevelMode::atr, number()}, ++takes;
    } else if (key == "atr") {
      in.atr = number();
    } else if (key == "exit_after") {
      in.exit_after_bars = static_cast<int>(number());
    } else if (key == "valid_bars") {
      in.valid_bars = static_cast<int>(number());
    } else {
      lua_pop(L, 1);
      return fail("unknown option '" + key + "' (known: " + kOptions + ")");
    }
  }
  if (sizes > 1) return fail("give one of 'size', 'qty' or 'risk'");
  if (stops > 1) return fail("give one of 'stop_loss', 'sl_pct' or 'sl_atr'");
  if (takes > 1) return fail("give one of 'take_profit', 'tp_pct' or 'tp_atr'");
  try {
    validate_intent(in);
  } catch (const InputError& e) {
    return fail(e.what());  // "ctx:buy: order option 'price': ..."
  }
  return in;
}

}  // namespace onepath
