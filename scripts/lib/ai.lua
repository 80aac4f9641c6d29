-- ai: the AI router (the ai_router plugin's "ai" service) from a strategy. docs/ai-router.md.
--
--   local ai = require("lib.ai")
--   function S.on_bar(ctx, bar, f)
--     ai.poll(ctx)                       -- first: runs this symbol's callbacks whose answers arrived
--     if want_advice then
--       ai.submit(ctx, { prompt = "...", system = "...", model = "strong", max_tokens = 200,
--                        on_answer = function(result, ctx) ... end })   -- returns a handle at once
--     end
--   end
--
-- submit never waits for a provider: the answer comes through on_answer on a later bar of
-- the same symbol, with that bar's ctx, and result.ok, result.text or result.error,
-- provider, tokens, cost_usd (the fields of `onepath ai run`'s results). In a backtest,
-- submit is refused unless the plugin replays recorded answers (params.recorded): a
-- backtest must be reproducible.
local ai = {}
local waiting = {} -- handle -> { symbol = ..., callback = ... }
local inbox = {}   -- symbol -> answers arrived, in the order they were submitted
local count = 0

function ai.submit(ctx, task)
  assert(ctx ~= nil and type(task) == "table", "ai.submit(ctx, task): the bar's ctx, then the task")
  local request = {}
  for k, v in pairs(task) do
    if k ~= "on_answer" then request[k] = v end
  end
  local answer = json.decode(service("ai", "submit", json.encode(request)))
  waiting[answer.first] = { symbol = ctx.symbol, callback = task.on_answer }
  count = count + 1
  return answer.first
end

-- Answers still to come, over every symbol.
function ai.pending()
  return count
end

-- Collects the answers that arrived, then runs the callbacks of ctx's symbol in the order
-- its tasks were submitted. Returns how many ran.
function ai.poll(ctx)
  if count > 0 then
    local answer = json.decode(service("ai", "poll", "{}"))
    for _, result in ipairs(answer.results) do
      local w = waiting[result.index]
      if w then
        waiting[result.index] = nil
        count = count - 1
        local box = inbox[w.symbol] or {}
        inbox[w.symbol] = box
        box[#box + 1] = { result = result, callback = w.callback }
      end
    end
  end
  local box = inbox[ctx.symbol]
  if not box then return 0 end
  inbox[ctx.symbol] = nil
  for _, a in ipairs(box) do
    if a.callback then a.callback(a.result, ctx) end
  end
  return #box
end

return ai
