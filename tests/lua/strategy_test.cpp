#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <unistd.h>

#include "error_of.hpp"
#include "core/error.hpp"
#include "lua/strategy.hpp"

using namespace onepath;

namespace {

// A scripts tree of its own in a temporary folder, with one module to require.
const std::string kRoot = [] {
  std::string root = (std::filesystem::temp_directory_path() / ("onepath-lua-test-" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(root + "/strategies");
  std::filesystem::create_directories(root + "/lib");
  std::ofstream(root + "/lib/util.lua") << "local M = {}\nfunction M.double(x) return 2 * x end\nreturn M\n";
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all((std::filesystem::temp_directory_path() / ("onepath-lua-test-" + std::to_string(::getpid()))), ec);
  });
  return root;
}();

// Writes a strategy into the test scripts tree and loads it for one symbol.
std::unique_ptr<LuaStrategy> load(const std::string& name, const std::string& code, ScriptLimits limits = {}) {
  std::string path = kRoot + "/strategies/" + name + ".lua";
  std::ofstream(path) << code;
  auto s = std::make_unique<LuaStrategy>(path, kRoot, std::vector<std::string>{"BTC"}, ScriptParams{}, limits);
  s->bind({"x"});
  return s;
}

const char* kHeader = "local S = {features = {{name = 'x', kind = 'sma', period = 2}}}\n";

Candle bar(int i) { return {1709251200000 + i * 900000LL, 100, 101, 99, 100.5, 10}; }

}  // namespace

TEST_CASE("on_bar reads the bar, the features and ctx through the FFI, and places intents") {
  auto s = load("reads", std::string(kHeader) + R"(
function S.on_bar(ctx, bar, f)
  if f.x ~= f.x then return end                -- NaN before warm-up
  if bar.close > 100 and ctx.position == 0 and ctx.equity == 10000 then
    ctx:buy{ size = 0.5, sl_pct = 0.02, exit_after = 3 }
  end
  ctx.state.seen = (ctx.state.seen or 0) + 1
  if ctx.state.seen == 2 then ctx:sell{ qty = 2, type = 'limit', price = 101 } end
end
return S)");
  s->row(0)[0] = NAN;
  CHECK(s->on_bar(0, bar(0), 0, 0, 10000, 10000).empty());
  s->row(0)[0] = 100.25;
  const auto& a = s->on_bar(0, bar(1), 1, 0, 10000, 10000);
  REQUIRE(a.size() == 1);
  CHECK(a[0].action == IntentAction::buy);
  CHECK(a[0].size.mode == SizeMode::equity_fraction);
  CHECK(a[0].size.value == 0.5);
  CHECK(a[0].stop_loss.mode == LevelMode::percent);
  CHECK(a[0].exit_after_bars == 3);
  const auto& b = s->on_bar(0, bar(2), 2, 1, 9000, 5000);
  REQUIRE(b.size() == 1);
  CHECK(b[0].action == IntentAction::sell);
  CHECK(b[0].type == OrderType::limit);
  CHECK(b[0].size.mode == SizeMode::quantity);
}

TEST_CASE("a syntax error names the file and the line") {
  std::string e = error_of([] { load("syntax", "local S = {\nfunction broken(\nreturn S"); });
  CHECK(e.find("strategies/syntax.lua:2: '(' expected near 'broken'") != std::string::npos);
}

TEST_CASE("a runtime error names the file, the line and the callback, with a traceback") {
  auto s = load("runtime", std::string(kHeader) + "function S.on_bar(ctx, bar, f)\n  local t = nil\n  return t.field\nend\nreturn S");
  std::string e = error_of([&] { s->on_bar(0, bar(0), 0, 0, 1, 1); });
  CHECK(e.find("strategies/runtime.lua:4: attempt to index local 't'") != std::string::npos);
  CHECK(e.find("stack traceback") != std::string::npos);
  CHECK(e.find("(in on_bar)") != std::string::npos);
}

