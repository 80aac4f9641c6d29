// RUN.toml: read, override (--set), check every key and type, resolve paths.
#include <fmt/core.h>
#include <toml++/toml.h>

#include <glob.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/number_format.hpp"
#include "core/shipped.hpp"
#include "core/time.hpp"
#include "data/candle_io.hpp"
#include "exec/filter.hpp"
#include "infer/model_feature.hpp"
#include "lua/signal_config.hpp"
#include "plugin/loader.hpp"
#include "run/run_config.hpp"

namespace onepath {
namespace {

namespace fs = std::filesystem;

// Allowed keys per table path; "*" allows any key (params).
const std::map<std::string, std::set<std::string>>& schema() {
  static const std::map<std::string, std::set<std::string>> s = {
      // [ai]: the ai_router plugin reads and checks it; [sweep]: onepath sweep (sweep/sweep_config.cpp)
      {"", {"plugins", "data", "strategy", "filters", "execution", "risk", "output", "paper", "ai", "train", "sweep", "promotion", "alerts"}},
      {"alerts", {"events", "webhook", "command", "retries", "rate_per_minute"}},
      {"promotion", {"metric", "min_signals_per_fold", "max_fold_variance", "min_improvement", "leakage_check", "leakage_alpha", "shadow_candles",
                     "shadow_tolerance"}},
      {"plugins", {"path", "params"}},
      {"plugins.params", {"*"}},
      {"data", {"symbols", "timeframe", "files", "dir", "start", "end", "generate"}},
      {"data.files", {"*"}},
      {"data.generate", {"bars", "start", "scenario", "seed", "corr", "defects"}},
      {"strategy", {"script", "signal", "params", "scripts_root", "timeout_ms", "memory_mb"}},
      {"strategy.params", {"*"}},
      {"filters", {"kind", "bars", "limit", "script", "params"}},
      {"filters.params", {"*"}},
      {"execution", {"initial_cash", "fill", "same_bar", "costs", "taker_fee_bps", "maker_fee_bps", "slippage_bps", "slippage_range"}},
      {"risk", {"max_position_fraction", "max_gross_leverage", "daily_loss_fraction", "max_open_positions", "mode", "flatten_on_daily_loss"}},
      {"output", {"dir", "db", "equity_every", "report"}},
      {"paper.feed_params", {"*"}},
      {"train", {"features", "out", "name", "label", "horizon", "threshold", "stop_pct", "take_pct", "folds", "purge", "embargo", "rounds",
                 "max_depth", "eta", "subsample", "colsample_bytree", "min_child_weight", "seed", "trials", "start", "end", "symbols"}},
      {"paper", {"feed", "feed_params", "speed", "start", "dir", "snapshot_every", "pause_file", "host", "port", "token_env", "history_bars", "reload", "reload_candles", "reload_partial_warmup", "reload_probation", "on_error", "shadow_every", "shadow_window", "drift_window"}},
  };
  return s;
}

std::string join(const std::set<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

// An unknown key is blamed on where it came from: the --set that made it, else the file.
void check_keys(const toml::table& t, const std::string& path, const std::string& file, const std::vector<std::string>& overrides) {
  auto it = schema().find(path);
  if (it == schema().end()) return;
  const auto& allowed = it->second;
  for (const auto& [key, node] : t) {
    std::string k(key.str());
    std::string full = path.empty() ? k : path + "." + k;
    if (!allowed.count("*") && !allowed.count(k)) {
      std::string origin = file;
      for (const auto& o : overrides)
        if (o.starts_with(full + "=") || o.starts_with(full + ".")) origin = "--set " + o;
      throw InputError(origin + ": unknown key '" + full + "' (known in " + (path.empty() ? "the top level" : "[" + path + "]") + ": " +
                       join(allowed) + ")");
    }
    if (const toml::table* sub = node.as_table()) check_keys(*sub, full, file, overrides);
    if (const toml::array* arr = node.as_array())
      for (const auto& item : *arr)
        if (const toml::table* sub = item.as_table()) check_keys(*sub, full, file, overrides);
  }
}

class Reader {
 public:
  Reader(const toml::table& root, std::string file) : root_(root), file_(std::move(file)) {}

  const toml::node* at(const std::string& path) const { return root_.at_path(path).node(); }
  [[noreturn]] void wrong(const std::string& path, const char* want) const {
    throw InputError(file_ + ": '" + path + "' must be " + want);
  }
  std::optional<double> number(const std::string& path) const {
    const toml::node* n = at(path);
    if (!n) return std::nullopt;
    if (auto i = n->value<std::int64_t>(); i && n->is_integer()) return static_cast<double>(*i);
    if (auto d = n->value<double>(); d && n->is_floating_point()) return *d;
    wrong(path, "a number");
  }
  std::optional<std::string> text(const std::string& path) const {
    const toml::node* n = at(path);
    if (!n) return std::nullopt;
    if (!n->is_string()) wrong(path, "a string");
    return *n->value<std::string>();
  }
  // A moment: text (ISO-8601 or epoch), or a TOML date / date-time (UTC unless it says).
  std::optional<TimestampMs> moment(const std::string& path) const {
    const toml::node* n = at(path);
    if (!n) return std::nullopt;
    auto iso = [](const toml::date& d, const toml::time& t, int offset_minutes) {
      const std::string text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", d.year, d.month, d.day, t.hour, t.minute, t.second, t.nanosecond / 1'000'000);
      return parse_timestamp(text) - static_cast<TimestampMs>(offset_minutes) * 60'000;
    };
    try {
      if (n->is_string()) return parse_timestamp(*n->value<std::string>());
      if (auto d = n->value<toml::date>()) return iso(*d, toml::time{}, 0);
      if (auto dt = n->value<toml::date_time>()) return iso(dt->date, dt->time, dt->offset ? dt->offset->minutes : 0);
    } catch (const InputError& e) {
      throw InputError(file_ + ": '" + path + "': " + e.what());
    }
    wrong(path, "a time: \"2024-01-01\", \"2024-01-01T12:00:00Z\" or epoch milliseconds as text");
  }
  std::optional<bool> boolean(const std::string& path) const {
    const toml::node* n = at(path);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) wrong(path, "true or false");
    return *n->value<bool>();
  }
  void set(const std::string& path, bool& out) const {
    if (auto v = boolean(path)) out = *v;
  }
  // A list of non-empty strings (symbols, event names, a command's words); `want` says what.
  std::optional<std::vector<std::string>> texts(const std::string& path, const char* want) const {
    const toml::node* n = at(path);
    if (!n) return std::nullopt;
    const toml::array* list = n->as_array();
    if (!list) wrong(path, want);
    std::vector<std::string> out;
    for (const auto& x : *list) {
      if (!x.is_string() || x.value<std::string>()->empty()) wrong(path, want);
      out.push_back(*x.value<std::string>());
    }
    return out;
  }
  // Every number that enters: finite and in [lo, hi] (whole for an integer type), checked
  // before any conversion, else an InputError naming the key, the value and the range.
  template <class T>
  void set(const std::string& path, T& out, double lo, double hi) const {
    static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
    const auto v = number(path);
    if (!v) return;
    constexpr bool whole = std::is_integral_v<T>;
    // Whole values as people write them (10000000000000, not 1e+13).
    auto shown = [](double x) { return std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e18 ? fmt::format("{:.0f}", x) : format_double(x); };
    if (!std::isfinite(*v) || *v < lo || *v > hi || (whole && *v != std::floor(*v)))
      throw InputError(file_ + ": '" + path + "' = " + shown(*v) + ": must be " + (whole ? "a whole number" : "a number") + " from " + shown(lo) +
                       " to " + shown(hi));
    out = static_cast<T>(*v);
  }
  template <class E>
  void choice(const std::string& path, E& out, std::initializer_list<std::pair<const char*, E>> options) const {
    auto v = text(path);
    if (!v) return;
    std::string names;
    for (const auto& [name, value] : options) {
      if (*v == name) {
        out = value;
        return;
      }
      names += std::string(names.empty() ? "" : ", ") + "\"" + name + "\"";
    }
    wrong(path, ("one of " + names).c_str());
  }

 private:
  const toml::table& root_;
  std::string file_;
};

// "a.b.c=value": the value as TOML when it parses as one, else as a string.
void apply_override(toml::table& root, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw InputError("--set takes key.path=value, got '" + assignment + "'");
  std::string path = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  toml::table* t = &root;
  std::size_t start = 0;
  for (;;) {
    std::size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw InputError("--set: bad key path '" + path + "'");
    if (dot == std::string::npos) {
      try {
        toml::table parsed = toml::parse("v = " + value);
        t->insert_or_assign(part, *parsed.get("v"));
      } catch (const toml::parse_error&) {
        t->insert_or_assign(part, value);
      }
      return;
    }
    toml::node* next = t->get(part);
    if (!next) {
      t->insert(part, toml::table{});
      next = t->get(part);
    }
    // filters.0.bars: an index into an array of tables ([[filters]]), counted from 0
    if (toml::array* arr = next->as_array()) {
      const std::size_t idot = path.find('.', dot + 1);
      const std::string index = path.substr(dot + 1, idot == std::string::npos ? std::string::npos : idot - dot - 1);
      if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos || idot == std::string::npos)
        throw InputError("--set: '" + path.substr(0, dot) + "' is a list: name an entry by its index, from 0 ('" + path.substr(0, dot) + ".0.key')");
      const std::size_t i = std::stoul(index);
      if (i >= arr->size() || !(*arr)[i].is_table())
        throw InputError("--set: '" + path.substr(0, idot) + "': the list has " + std::to_string(arr->size()) + " entries (indices from 0)");
      next = &(*arr)[i];
      dot = idot;
    }
    if (!next->is_table()) throw InputError("--set: '" + path.substr(0, dot) + "' is not a table");
    t = next->as_table();
    start = dot + 1;
  }
}

// A relative path in a RUN.toml is the config's: beside it, else a file onepath ships under
// that name (scripts/strategies/ema_crossover.lua), never the current folder, which may be
// anyone's. A path found nowhere is returned beside the config, so errors name that.
std::string resolve(const std::string& p, const std::string& config_path) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  const fs::path beside = (fs::absolute(config_path).parent_path() / p).lexically_normal();
  std::error_code ec;
  if (fs::exists(beside, ec)) return beside.string();
  if (fs::path shipped = shipped_file(p); !shipped.empty()) return shipped.string();
  return beside.string();
}

