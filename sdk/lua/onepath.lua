---@meta
-- LuaLS annotations for onepath scripts: add this folder to `workspace.library` so that
-- editors complete ctx:, bar. and f. (docs/lua-api.md says what each does).

---@class onepath.Bar
---@field ts number      the bar's open time, UTC milliseconds
---@field open number
---@field high number
---@field low number
---@field close number
---@field volume number
---@field index number   the symbol's bar count

---@alias onepath.Features table<string, number>  f.<column>: this bar's value, NaN before warm-up

---@class onepath.OrderOptions
---@field size? number         fraction of equity as notional (default 0.1)
---@field qty? number          quantity
---@field risk? number         fraction of equity lost at the stop-loss (needs one)
---@field max_fraction? number cap on the notional as a fraction of equity
---@field type? "market"|"limit"|"stop"
---@field price? number        the limit or stop price
---@field valid_bars? integer  bars a limit / stop order rests (default 1)
---@field stop_loss? number    stop-loss price
---@field sl_pct? number       stop-loss as a fraction of the entry price
---@field sl_atr? number       stop-loss in ATR multiples (needs atr)
---@field take_profit? number  take-profit price
---@field tp_pct? number       take-profit as a fraction of the entry price
---@field tp_atr? number       take-profit in ATR multiples (needs atr)
---@field atr? number          the ATR at the decision
---@field exit_after? integer  close after this many bars

---@class onepath.Ctx
---@field time number     the bar's open time, UTC ms
---@field bar number      the bar's index
---@field symbol string
---@field position number signed quantity held
---@field equity number
---@field cash number
---@field state table     your own table, one per symbol
---@field params table    the merged params
local Ctx = {}
---@param opts? onepath.OrderOptions
function Ctx:buy(opts) end
---@param opts? onepath.OrderOptions
function Ctx:sell(opts) end
---@param opts? {qty?: number}
function Ctx:close(opts) end
---@param ... any
function Ctx:log(...) end

---@class onepath.Fill
---@field side "long"|"short"
---@field qty number
---@field entry_price number
---@field exit_price number
---@field pnl number
---@field ret number
---@field reason "stop"|"take_profit"|"time"|"signal"|"end_of_data"|"risk"

---@class onepath.Strategy
---@field params table
---@field features table|fun(params: table): table
---@field on_bar fun(ctx: onepath.Ctx, bar: onepath.Bar, f: onepath.Features)
---@field on_start? fun(ctx: onepath.Ctx)
---@field on_fill? fun(ctx: onepath.Ctx, fill: onepath.Fill)
---@field on_stop? fun(ctx: onepath.Ctx)
---@field gate? string a feature column: on_bar runs only on bars where it is non-zero

---@class onepath.Intent: onepath.OrderOptions
---@field action "buy"|"sell"|"close"

---@class onepath.FilterCtx
---@field symbol string
---@field bar number
---@field time number
---@field open_positions number
---@field has_position boolean

---Calls a native plugin's service: its answer as a string (docs/plugins.md).
---@param name string the service
---@param fn string the function
---@param request? string often JSON
---@return string
function service(name, fn, request) end
