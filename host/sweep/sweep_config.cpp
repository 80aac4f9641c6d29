#include "sweep/sweep_config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "core/number_format.hpp"
#include "core/text_formats.hpp"

namespace onepath {
namespace {

namespace fs = std::filesystem;

const std::set<std::string> kSweepKeys = {"run",    "space",     "variants", "symbols",     "search",  "trials", "seed",
                                          "objective", "direction", "aggregate", "constraints", "folds", "workers", "eta"};
const std::set<std::string> kFoldKeys = {"mode", "train", "test", "step", "purge", "count"};

class SweepReader {
 public:
  SweepReader(const toml::table& sweep, std::string file) : t_(sweep), file_(std::move(file)) {}
  [[noreturn]] void wrong(const std::string& key, const std::string& want) const {
    throw InputError(file_ + ": 'sweep." + key + "' must be " + want);
  }
  const toml::node* at(const std::string& key) const { return t_.at_path(key).node(); }
  std::optional<std::string> text(const std::string& key) const {
    const toml::node* n = at(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) wrong(key, "a string");
    return *n->value<std::string>();
  }
  std::optional<double> number(const std::string& key, double lo, double hi, bool whole) const {
    const toml::node* n = at(key);
    if (!n) return std::nullopt;
    double v = 0;
    if (n->is_integer()) v = static_cast<double>(*n->value<std::int64_t>());
    else if (n->is_floating_point()) v = *n->value<double>();
    else wrong(key, "a number");
    if (!std::isfinite(v) || v < lo || v > hi || (whole && v != std::floor(v)))
      wrong(key, std::string(whole ? "a whole number" : "a number") + " from " + format_double(lo) + " to " + format_double(hi) + " (it is " +
                     format_double(v) + ")");
    return v;
  }
  // One of named values, or wrong(key, want).
  template <class E>
  void choice(const std::string& key, E& out, std::initializer_list<std::pair<const char*, E>> options, const std::string& want) const {
    const auto v = text(key);
    if (!v) return;
    for (const auto& [name, value] : options)
      if (*v == name) {
        out = value;
        return;
      }
    wrong(key, want);
  }
  void check_keys(const toml::table& t, const std::set<std::string>& allowed, const std::string& where) const {
    for (const auto& [key, node] : t)
      if (!allowed.count(std::string(key.str()))) {
        std::string known;
        for (const auto& k : allowed) known += (known.empty() ? "" : ", ") + k;
        throw InputError(file_ + ": unknown key '" + where + std::string(key.str()) + "' (known: " + known + ")");
      }
  }