std::vector<std::string> glob_matches(const std::string& pattern) {
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &g);
  std::vector<std::string> out(g.gl_pathv, g.gl_pathv + g.gl_pathc);
  ::globfree(&g);
  if (rc != 0) out.clear();
  std::sort(out.begin(), out.end());
  return out;
}

// A pattern with * ? or [ is a glob: its matches, sorted (monthly dumps in date order),
// beside the config (or an absolute pattern); none is an error. Anything else is one file,
// resolved as usual.
std::vector<std::string> expand_glob(const std::string& pattern, const std::string& config_path, const std::string& where) {
  if (pattern.find_first_of("*?[") == std::string::npos) return {resolve(pattern, config_path)};
  const fs::path full = fs::path(pattern).is_absolute() ? fs::path(pattern) : fs::absolute(config_path).parent_path() / pattern;
  auto found = glob_matches(full.lexically_normal().string());
  if (found.empty()) throw InputError(where + ": no file matches " + full.lexically_normal().string());
  return found;
}

}  // namespace

std::vector<std::string> run_config_keys() {
  std::vector<std::string> keys;
  for (const auto& [table, names] : schema())
    for (const auto& name : names) keys.push_back(table.empty() ? name : table + "." + name);
  return keys;
}

RunConfig load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  return load_run_config_text(read_file(path), path, overrides);
}

