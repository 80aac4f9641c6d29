// The certificate as JSON (for --check and machines) and as one self-contained HTML page
// (for people), and --check: its input files hashed again.
#include <fmt/core.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "certify/certify.hpp"
#include "core/error.hpp"
#include "core/number_format.hpp"
#include "core/text_formats.hpp"
#include "core/time.hpp"
#include "data/candle_io.hpp"
#include "run/reload.hpp"

namespace onepath {
namespace {

using json = nlohmann::ordered_json;

json divergence_json(const ParityDivergence& d) {
  json row = json::object();
  for (const auto& [name, v] : d.row) row[name] = std::isfinite(v) ? json(v) : json(format_double(v));
  json j = {{"stage", d.stage}, {"case", d.case_name}, {"symbol", d.symbol}, {"field", d.field}, {"ts", d.ts ? format_iso(d.ts) : ""},
            {"a", d.a}, {"b", d.b}, {"how", d.how}, {"features_at_bar", row}};
  if (d.candle)
    j["candle"] = {{"ts", format_iso(d.candle->ts)}, {"open", d.candle->open}, {"high", d.candle->high}, {"low", d.candle->low},
                   {"close", d.candle->close}, {"volume", d.candle->volume}};
  return j;
}

std::string stage_class(const std::string& verdict) {
  return verdict == "identical" ? "ok" : verdict == "diverged" ? "bad" : "skip";
}

}  // namespace

std::string describe(const ParityDivergence& d) {
  std::string out = "FIRST DIVERGENCE: " + d.stage + ", " + d.case_name + (d.symbol.empty() ? "" : ", " + d.symbol) +
                    (d.ts ? " at " + format_iso(d.ts) : "") + "\n  " + d.field + "\n    " + d.a + "\n    " + d.b + "\n  how: " + d.how + "\n";
  if (d.candle)
    out += "  candle: open " + format_double(d.candle->open) + ", high " + format_double(d.candle->high) + ", low " + format_double(d.candle->low) +
           ", close " + format_double(d.candle->close) + ", volume " + format_double(d.candle->volume) + "\n";
  if (!d.row.empty()) {
    out += "  features at that bar:";
    for (const auto& [name, v] : d.row) out += " " + name + "=" + format_double(v);
    out += "\n";
  }
  return out;
}

std::string certificate_json(const Certificate& c) {
  json cases = json::array();
  for (const auto& k : c.cases) {
    json stages = json::array();
    for (const auto& s : k.stages)
      stages.push_back({{"stage", s.stage}, {"verdict", s.verdict}, {"compared", s.compared}, {"note", s.note}, {"seconds", s.seconds}});
    cases.push_back({{"case", k.name}, {"symbols", k.symbols}, {"candles", k.candles}, {"stages", stages}});
  }
  json warmup = json::array();
  for (const auto& w : c.warmup)
    warmup.push_back({{"column", w.column}, {"declared", w.declared}, {"measured", w.measured}, {"exact", w.exact}, {"declared_too_short", w.short_declared}});
  json tolerances = json::array();
  for (const auto& t : c.tolerances) tolerances.push_back({{"column", t.column}, {"kind", t.kind}, {"relative", t.relative}, {"why", t.why}});
  json inputs = json::array();
  for (const auto& i : c.inputs) inputs.push_back({{"kind", i.kind}, {"path", i.path}, {"sha256", i.sha256}});
  json j = {{"certificate", "onepath parity certificate"},
            {"passed", c.passed},
            {"created", c.created},
            {"config", c.config_path},
            {"onepath", {{"version", c.version}, {"git_revision", c.git_revision}, {"compiler", c.compiler}, {"luajit", c.luajit}, {"libxgboost", c.xgboost}}},
            {"seed", c.seed},
            {"splits", c.splits},
            {"lookahead_cuts", c.lookahead},
            {"tolerance", c.tolerances.empty() ? "exact: every value bit for bit (no kind declares a tolerance); the recursive analysis alone uses 1e-9 relative"
                                               : "exact, except the columns under tolerances (batch vs streaming, within a plugin kind's declaration); "
                                                 "the recursive analysis uses 1e-9 relative"},
            {"tolerances", tolerances},
            {"cases", cases},
            {"divergence", c.divergence ? divergence_json(*c.divergence) : json()},
            {"failures", c.failures},
            {"warnings", c.warnings},
            {"readiness", {{"first_values", c.first_value_bars}, {"warmup_bars", c.warmup_bars}, {"settled_by", c.settled_by}}},
            {"warmup", warmup},
            {"inputs", inputs},
            {"seconds", c.seconds}};
  return j.dump(2) + "\n";
}

std::string certificate_html(const Certificate& c) {
  std::string h = R"(<!doctype html><html lang="en"><head><meta charset="utf-8"><title>onepath certificate</title><style>
body{font:14px/1.45 system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
.ok{color:#176b2c}.bad{color:#b3261e;font-weight:bold}.skip{color:#777}.verdict{font-size:1.3em;font-weight:bold}
code,pre{font:12px ui-monospace,monospace}pre{background:#f6f6f6;padding:.6em;overflow-x:auto}.note{color:#666}
</style></head><body>
)";
  h += "<h1>onepath parity certificate</h1>\n<p class=\"verdict " + std::string(c.passed ? "ok\">PASSED" : "bad\">FAILED") + "</p>\n";
  h += "<p>" + html_escape(c.config_path) + " &middot; " + html_escape(c.created) + " &middot; onepath " + html_escape(c.version) + " (" +
       html_escape(c.git_revision) + ") &middot; " + html_escape(c.compiler) + " &middot; " + html_escape(c.luajit) + " &middot; libxgboost " +
       html_escape(c.xgboost) + " &middot; seed " + std::to_string(c.seed) + " &middot; " + fmt::format("{:.1f}", c.seconds) + " s</p>\n";
  h += "<p class=note>Eq. 1 features: batch = streaming at every bar, and after a bootstrap, snapshot and restore at random bars. Eq. 2 models: "
       "native batch = native one row = libxgboost. Eq. 3 and 4: decisions, trades, marks and the whole state are the same when a run is "
       "saved and restored anywhere. Eq. 5: a paper replay = the backtest. Lookahead: nothing at or before a cut changes when the data after "
       "it is removed or replaced. Every comparison is exact, bit for bit" +
       std::string(c.tolerances.empty() ? "." : ", except batch vs streaming for the columns below, within the tolerance their plugin kind declares.") +
       "</p>\n";
  if (!c.tolerances.empty()) {
    h += "<h2>Tolerances used</h2><table><tr><th>column</th><th>relative</th><th>declared by</th><th>why</th></tr>\n";
    for (const auto& t : c.tolerances)
      h += "<tr><td>" + html_escape(t.column) + "</td><td>" + html_escape(format_short(t.relative)) + "</td><td>" + html_escape(t.kind) +
           "</td><td class=note>" + html_escape(t.why) + "</td></tr>\n";
    h += "</table>\n";
  }
  if (c.divergence) h += "<h2>First divergence</h2><pre>" + html_escape(describe(*c.divergence)) + "</pre>\n";
  if (!c.failures.empty() || !c.warnings.empty()) {
    h += "<h2>Failures and warnings</h2><ul>";
    for (const auto& f : c.failures) h += "<li class=bad>" + html_escape(f) + "</li>";
    for (const auto& w : c.warnings) h += "<li>" + html_escape(w) + "</li>";
    h += "</ul>\n";
  }
  h += "<h2>Checks</h2><table><tr><th>case</th><th>check</th><th>verdict</th><th>compared</th><th>s</th><th>what</th></tr>\n";
  for (const auto& k : c.cases)
    for (const auto& s : k.stages)
      h += "<tr><td>" + html_escape(k.name) + "</td><td>" + html_escape(s.stage) + "</td><td class=" + stage_class(s.verdict) + ">" +
           html_escape(s.verdict) + "</td><td>" + std::to_string(s.compared) + "</td><td>" + fmt::format("{:.2f}", s.seconds) + "</td><td class=note>" +
           html_escape(s.note) + "</td></tr>\n";
  h += "</table>\n";
  if (!c.warmup.empty()) {
    h += "<h2>Warm-up truth</h2><p>Every feature has a value after " + std::to_string(c.first_value_bars) +
         " candles (a paper session is ready then); values no longer depend on where the data starts after " + std::to_string(c.warmup_bars) +
         " (declared, set by " + html_escape(c.settled_by) + "; a paper session bootstraps on as many).</p>"
         "<p class=note>Per feature: the bars the enricher bootstraps with (declared) and the least history whose values "
         "equal the full history's within 1e-9 relative at random bars (measured; exact when bit for bit).</p><table><tr><th>feature</th>"
         "<th>declared</th><th>measured</th><th></th></tr>\n";
    for (const auto& w : c.warmup)
      h += "<tr><td>" + html_escape(w.column) + "</td><td>" + std::to_string(w.declared) + "</td><td>" +
           (w.measured ? std::to_string(w.measured) : "&gt; " + std::to_string(4 * w.declared)) + "</td><td class=" + (w.short_declared ? "bad" : "note") +
           ">" + (w.short_declared ? "declared too short" : w.exact ? "exact" : "within 1e-9 (never exactly)") + "</td></tr>\n";
    h += "</table>\n";
  }
  h += "<h2>Inputs</h2><p class=note><code>onepath certify --check certificate.json</code> says whether these are still the same.</p><table>"
       "<tr><th>kind</th><th>file</th><th>SHA-256</th></tr>\n";
  for (const auto& i : c.inputs)
    h += "<tr><td>" + html_escape(i.kind) + "</td><td>" + html_escape(i.path) + "</td><td><code>" + html_escape(i.sha256) + "</code></td></tr>\n";
  h += "</table>\n</body></html>\n";
  return h;
}

CertificateCheck check_certificate(const std::string& path) {
  const auto j = nlohmann::json::parse(read_file(path), nullptr, false);
  if (!j.is_object() || !j.contains("inputs") || !j["inputs"].is_array()) throw InputError(path + ": not an onepath certificate (no inputs)");
  CertificateCheck out;
  for (const auto& i : j["inputs"]) {
    const std::string kind = i.value("kind", ""), file = i.value("path", ""), sha = i.value("sha256", "");
    if (file.starts_with("registry ")) continue;  // a registry version is immutable; its SHA-256 is named
    ++out.checked;
    const std::string now = file_sha256(file);
    if (now == sha) continue;
    out.applies = false;
    out.changed.push_back(kind + " " + file + ": " + (now.empty() ? "gone (or unreadable)" : "sha256 " + sha.substr(0, 16) + " now " + now.substr(0, 16)));
  }
  return out;
}

}  // namespace onepath
