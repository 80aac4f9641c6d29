#pragma once
// Intents from Lua tables, with the option names of docs/lua-api.md:
// size | qty | risk, max_fraction, type, price, stop_loss | sl_pct | sl_atr,
// take_profit | tp_pct | tp_atr, atr, exit_after, valid_bars (close: qty).
#include "exec/order.hpp"

struct lua_State;

namespace onepath {

// The table at `index`. `method` names the caller in errors ("ctx:buy"); with_action
// also reads an `action` field ("buy" / "sell" / "close"), as filters return it.
// Throws InputError naming the option; the intent is also validated.
Intent intent_from_table(lua_State* L, int index, IntentAction action, const char* method, bool with_action = false);

}  // namespace onepath
