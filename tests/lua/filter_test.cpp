#include <doctest/doctest.h>

#include <unistd.h>

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
