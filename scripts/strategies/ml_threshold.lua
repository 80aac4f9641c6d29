-- ml_threshold: long while a model's score is high. Enter when the score is above `enter`,
-- exit when it falls below `exit`. The model is a feature of this strategy: `model` is its
-- file (a .json trained by `onepath train`, docs/models.md) or its name in the model
-- registry ("ml_up": the version in production, "ml_up@3": that one); its inputs are the
-- features of the module `inputs` (a feature file under scripts/), in that order. `trade`
-- lists the symbols it trades ("ETH,SOL"; "" trades every one): the others may be there
-- only for their features (an ETH model reading BTC's, examples/cross_asset).
---@type onepath.Strategy
local S = {}

S.params = {
  model = "models/ml_up.json",  -- a file, relative to the RUN.toml, or a registry name
  inputs = "features.ml_basic",
  enter = 0.3,
  exit = 0.15,
  size = 0.25,
  stop_pct = 0.02,
  take_pct = 0.04,
  trade = "",
  shadow = "",  -- a challenger scored beside the model, never traded on ("ml_up@4"; docs/models.md)
}

S.features = function(p)
  local list, names = {}, {}
  for i, f in ipairs(require(p.inputs)) do
    list[i], names[i] = f, f.name
  end
  local model = { name = "score", kind = "model", inputs = names }
  if p.model:sub(-5) == ".json" then model.path = p.model else model.model = p.model end
  if p.shadow ~= "" then model.shadow = p.shadow end
  list[#list + 1] = model
  return list
end

local traded = nil  -- set of names, built once from params.trade

function S.on_bar(ctx, bar, f)
  local score, p = f.score, ctx.params
  if p.trade ~= "" then
    if not traded then
      traded = {}
      for name in p.trade:gmatch("[^,%s]+") do traded[name] = true end
    end
    if not traded[ctx.symbol] then return end
  end
  if score ~= score then return end  -- NaN: the inputs are still warming up
  if ctx.position <= 0 and score > p.enter then
    ctx:buy{ size = p.size, sl_pct = p.stop_pct, tp_pct = p.take_pct }
  elseif ctx.position > 0 and score < p.exit then
    ctx:close()
  end
end

return S