 private:
  const toml::table& t_;
  std::string file_;
};

// A value as TOML text for a --set.
std::string toml_text(const toml::node& n, const std::string& file, const std::string& key) {
  if (n.is_integer()) return std::to_string(*n.value<std::int64_t>());
  if (n.is_floating_point()) {
    const double v = *n.value<double>();
    std::string s = format_double(v);
    if (s.find_first_of(".en") == std::string::npos) s += ".0";  // stays a float
    return s;
  }
  if (n.is_boolean()) return *n.value<bool>() ? "true" : "false";
  if (n.is_string()) return json_quote(*n.value<std::string>());
  throw InputError(file + ": 'sweep.space." + key + "': values are numbers, strings or booleans");
}

// [1, 2, 3]; { from = 10, to = 50, step = 10 }; { log_from = 1, log_to = 100, count = 5 }.
SweepAxis read_axis(const std::string& key, const toml::node& n, const std::string& file) {
  SweepAxis a{key, {}};
  const std::string where = file + ": 'sweep.space.\"" + key + "\"'";
  if (const toml::array* arr = n.as_array()) {
    for (const auto& v : *arr) a.values.push_back(toml_text(v, file, key));
  } else if (const toml::table* t = n.as_table()) {
    auto num = [&](const char* name) -> std::optional<double> {
      const toml::node* x = t->get(name);
      if (!x) return std::nullopt;
      if (x->is_integer()) return static_cast<double>(*x->value<std::int64_t>());
      if (x->is_floating_point()) return *x->value<double>();
      throw InputError(where + ": '" + name + "' must be a number");
    };
    for (const auto& [k, v] : *t)
      if (!std::set<std::string>{"from", "to", "step", "log_from", "log_to", "count"}.count(std::string(k.str())))
        throw InputError(where + ": unknown key '" + std::string(k.str()) + "' (a range: from, to, step; a log range: log_from, log_to, count)");
    if (auto from = num("from")) {
      const auto to = num("to"), step = num("step");
      if (!to || !step || !(*step > 0) || *to < *from) throw InputError(where + ": a range needs from <= to and a step above 0");
      const bool ints = t->get("from")->is_integer() && t->get("to")->is_integer() && t->get("step")->is_integer();
      const auto n_values = static_cast<std::size_t>(std::floor((*to - *from) / *step + 1e-9)) + 1;
      if (n_values > 100000) throw InputError(where + ": " + std::to_string(n_values) + " values; at most 100000 per key");
      for (std::size_t i = 0; i < n_values; ++i) {
        const double v = *from + static_cast<double>(i) * *step;
        a.values.push_back(ints ? std::to_string(static_cast<std::int64_t>(v)) : toml_text(toml::value<double>(v), file, key));
      }
    } else if (auto lf = num("log_from")) {
      const auto lt = num("log_to"), count = num("count");
      if (!lt || !count || !(*lf > 0) || !(*lt > *lf) || *count < 2 || *count != std::floor(*count) || *count > 100000)
        throw InputError(where + ": a log range needs 0 < log_from < log_to and a whole count of 2 or more");
      const auto n_values = static_cast<std::size_t>(*count);
      for (std::size_t i = 0; i < n_values; ++i) {
        const double v = *lf * std::pow(*lt / *lf, static_cast<double>(i) / static_cast<double>(n_values - 1));
        a.values.push_back(toml_text(toml::value<double>(i + 1 == n_values ? *lt : v), file, key));
      }
    } else {
      throw InputError(where + ": a table is a range (from, to, step) or a log range (log_from, log_to, count)");
    }
  } else {
    a.values.push_back(toml_text(n, file, key));
  }
  if (a.values.empty()) throw InputError(where + ": no values");
  return a;
}

}  // namespace

const std::vector<std::string>& sweep_objectives() {
  static const std::vector<std::string> names = {"sharpe", "sortino", "calmar", "total_return", "cagr", "profit_factor", "win_rate",
                                                 "max_drawdown", "final_equity", "trades"};
  return names;
}

SweepConfig load_sweep_config(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw InputError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  const toml::table* sweep = root["sweep"].as_table();
  if (!sweep) throw InputError(path + ": no [sweep] table (docs/sweep.md)");
  SweepReader r(*sweep, path);
  r.check_keys(*sweep, kSweepKeys, "sweep.");
  SweepConfig c;
  c.path = path;
  // Beside the RUN.toml it names, or inside one (the file itself).
  if (auto run = r.text("run")) {
    c.run_path = fs::path(*run).is_absolute() ? *run : (fs::absolute(path).parent_path() / *run).lexically_normal().string();
    if (!fs::exists(c.run_path)) throw InputError(path + ": 'sweep.run' = \"" + *run + "\": no such file (" + c.run_path + ")");
  } else {
    if (!root.contains("data")) throw InputError(path + ": 'sweep.run' names the RUN.toml the sweep extends (or put [sweep] inside that RUN.toml)");
    c.run_path = path;
  }
  if (const toml::node* space = r.at("space")) {
    const toml::table* t = space->as_table();
    if (!t) r.wrong("space", "a table of \"key.path\" = values");
    for (const auto& [key, node] : *t) c.space.push_back(read_axis(std::string(key.str()), node, path));
  }
  if (const toml::node* variants = r.at("variants")) {
    const toml::table* t = variants->as_table();
    if (!t) r.wrong("variants", "a table of named tables of \"key.path\" = value");
    for (const auto& [name, node] : *t) {
      const toml::table* v = node.as_table();
      if (!v) r.wrong("variants." + std::string(name.str()), "a table of \"key.path\" = value");
      SweepVariant variant{std::string(name.str()), {}};
      for (const auto& [key, value] : *v) variant.sets.push_back(std::string(key.str()) + "=" + toml_text(value, path, std::string(key.str())));
      c.variants.push_back(std::move(variant));
    }
  }
  if (c.variants.empty()) c.variants.push_back({"base", {}});
  r.choice("symbols", c.each_symbol, {{"each", true}, {"all", false}}, "\"each\" (a cell per symbol) or \"all\" (the whole market per cell)");
  using Search = SweepConfig::Search;
  r.choice("search", c.search, {{"grid", Search::grid}, {"random", Search::random}, {"halving", Search::halving}},
           "\"grid\", \"random\" or \"halving\"");
  if (auto n = r.number("trials", 1, 1e6, true)) c.trials = static_cast<std::size_t>(*n);
  if (c.search == SweepConfig::Search::random && c.trials == 0) r.wrong("trials", "the number of points a random search draws (1 or more)");
  if (auto n = r.number("seed", 0, 9007199254740992.0, true)) c.seed = static_cast<std::uint64_t>(*n);
  if (auto n = r.number("eta", 2, 100, true)) c.eta = static_cast<std::size_t>(*n);
  if (auto o = r.text("objective")) {
    const auto& known = sweep_objectives();
    if (std::find(known.begin(), known.end(), *o) == known.end()) {
      std::string names;
      for (const auto& k : known) names += (names.empty() ? "" : ", ") + k;
      r.wrong("objective", "one of " + names);
    }
    c.objective = *o;
    c.maximize = *o != "max_drawdown";
  }
  r.choice("direction", c.maximize, {{"max", true}, {"min", false}}, "\"max\" or \"min\"");
  using Aggregate = SweepConfig::Aggregate;
  r.choice("aggregate", c.aggregate, {{"mean", Aggregate::mean}, {"median", Aggregate::median}, {"worst", Aggregate::worst}},
           "\"mean\", \"median\" or \"worst\" (over folds)");
  if (const toml::node* constraints = r.at("constraints")) {
    const toml::table* t = constraints->as_table();
    if (!t) r.wrong("constraints", "a table");
    r.check_keys(*t, {"min_trades_per_fold", "max_fold_variance"}, "sweep.constraints.");
    if (auto n = r.number("constraints.min_trades_per_fold", 0, 1e9, true)) c.min_trades_per_fold = static_cast<std::size_t>(*n);
    if (auto v = r.number("constraints.max_fold_variance", 0, 1e300, false)) c.max_fold_variance = *v;
  }
  if (const toml::node* folds = r.at("folds")) {
    const toml::table* t = folds->as_table();
    if (!t) r.wrong("folds", "a table");
    r.check_keys(*t, kFoldKeys, "sweep.folds.");
    r.choice("folds.mode", c.folds.anchored, {{"rolling", false}, {"anchored", true}}, "\"rolling\" or \"anchored\"");
    auto bars = [&](const char* key, std::size_t& out, double lo) {
      if (auto n = r.number(std::string("folds.") + key, lo, 1e9, true)) out = static_cast<std::size_t>(*n);
    };
    bars("train", c.folds.train, 0);
    bars("test", c.folds.test, 1);
    bars("step", c.folds.step, 1);
    bars("purge", c.folds.purge, 0);
    bars("count", c.folds.count, 1);
    if (c.folds.test == 0) r.wrong("folds.test", "the bars of each test window (1 or more)");
    if (c.folds.step == 0) c.folds.step = c.folds.test;
  }
  if (auto n = r.number("workers", 0, 1024, true)) c.workers = static_cast<int>(*n);
  if (c.workers == 0) c.workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return c;
}

}  // namespace onepath
