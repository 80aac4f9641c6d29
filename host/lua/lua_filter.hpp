#pragma once
// A filter written in Lua (scripts/filters/*.lua): `new(params)` returns an object with
// `apply(self, intent, ctx)`, which returns the intent (perhaps changed) or nil (and
// optionally a reason); optional `on_entry(self, symbol, bar)` and `on_exit(self, symbol,
// bar)`. Its state is the object's plain fields (numbers, strings, booleans, tables), saved
// and restored with the chain. It sits in the same chain as the native filters.
#include <string>
#include <vector>

#include "exec/filter.hpp"
#include "lua/runtime.hpp"
#include "lua/strategy.hpp"

namespace onepath {

class LuaFilter final : public Filter {
 public:
  LuaFilter(const std::string& path, const std::string& scripts_root, const ScriptParams& params, ScriptLimits limits,
            std::vector<std::string> symbols);
  std::string_view name() const override { return name_; }
  std::string apply(Intent& intent, const FilterContext& ctx) override;
  void on_entry(int symbol, std::int64_t bar) override { notify("on_entry", symbol, bar); }
  void on_exit(int symbol, std::int64_t bar) override { notify("on_exit", symbol, bar); }
  std::string save() const override;
  void load(std::string_view bytes) override;

 private:
  void notify(const char* method, int symbol, std::int64_t bar);
  mutable LuaRuntime rt_;
  std::string path_, name_;
  std::vector<std::string> symbols_;
  int self_ref_ = 0, glue_ref_ = 0, method_ref_ = 0, symbols_ref_ = 0;
};

}  // namespace onepath