TEST_CASE("reading a feature or a bar field that does not exist names it, what there is, and the line") {
  auto s = load("nosuch", std::string(kHeader) + "function S.on_bar(ctx, bar, f)\n  return f.nosuch\nend\nreturn S");
  CHECK(error_of([&] { s->on_bar(0, bar(0), 0, 0, 1, 1); }).find("nosuch.lua:3: unknown feature 'nosuch' (known: x)") != std::string::npos);
  auto t = load("nobar", std::string(kHeader) + "function S.on_bar(ctx, bar, f)\n  return bar.clsoe\nend\nreturn S");
  CHECK(error_of([&] { t->on_bar(0, bar(0), 0, 0, 1, 1); }).find("nobar.lua:3: bar has no field 'clsoe'") != std::string::npos);
}

TEST_CASE("a wrong order option is an error naming the option and the line") {
  auto s = load("badopt", std::string(kHeader) + "function S.on_bar(ctx, bar, f)\n  ctx:buy{ sise = 0.1 }\nend\nreturn S");
  std::string e = error_of([&] { s->on_bar(0, bar(0), 0, 0, 1, 1); });
  CHECK(e.find("badopt.lua:3: ctx:buy: unknown option 'sise'") != std::string::npos);
  auto t = load("badopt2", std::string(kHeader) + "function S.on_bar(ctx, bar, f)\n  ctx:buy{ type = 'limit' }\nend\nreturn S");
  CHECK(error_of([&] { t->on_bar(0, bar(0), 0, 0, 1, 1); }).find("ctx:buy: order option 'price'") != std::string::npos);
}

TEST_CASE("an endless loop ends the call within the time limit, also when the JIT compiled it") {
  ScriptLimits limits;
  limits.timeout_ms = 200;
  for (const char* loop : {"while true do end",                                  // compiled to a trace
                           "local x = 0 while true do x = x + f.x end",           // reads through the FFI
                           "local t = {} while true do t[#t % 10 + 1] = {} end"}) {  // allocates all along
    CAPTURE(loop);
    auto s = load("loop", std::string(kHeader) + "function S.on_bar(ctx, bar, f)\n  " + loop + "\nend\nreturn S", limits);
    s->row(0)[0] = 1;
    auto start = std::chrono::steady_clock::now();
    std::string e = error_of([&] { s->on_bar(0, bar(0), 0, 0, 1, 1); });
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    CHECK(e.find("strategies/loop.lua: on_bar ran longer than 200 ms") != std::string::npos);
    CHECK(ms < 5000);  // a bound on the mechanism, not a timing claim: it did not hang
    CHECK(error_of([&] { s->on_bar(0, bar(1), 1, 0, 1, 1); }).find("no longer usable") != std::string::npos);
  }
}

TEST_CASE("a script that allocates without bound fails at its memory limit and the host carries on") {
  ScriptLimits limits;
  limits.memory_bytes = 16u << 20;
  auto s = load("hog", std::string(kHeader) + "function S.on_bar(ctx, bar, f)\n  local t = {}\n  for i = 1, 1e9 do t[i] = {i} end\nend\nreturn S", limits);
  CHECK(error_of([&] { s->on_bar(0, bar(0), 0, 0, 1, 1); }).find("memory limit of 16 MB") != std::string::npos);
  auto fine = load("fine", std::string(kHeader) + "function S.on_bar(ctx, bar, f) ctx:close() end\nreturn S");
  CHECK(fine->on_bar(0, bar(0), 0, 1, 1, 1).size() == 1);
}