std::string run_config_with(const std::string& text, const std::string& path, const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    throw InputError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  for (const auto& o : overrides) apply_override(root, o);
  root.erase("sweep");
  std::ostringstream out;
  out << toml::toml_formatter(root) << "\n";
  return out.str();
}

RunConfig load_run_config_text(const std::string& text, const std::string& path, const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw InputError(path + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " + std::string(e.description()));
  }
  for (const auto& o : overrides) apply_override(root, o);
  check_keys(root, "", path, overrides);
  Reader r(root, path);
  // A params table: numbers, text and booleans by name.
  auto read_params = [&](const toml::node* node, const std::string& at) {
    ScriptParams params;
    if (!node) return params;
    if (!node->is_table()) r.wrong(at, "a table");
    for (const auto& [key, v] : *node->as_table()) {
      std::string k(key.str());
      if (v.is_integer()) params[k] = static_cast<double>(*v.value<std::int64_t>());
      else if (v.is_floating_point()) params[k] = *v.value<double>();
      else if (v.is_boolean()) params[k] = *v.value<bool>();
      else if (v.is_string()) params[k] = *v.value<std::string>();
      else r.wrong(at + "." + k, "a number, a string or a boolean");
    }
    return params;
  };
  RunConfig c;
  SessionConfig& session = c.session;
  c.path = path;
  set_model_folder(fs::absolute(path).parent_path().string());
  std::ostringstream canonical;
  canonical << root;
  c.text = canonical.str();

  // [[plugins]]: loaded first, so that their kinds can be named below and in feature sets
  if (const toml::node* plugins = r.at("plugins")) {
    const toml::array* arr = plugins->as_array();
    if (!arr) r.wrong("plugins", "a list of [[plugins]] tables");
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::table* t = (*arr)[i].as_table();
      std::string at = "plugins[" + std::to_string(i) + "]";
      if (!t) r.wrong(at, "a table");
      Reader pr(*t, path);
      PluginSpec p;
      const std::string given = pr.text("path").value_or("");
      // a bare name ("ai_router") is looked up in the plugin folders; a file is relative to the config
      p.path = given.find('/') == std::string::npos && !given.ends_with(".so") && !given.empty() ? find_plugin(given) : resolve(given, path);
      if (p.path.empty()) r.wrong(at + ".path", "the plugin's shared object (a .so file), or a shipped plugin's name");
      p.params = read_params(pr.at("params"), at + ".params");
      p.params["onepath.config"] = fs::absolute(path).lexically_normal().string();  // for paths in its params
      load_plugin(p.path, p.params);
      session.plugins.push_back(std::move(p));
    }
  }

  // [data]
  for (const auto& name : r.texts("data.symbols", "a list of names, none of them empty, e.g. [\"BTC\", \"ETH\"]").value_or(std::vector<std::string>{})) {
    if (std::find(session.symbols.begin(), session.symbols.end(), name) != session.symbols.end())
      throw InputError(path + ": 'data.symbols' names '" + name + "' twice");
    session.symbols.push_back(name);
  }
  if (auto tf = r.text("data.timeframe")) c.timeframe = Timeframe::parse(*tf);
  if (const toml::node* files = r.at("data.files")) {
    if (!files->is_table()) r.wrong("data.files", "a table of SYMBOL = \"file\"");
    for (const auto& [sym, file] : *files->as_table()) {
      const std::string key = "data.files." + std::string(sym.str());
      const char* expected = "a file name, a glob (\"dumps/BTC-2024-*.csv\") or a list of them";
      std::vector<std::string> patterns;
      if (file.is_string()) patterns.push_back(*file.value<std::string>());
      else if (const toml::array* list = file.as_array(); list && !list->empty())
        for (const auto& f : *list) {
          if (!f.is_string()) r.wrong(key, expected);
          patterns.push_back(*f.value<std::string>());
        }
      else r.wrong(key, expected);
      auto& out = c.files[std::string(sym.str())];
      for (const auto& pattern : patterns)
        for (auto& f : expand_glob(pattern, path, path + ": '" + key + "'")) out.push_back(std::move(f));
    }
  }
  if (auto dir = r.text("data.dir"))
    for (const auto& s : session.symbols)
      if (!c.files.count(s)) c.files[s] = {resolve((fs::path(*dir) / (s + ".csv")).string(), path)};
  c.start = r.moment("data.start");
  c.end = r.moment("data.end");
  if (c.start && c.end && *c.end <= *c.start)
    throw InputError(path + ": [data] end (" + format_iso(*c.end) + ") is not after start (" + format_iso(*c.start) + ")");
  if (r.at("data.generate")) {
    SynthOptions g;
    g.timeframe = c.timeframe.value_or(Timeframe::parse("15m"));
    std::int64_t bars = 20'000, seed = 1;
    r.set("data.generate.bars", bars, 1, 20'000'000);
    r.set("data.generate.seed", seed, 0, 9007199254740991.0);
    g.bars = static_cast<std::size_t>(bars);
    g.seed = static_cast<std::uint64_t>(seed);
    g.start_ms = g.timeframe.floor(parse_timestamp(r.text("data.generate.start").value_or("2024-01-01")));
    if (auto sc = r.text("data.generate.scenario")) g.scenario = parse_scenario(*sc);
    double corr = 0.8;
    r.set("data.generate.corr", corr, -1, 1);
    r.set("data.generate.defects", g.with_defects);
    for (const auto& s : session.symbols) g.symbols.push_back(preset_symbol(s, corr));
    c.generate = g;
  }
  if (session.symbols.empty()) for (const auto& [s, f] : c.files) session.symbols.push_back(s);
  if (session.symbols.empty()) throw InputError(path + ": [data] names no symbols (data.symbols, data.files or data.dir)");
  if (!c.generate)
    for (const auto& s : session.symbols)
      if (!c.files.count(s)) throw InputError(path + ": no data for symbol '" + s + "' (data.files, data.dir or [data.generate])");

  // [strategy]: a script, or a signal config naming one
  auto script = r.text("strategy.script");
  auto signal = r.text("strategy.signal");
  if (script && signal) throw InputError(path + ": give 'strategy.script' or 'strategy.signal', not both");
  // A config only `onepath train` reads ([train], no [strategy]) needs none; a run says so (Session).
  if (!script && !signal && !r.at("train"))
    throw InputError(path + ": 'strategy.script' is required (a file under scripts/strategies/), or 'strategy.signal' (scripts/signals/)");
  session.scripts_root = resolve(r.text("strategy.scripts_root").value_or("scripts"), path);
  if (signal) {
    session.signal = resolve(*signal, path);
    SignalConfig sc = load_signal_config(session.signal, session.scripts_root);
    session.strategy = sc.strategy;
    session.params = sc.params;
  } else if (script) {
    session.strategy = resolve(*script, path);
    // A script that is not there is bad input (exit 2), found now, not when the run starts.
    if (!fs::is_regular_file(session.strategy))
      throw InputError(path + ": 'strategy.script' = '" + *script + "': no such file (looked for " + session.strategy + ")");
  }
  std::int64_t memory_mb = static_cast<std::int64_t>(session.limits.memory_bytes >> 20);
  r.set("strategy.timeout_ms", session.limits.timeout_ms, 1, 3'600'000);
  r.set("strategy.memory_mb", memory_mb, 1, 65'536);
  session.limits.memory_bytes = static_cast<std::size_t>(memory_mb) << 20;
  // [strategy.params] override the signal config's params, name by name.
  for (auto& [key, value] : read_params(r.at("strategy.params"), "strategy.params")) session.params[key] = std::move(value);

  // [[filters]]
  if (const toml::node* filters = r.at("filters")) {
    const toml::array* arr = filters->as_array();
    if (!arr) r.wrong("filters", "a list of [[filters]] tables");
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::table* t = (*arr)[i].as_table();
      std::string at = "filters[" + std::to_string(i) + "]";
      if (!t) r.wrong(at, "a table");
      Reader fr(*t, path);
      FilterSpec f;
      f.params = read_params(fr.at("params"), at + ".params");
      if (auto script = fr.text("script")) {
        if (fr.at("kind")) r.wrong(at, "a native 'kind' or a Lua 'script', not both");
        f.script = resolve(*script, path);
        if (!fs::is_regular_file(f.script)) throw InputError(path + ": '" + at + ".script' = '" + *script + "': no such file");
        session.filters.push_back(f);
        continue;
      }
      f.kind = fr.text("kind").value_or("");
      const FilterKind* kind = find_filter_kind(f.kind);
      if (!kind) {
        std::string known;
        for (const auto& k : filter_kinds()) known += (known.empty() ? "\"" : ", \"") + k.name + "\"";
        r.wrong(at + ".kind", ("one of " + known + " (or a Lua filter: script = \"...\")").c_str());
      }
      if (!kind->count_key.empty()) {
        if (!fr.number(kind->count_key)) r.wrong(at + "." + kind->count_key, "given (a whole number)");
        if (!f.params.empty()) r.wrong(at + ".params", ("absent: " + f.kind + " takes only '" + kind->count_key + "'").c_str());
        fr.set(kind->count_key, f.value, 0, 1'000'000'000);
      }
      session.filters.push_back(f);
    }
  }

  // [execution] and [risk]
  ExecConfig& e = session.execution;
  r.set("execution.initial_cash", e.initial_cash, 0.01, 1e12);
  r.choice("execution.fill", e.fill_mode, {{"next_open", FillMode::next_open}, {"close", FillMode::close}});
  r.choice("execution.same_bar", e.same_bar, {{"stop_first", SameBarRule::stop_first}, {"open_proximity", SameBarRule::open_proximity}});
  r.choice("execution.costs", e.costs, {{"realistic", CostMode::realistic}, {"clean", CostMode::clean}});
  r.set("execution.taker_fee_bps", e.taker_fee_bps, 0, 1000);
  r.set("execution.maker_fee_bps", e.maker_fee_bps, 0, 1000);
  if (r.at("execution.slippage_bps") && r.at("execution.slippage_range"))
    throw InputError(path + ": give one of 'execution.slippage_bps' and 'execution.slippage_range'");
  if (r.at("execution.slippage_bps")) e.slippage_mode = SlippageMode::bps, r.set("execution.slippage_bps", e.slippage, 0, 1000);
  if (r.at("execution.slippage_range")) e.slippage_mode = SlippageMode::range_fraction, r.set("execution.slippage_range", e.slippage, 0, 1);
  RiskLimits& k = session.risk;
  r.set("risk.max_position_fraction", k.max_position_fraction, 0, 100);
  r.set("risk.max_gross_leverage", k.max_gross_leverage, 0, 100);
  r.set("risk.daily_loss_fraction", k.daily_loss_fraction, 0, 1);
  r.set("risk.max_open_positions", k.max_open_positions, 1, 1'000'000);
  r.choice("risk.mode", k.mode, {{"reject", RiskMode::reject}, {"clip", RiskMode::clip}});
  r.set("risk.flatten_on_daily_loss", k.flatten_on_daily_loss);
  // Each run its own folder unless the config names one: a second run keeps the first's files.
  c.output_dir = r.text("output.dir").value_or("runs/" + fs::path(path).stem().string() + "/{run}");
  c.journal = r.text("output.db").value_or(kDefaultJournal);
  c.registry = c.journal;
  r.set("output.equity_every", c.equity_every, 1, 1'000'000'000);
  r.set("output.report", c.report);
  if (c.report && c.output_dir.empty()) throw InputError(path + ": [output] report = true needs an output folder ([output] dir)");

  // [paper]
  PaperConfig& p = c.paper;
  p.feed = r.text("paper.feed").value_or(p.feed);
  if (p.feed != "replay" && p.feed != "generated" && !find_feed_kind(p.feed)) {
    std::string known = "\"replay\", \"generated\"";
    for (const auto& n : feed_kind_names()) known += ", \"" + n + "\"";
    r.wrong("paper.feed", ("one of " + known + " (plugin feeds come with [[plugins]])").c_str());
  }
  p.feed_params = read_params(r.at("paper.feed_params"), "paper.feed_params");
  if (const toml::node* speed = r.at("paper.speed")) {
    if (speed->is_string()) {
      if (*speed->value<std::string>() != "max") r.wrong("paper.speed", "a number (x real time) or \"max\"");
      p.speed = 0;
    } else {
      r.set("paper.speed", p.speed, 1e-6, 1e9);
    }
  }
  if (auto start = r.text("paper.start")) p.start = parse_timestamp(*start);
  p.dir = r.text("paper.dir").value_or((fs::path("runs") / fs::path(path).stem() / "paper").string());
  r.set("paper.snapshot_every", p.snapshot_every, 1, 1'000'000'000);
  p.pause_file = r.text("paper.pause_file").value_or("");
  p.host = r.text("paper.host").value_or(p.host);
  r.set("paper.port", p.port, -1, 65535);
  p.token_env = r.text("paper.token_env").value_or(p.token_env);
  r.set("paper.history_bars", p.history_bars, 0, 10'000'000);
  r.set("paper.reload", p.reload);
  r.set("paper.drift_window", p.drift_window, 50, 10'000'000);
  r.set("paper.reload_candles", p.reload_candles, 1, 1'000'000);
  r.set("paper.reload_partial_warmup", p.reload_partial_warmup);
  r.set("paper.reload_probation", p.reload_probation, 0, 1'000'000'000);
  r.set("paper.shadow_every", p.shadow_every, 0, 1'000'000'000);
  r.set("paper.shadow_window", p.shadow_window, 1, 1'000'000);
  if (p.shadow_every != 0 && p.shadow_window > p.shadow_every)
    throw InputError(path + ": paper.shadow_window (" + std::to_string(p.shadow_window) + ") is longer than paper.shadow_every (" +
                     std::to_string(p.shadow_every) + "): a window is checked once per shadow_every candles");
  r.choice("paper.on_error", p.on_error, {{"pause", PaperConfig::OnError::pause}, {"skip", PaperConfig::OnError::skip}, {"stop", PaperConfig::OnError::stop}});
  // [train]: `onepath train` (docs/models.md)
  if (r.at("train")) {
    TrainConfig& t = c.train;
    t.features = resolve(r.text("train.features").value_or(""), path);
    t.out = resolve(r.text("train.out").value_or(""), path);
    t.name = r.text("train.name").value_or(std::filesystem::path(t.out).stem().string());
    t.label = r.text("train.label").value_or(t.label);
    if (t.label != "forward_return" && t.label != "triple_barrier") r.wrong("train.label", "\"forward_return\" or \"triple_barrier\"");
    r.set("train.horizon", t.horizon, 1, 100000);
    r.set("train.threshold", t.threshold, -1, 10);
    r.set("train.stop_pct", t.stop_pct, 1e-6, 1);
    r.set("train.take_pct", t.take_pct, 1e-6, 100);
    r.set("train.folds", t.folds, 1, 50);
    r.set("train.purge", t.purge, -1, 100000);
    r.set("train.embargo", t.embargo, -1, 100000);
    r.set("train.rounds", t.booster.rounds, 1, 100000);
    r.set("train.max_depth", t.booster.max_depth, 1, 16);
    r.set("train.eta", t.booster.eta, 1e-6, 1);
    r.set("train.subsample", t.booster.subsample, 0.01, 1);
    r.set("train.colsample_bytree", t.booster.colsample_bytree, 0.01, 1);
    r.set("train.min_child_weight", t.booster.min_child_weight, 0, 1e6);
    r.set("train.seed", t.seed, 0, 2147483647);
    r.set("train.trials", t.trials, 0, 10000);
    t.start = r.moment("train.start");
    t.end = r.moment("train.end");
    if (t.start && t.end && *t.end <= *t.start)
      throw InputError(path + ": [train] end (" + format_iso(*t.end) + ") is not after start (" + format_iso(*t.start) + ")");
    for (const auto& name : r.texts("train.symbols", "a list of [data] symbols whose rows it learns from, e.g. [\"ETH\"]").value_or(std::vector<std::string>{})) {
      if (std::find(session.symbols.begin(), session.symbols.end(), name) == session.symbols.end())
        throw InputError(path + ": [train] symbols names '" + name + "', which is not one of [data] symbols");
      t.symbols.push_back(name);
    }
  }
  if (const toml::node* alerts = r.at("alerts")) {  // [[alerts]]: docs/paper.md, "Alerts"
    const toml::array* arr = alerts->as_array();
    if (!arr) r.wrong("alerts", "a list of [[alerts]] tables");
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::table* t = (*arr)[i].as_table();
      const std::string at = "alerts[" + std::to_string(i) + "]";
      if (!t) r.wrong(at, "a table");
      Reader ar(*t, path);
      AlertRule rule;
      rule.origin = path + ": " + at;
      if (auto events = ar.texts("events", "a list of event names, or [\"*\"]")) rule.events = *events;
      rule.webhook = ar.text("webhook").value_or("");
      if (!rule.webhook.empty() && !rule.webhook.starts_with("http://") && !rule.webhook.starts_with("https://"))
        r.wrong(at + ".webhook", "an http:// or https:// URL");
      if (auto command = ar.texts("command", "a program and its arguments, e.g. [\"/usr/bin/logger\", \"-t\", \"onepath\"]")) rule.command = *command;
      if (rule.webhook.empty() && rule.command.empty())
        r.wrong(at, "given a 'webhook' (a URL the event is POSTed to as JSON) or a 'command' (a program and its arguments)");
      ar.set("retries", rule.retries, 0, 20);
      ar.set("rate_per_minute", rule.rate_per_minute, 0.01, 1e6);
      c.alerts.push_back(std::move(rule));
    }
  }
  if (r.at("promotion")) {  // docs/models.md, "Readiness gates"
    PromotionGates& g = c.promotion;
    g.metric = r.text("promotion.metric").value_or(g.metric);
    if (g.metric != "auc" && g.metric != "f1" && g.metric != "precision" && g.metric != "recall" && g.metric != "log_loss")
      r.wrong("promotion.metric", "one of \"auc\", \"f1\", \"precision\", \"recall\", \"log_loss\"");
    if (r.at("promotion.min_signals_per_fold")) r.set("promotion.min_signals_per_fold", g.min_signals_per_fold.emplace(), 0, 1e9);
    if (r.at("promotion.max_fold_variance")) r.set("promotion.max_fold_variance", g.max_fold_variance.emplace(), 0, 1e9);
    if (r.at("promotion.min_improvement")) r.set("promotion.min_improvement", g.min_improvement.emplace(), -1e9, 1e9);
    r.set("promotion.leakage_check", g.leakage_check);
    r.set("promotion.leakage_alpha", g.leakage_alpha, 1e-9, 1);
    r.set("promotion.shadow_candles", g.shadow_candles, 0, 1e12);
    r.set("promotion.shadow_tolerance", g.shadow_tolerance, 0, 1e9);
  }
  return c;
}

}  // namespace onepath
