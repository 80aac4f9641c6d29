#pragma once
// A strategy script: `params` (defaults), `features` (a feature-set list, or a function of
// the params returning one), `on_bar(ctx, bar, f)` and optionally `on_start(ctx)`,
// `on_fill(ctx, fill)`, `on_stop(ctx)`, and `gate` (a feature column: on_bar runs only on
// bars where it is non-zero). The per-bar path goes through LuaJIT's FFI: `bar`,
// `f` (this bar's features by name, NaN before warm-up) and `ctx`'s numbers are views of
// host memory, so reading them allocates nothing and the JIT compiles the reads. Orders
// (`ctx:buy{...}`, `ctx:sell{...}`, `ctx:close()`) are collected as intents for the host.
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/candle.hpp"
#include "core/params.hpp"
#include "enrich/feature_set.hpp"
#include "exec/kernel.hpp"
#include "exec/order.hpp"
#include "lua/runtime.hpp"

struct lua_State;

namespace onepath {


// Params to and from Lua tables (numbers, strings, booleans). read_script_params reads the
// table at `index`; InputError naming `origin` for anything else.
void push_script_value(lua_State* L, const std::variant<double, std::string, bool>& value);
ScriptParams read_script_params(lua_State* L, int index, const std::string& origin);

class LuaStrategy {
 public:
  // Loads the script; `overrides` replace declared params (an undeclared one is an error).
  LuaStrategy(const std::string& path, const std::string& scripts_root, std::vector<std::string> symbols,
              const ScriptParams& overrides, ScriptLimits limits);
  ~LuaStrategy();

  const FeatureSet& features() const { return features_; }
  const std::string& path() const { return path_; }
  const ScriptParams& params() const { return params_; }
  const std::string& gate() const { return gate_; }  // empty: on_bar runs on every bar

  // Sets up the per-symbol views once the feature columns are known.
  void bind(const std::vector<std::string>& columns);
  // Where the enricher writes a symbol's row (columns in order).
  double* row(int symbol) { return rows_[symbol].data(); }

  void on_start();
  // The bar has been applied (fills, marks); the strategy decides at its close.
  // Returns the intents it placed, in order.
  const std::vector<Intent>& on_bar(int symbol, const Candle& c, std::int64_t bar_index, double position, double equity,
                                    double cash);
  void on_fill(int symbol, const Trade& trade);
  void on_stop();
  // Every symbol's ctx.state, for snapshots and hot reload.
  std::string save_state() const;
  void load_state(std::string_view bytes);
  // Hot reload: another version's states, each reshaped by this script's
  // migrate(old_state, old_version) when it defines one (which returns the new state).
  void adopt_state(std::string_view bytes, const std::string& old_version);

  // Used by the Lua bindings.
  struct Binding;
  void on_intent(const Intent& intent);
  void log_line(const char* symbol, const std::string& message);
  LuaRuntime& runtime() { return *rt_; }

 private:
  void call_hook(const char* name, int symbol);
  std::unique_ptr<LuaRuntime> rt_;
  std::string path_;
  std::vector<std::string> symbols_;
  ScriptParams params_;
  FeatureSet features_;
  std::string gate_;
  int module_ref_ = 0, on_bar_ref_ = 0;
  bool has_on_start_ = false, has_on_fill_ = false, has_on_stop_ = false;
  struct View;
  std::vector<std::vector<double>> rows_;
  std::vector<std::unique_ptr<View>> views_;
  std::vector<int> state_refs_;  // each symbol's methods table, which holds `state`
  std::vector<Intent> intents_;
  std::unique_ptr<Binding> binding_;
};

}  // namespace onepath
