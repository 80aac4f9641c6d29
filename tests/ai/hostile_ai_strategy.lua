-- A script that misuses the ai service (tests/cli/ai_cli_test.sh): it asks it to read a
-- file, to queue without bound, and to wait a minute inside a callback with a 1 s limit.
local S = {}

function S.on_bar(ctx)
  if ctx.bar ~= 1 or ctx.symbol ~= "BTC" then return end
  local ok, e = pcall(service, "ai", "submit", '{"file": "/etc/passwd"}')
  ctx:log("file:", ok, e)
  local tasks = {}
  for i = 1, 1001 do tasks[i] = { prompt = "task " .. i, max_tokens = 1 } end
  ok, e = pcall(service, "ai", "submit", json.encode({ tasks = tasks }))
  ctx:log("queue:", ok, e)
  service("ai", "submit", json.encode({ prompt = "never answered", max_tokens = 1 }))
  service("ai", "poll", '{"wait_ms": 60000}')
  ctx:log("poll returned within the callback's limit")
end

return S