TEST_CASE("the sandbox: no io, os.execute, loadfile, debug or ffi, require only inside the scripts tree") {
  for (const char* bad : {"io.write('x')", "os.execute('true')", "loadfile('/etc/passwd')", "debug.getinfo(1)",
                          "require('ffi')", "require('os')", "require('..secret')", "dofile('/etc/passwd')", "load('return 1')"}) {
    CAPTURE(bad);
    CHECK(error_of([&] { load("sandbox", std::string(kHeader) + bad + "\nfunction S.on_bar() end\nreturn S"); }) != "no error");
  }
  auto ok = load("required", std::string(kHeader) +
                                "local util = require('lib.util')\nassert(util.double(21) == 42)\nassert(os.time() > 0)\n"
                                "function S.on_bar(ctx) ctx:log('hello', 1) end\nreturn S");
  CHECK(ok->on_bar(0, bar(0), 0, 0, 1, 1).empty());
}

TEST_CASE("params: declared defaults, overrides of declared names only, features as a function of them") {
  std::string path = kRoot + "/strategies/params.lua";
  std::ofstream(path) << "local S = {params = {n = 5, name = 'x'}}\n"
                         "S.features = function(p) return {{name = 'm', kind = 'sma', period = p.n}} end\n"
                         "function S.on_bar() end\nreturn S";
  LuaStrategy s(path, kRoot, {"BTC"}, {{"n", 9.0}}, {});
  CHECK(s.features().features[0].indicator.params.at("period") == std::variant<double, std::string>(9.0));
  CHECK(error_of([&] { LuaStrategy t(path, kRoot, {"BTC"}, {{"m", 1.0}}, {}); }).find("no param 'm' to set (declared: n, name)") !=
        std::string::npos);
}

TEST_CASE("ctx.state is saved and restored") {
  auto s = load("stateful", std::string(kHeader) + "function S.on_bar(ctx) ctx.state.n = (ctx.state.n or 0) + 1; ctx.state.tags = {a = true, 'x'} "
                                                   "if ctx.state.n == 3 then ctx:close() end end\nreturn S");
  s->on_bar(0, bar(0), 0, 0, 1, 1);
  std::string saved = s->save_state();
  s->on_bar(0, bar(1), 1, 0, 1, 1);
  s->load_state(saved);                                  // back to n = 1
  CHECK(s->on_bar(0, bar(2), 2, 0, 1, 1).empty());      // n = 2
  CHECK(s->on_bar(0, bar(3), 3, 0, 1, 1).size() == 1);  // n = 3: closes
  CHECK_THROWS(s->load_state(saved.substr(0, saved.size() - 2)));
}

TEST_CASE("json.encode and json.decode: lists, objects, integers, null, and clear errors") {
  auto ok = load("json_ok", std::string(kHeader) + R"(
local s = json.encode({ prompt = "a \"quoted\"\n line", max_tokens = 16, ratio = 0.5, tags = { "x", "y" }, empty = {} })
local t = json.decode(s)
assert(t.prompt == "a \"quoted\"\n line", "string")
assert(t.max_tokens == 16 and s:find('"max_tokens":16', 1, true), "whole numbers as integers: " .. s)
assert(t.ratio == 0.5 and #t.tags == 2 and t.tags[2] == "y", "numbers and lists")
assert(json.decode('{"a": null}').a == json.null, "null")
assert(json.encode(json.decode('[1, 2.5, true, "s"]')) == '[1,2.5,true,"s"]', "round trip")
function S.on_bar() end
return S)");
  CHECK(ok->on_bar(0, bar(0), 0, 0, 1, 1).empty());
  for (const auto& [code, message] : std::vector<std::pair<std::string, std::string>>{
           {"local t = {} t.self = t json.encode(t)", "nested deeper than 64"},
           {"json.encode({ f = function() end })", "a function has no JSON form"},
           {"json.encode({ 1, 2, x = 3 })", "a list (keys 1..n) or have only string keys"},
           {"json.encode(0/0)", "is not a JSON number"},
           {"json.decode('{oops')", "json.decode: not JSON"}}) {
    CAPTURE(code);
    CHECK(error_of([&] { load("json_bad", std::string(kHeader) + code + "\nfunction S.on_bar() end\nreturn S"); }).find(message) !=
          std::string::npos);
  }
}
