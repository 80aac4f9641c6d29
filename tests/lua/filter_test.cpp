#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "lua/lua_filter.hpp"

using namespace onepath;

namespace {
std::string write_filter(const std::string& code) {
  auto dir = std::filesystem::temp_directory_path() / ("onepath-filter-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "halve_then_stop.lua").string();
  std::ofstream(path) << code;
  return path;
}
const char* kFilter = R"(
local F = {}
F.__index = F
function F.new(params) return setmetatable({ left = params.entries, seen = { n = 0 } }, F) end
function F:apply(intent, ctx)
  if intent.action == "close" then return intent end
  if self.left <= 0 then return nil, "no entries left" end
  intent.size = intent.size / 2
  return intent
end
function F:on_entry(symbol, bar) self.left = self.left - 1; self.seen.n = self.seen.n + 1 end
return F
)";
Intent entry() {
  Intent in;
  in.size = {SizeMode::equity_fraction, 0.4};
  return in;
}
}  // namespace

TEST_CASE("a Lua filter passes a changed intent, drops with a reason, and saves its state") {
  std::string path = write_filter(kFilter);
  FilterChain chain;
  chain.add(make_cooldown_filter(1, 1));
  chain.add(std::make_unique<LuaFilter>(path, std::filesystem::path(path).parent_path().string(), ScriptParams{{"entries", 2.0}},
                                        ScriptLimits{}, std::vector<std::string>{"BTC"}));
  FilterContext ctx;
  Intent a = entry();
  REQUIRE(chain.apply(a, ctx).passed);
  CHECK(a.size.value == doctest::Approx(0.2));  // halved by the Lua filter
  chain.on_entry(0, 0);
  std::string saved = chain.save();
  Intent b = entry();
  ctx.bar = 5;
  CHECK(chain.apply(b, ctx).passed);
  chain.on_entry(0, 5);
  Intent c = entry();
  ChainVerdict v = chain.apply(c, ctx);
  CHECK_FALSE(v.passed);
  CHECK(v.filter == "halve_then_stop");
  CHECK(v.reason == "halve_then_stop: no entries left");

  chain.load(saved);  // back to one entry left
  Intent d = entry();
  CHECK(chain.apply(d, ctx).passed);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_CASE("a pass-through Lua filter returns every kind of intent unchanged, and sees the context") {
  std::string path = write_filter(R"(
local F = {}
F.__index = F
function F.new() return setmetatable({}, F) end
function F:apply(intent, ctx)
  if intent.action == "buy" and intent.type == "stop" then
    return nil, string.format("%s bar %d time %d open %d has %s", ctx.symbol, ctx.bar, ctx.time, ctx.open_positions, tostring(ctx.has_position))
  end
  return intent
end
return F
)");
  LuaFilter f(path, std::filesystem::path(path).parent_path().string(), {}, {}, {"BTC", "ETH"});
  FilterContext ctx{1, 42, 1709251200000, 2, true};
  std::vector<Intent> intents(6);
  intents[0].size = {SizeMode::quantity, 1.5, 0.3};
  intents[0].type = OrderType::limit, intents[0].price = 99.5, intents[0].valid_bars = 3;
  intents[1].action = IntentAction::sell, intents[1].size = {SizeMode::risk_fraction, 0.01, kNaN};
  intents[1].stop_loss = {LevelMode::price, 105}, intents[1].take_profit = {LevelMode::atr, 3}, intents[1].atr = 2.5;
  intents[2].stop_loss = {LevelMode::atr, 2}, intents[2].take_profit = {LevelMode::percent, 0.05}, intents[2].atr = 1.25;
  intents[2].exit_after_bars = 12;
  intents[3].action = IntentAction::close, intents[3].close_quantity = 0.75;
  intents[4].action = IntentAction::close;
  intents[5].stop_loss = {LevelMode::percent, 0.02};
  for (std::size_t i = 0; i < intents.size(); ++i) {
    CAPTURE(i);
    Intent out = intents[i];
    REQUIRE(f.apply(out, ctx).empty());
    const Intent& in = intents[i];
    CHECK(out.action == in.action);
    CHECK(out.type == in.type);
    CHECK(out.size.mode == in.size.mode);
    CHECK(out.size.value == in.size.value);
    CHECK((out.size.max_fraction == in.size.max_fraction || (std::isnan(out.size.max_fraction) && std::isnan(in.size.max_fraction))));
    CHECK((out.price == in.price || (std::isnan(out.price) && std::isnan(in.price))));
    CHECK(out.stop_loss.mode == in.stop_loss.mode);
    CHECK(out.stop_loss.value == in.stop_loss.value);
    CHECK(out.take_profit.mode == in.take_profit.mode);
    CHECK(out.take_profit.value == in.take_profit.value);
    CHECK((out.atr == in.atr || (std::isnan(out.atr) && std::isnan(in.atr))));
    CHECK(out.exit_after_bars == in.exit_after_bars);
    CHECK(out.valid_bars == in.valid_bars);
    CHECK((out.close_quantity == in.close_quantity || (std::isnan(out.close_quantity) && std::isnan(in.close_quantity))));
  }
  Intent stop;
  stop.type = OrderType::stop, stop.price = 101;
  CHECK(f.apply(stop, ctx) == "halve_then_stop: ETH bar 42 time 1709251200000 open 2 has true");
}
