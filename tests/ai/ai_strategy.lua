-- A strategy that asks the AI router once per symbol, at bar 30, and logs the answer when
-- it arrives: the candle loop must not wait for it (tests/cli/ai_cli_test.sh).
local ai = require("lib.ai")
local S = {}
S.features = { { name = "ema", kind = "ema", period = 5 } }

function S.on_bar(ctx, bar, f)
  ai.poll(ctx)
  if ctx.bar == 30 then
    ai.submit(ctx, {
      prompt = "advice for " .. ctx.symbol .. " at bar 30",
      max_tokens = 16,
      on_answer = function(result, now)
        now:log("ai answer on bar", now.bar, "for bar 30:", result.ok and result.text or result.error)
      end,
    })
  end
end

return S
