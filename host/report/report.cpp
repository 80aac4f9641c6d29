#include "report/report.hpp"
#include "data/fingerprint.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "core/error.hpp"
#include "core/number_format.hpp"
#include "core/text_formats.hpp"
#include "core/time.hpp"
#include "run/run_config.hpp"
#include "data/candle_io.hpp"

namespace onepath {
namespace {

constexpr std::size_t kMaxDrawn = 4000;  // points per series a browser draws without effort
constexpr std::size_t kMaxPriceCharts = 4;

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string fmt_rgb(int r, int g, int b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "rgb(%d,%d,%d)", r, g, b);
  return buf;
}

std::string js_number(double v) { return std::isfinite(v) ? format_double(v) : "null"; }

// [[ms, v1, v2...], ...] for the chosen rows.
template <class Row>
std::string js_rows(std::size_t n, Row row) {
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i) out += (i ? "," : "") + row(i);
  return out + "]";
}

std::string chart_div(const std::string& id, const std::string& title, const std::string& note = "") {
  return "<h2>" + html_escape(title) + "</h2>" + (note.empty() ? "" : "<p class=note>" + html_escape(note) + "</p>") + "<div class=chart id=\"" + id + "\"></div>\n";
}

// A Dygraph over rows of [ms, ...]; `labels` after "time"; extra options as JS.
std::string chart_script(const std::string& id, const std::string& rows, const std::vector<std::string>& labels, const std::string& options) {
  std::string l = "[\"time\"";
  for (const auto& x : labels) l += "," + json_quote(x);
  l += "]";
  return "chart(" + json_quote(id) + "," + rows + "," + l + ",{" + options + "});\n";
}

std::string equity_section(const ReportInput& in, std::string& script) {
  const auto& eq = in.equity;
  if (eq.empty()) return "<p>No equity marks in the journal.</p>";
  std::vector<double> values(eq.size()), drawdown(eq.size());
  double peak = eq[0].equity;
  for (std::size_t i = 0; i < eq.size(); ++i) {
    values[i] = eq[i].equity;
    peak = std::max(peak, eq[i].equity);
    drawdown[i] = peak > 0 ? 100.0 * (eq[i].equity / peak - 1.0) : 0.0;
  }
  const auto drawn = decimate(values.data(), values.size(), kMaxDrawn);
  const auto drawn_dd = decimate(drawdown.data(), drawdown.size(), kMaxDrawn);
  const std::string note = drawn.size() < eq.size()
                               ? "Drawn from " + std::to_string(drawn.size()) + " of " + std::to_string(eq.size()) +
                                     " marks (each stretch's first, lowest, highest and last); the journal and equity.csv keep all."
                               : std::to_string(eq.size()) + " marks.";
  script += chart_script("equity", js_rows(drawn.size(), [&](std::size_t k) { return "[" + std::to_string(eq[drawn[k]].ts) + "," + js_number(values[drawn[k]]) + "]"; }),
                         {"equity"}, "fillGraph:false");
  script += chart_script("drawdown", js_rows(drawn_dd.size(), [&](std::size_t k) { return "[" + std::to_string(eq[drawn_dd[k]].ts) + "," + js_number(drawdown[drawn_dd[k]]) + "]"; }),
                         {"drawdown %"}, "fillGraph:true,colors:['#c0392b']");
  return chart_div("equity", "Equity", note) + chart_div("drawdown", "Drawdown from the running peak (%)");
}

std::string price_sections(const ReportInput& in, std::string& script) {
  if (in.prices.empty()) {
    return "<h2>Prices</h2><p class=note>" + html_escape(in.prices_note.empty() ? "The data was not available." : in.prices_note) + "</p>";
  }
  std::string out;
  for (std::size_t s = 0; s < in.prices.size() && s < kMaxPriceCharts; ++s) {
    const CandleSeries& p = in.prices[s];
    if (p.empty()) continue;
    // Each drawn row: [ms, close, entry, exit]; the trades' own rows carry their fill prices.
    std::map<TimestampMs, std::array<double, 3>> rows;
    for (std::size_t i : decimate(p.close.data(), p.size(), kMaxDrawn)) rows[p.ts[i]] = {p.close[i], NAN, NAN};
    std::size_t entries = 0;
    for (const auto& t : in.trades) {
      if (t.symbol != p.symbol) continue;
      ++entries;
      auto& e = rows.try_emplace(t.trade.entry_ts, std::array<double, 3>{NAN, NAN, NAN}).first->second;
      e[1] = t.trade.entry_price;
      auto& x = rows.try_emplace(t.trade.exit_ts, std::array<double, 3>{NAN, NAN, NAN}).first->second;
      x[2] = t.trade.exit_price;
    }
    std::string data = "[";
    for (const auto& [ts, v] : rows)
      data += (data.size() > 1 ? "," : "") + std::string("[") + std::to_string(ts) + "," + js_number(v[0]) + "," + js_number(v[1]) + "," + js_number(v[2]) + "]";
    data += "]";
    const std::string id = "price" + std::to_string(s);
    script += chart_script(id, data, {p.symbol + " close", "entry", "exit"},
                           "connectSeparatedPoints:true,colors:['#34495e','#27ae60','#c0392b'],series:{'entry':{strokeWidth:0,drawPoints:true,"
                           "pointSize:3,connectSeparatedPoints:false},'exit':{strokeWidth:0,drawPoints:true,pointSize:3,connectSeparatedPoints:false}}");
    out += chart_div(id, p.symbol + ": close, entries (green) and exits (red)", std::to_string(entries) + " trades; " + std::to_string(p.size()) + " candles.");
  }
  if (in.prices.size() > kMaxPriceCharts)
    out += "<p class=note>" + std::to_string(in.prices.size() - kMaxPriceCharts) + " more symbols are not drawn.</p>";
  return out;
}

// Month by month: the last mark of the month over the last of the month before (the first
// month over the run's first mark).
std::string monthly_section(const ReportInput& in) {
  const auto& eq = in.equity;
  if (eq.empty()) return "";
  std::map<int, std::map<int, double>> by_year;  // year -> month -> return
  double before = eq[0].equity;
  std::string next = format_iso(eq[0].ts);  // each mark formatted once: the next one's text is kept
  for (std::size_t i = 0; i < eq.size(); ++i) {
    const std::string iso = std::move(next);
    if (i + 1 < eq.size()) next = format_iso(eq[i + 1].ts);
    const bool last_of_month = i + 1 == eq.size() || next.compare(0, 7, iso, 0, 7) != 0;
    if (!last_of_month) continue;
    const int year = std::atoi(iso.substr(0, 4).c_str()), month = std::atoi(iso.substr(5, 2).c_str());
    by_year[year][month] = before > 0 ? eq[i].equity / before - 1.0 : NAN;
    before = eq[i].equity;
  }
  std::string out = "<h2>Monthly returns (%)</h2><table class=heat><tr><th></th>";
  static const char* names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (const char* n : names) out += std::string("<th>") + n + "</th>";
  out += "<th>year</th></tr>";
  for (const auto& [year, months] : by_year) {
    out += "<tr><th>" + std::to_string(year) + "</th>";
    double compound = 1;
    for (int m = 1; m <= 12; ++m) {
      auto it = months.find(m);
      if (it == months.end() || !std::isfinite(it->second)) {
        out += "<td></td>";
        continue;
      }
      compound *= 1 + it->second;
      const double pct = 100 * it->second, strength = std::min(1.0, std::fabs(pct) / 10.0);
      const int shade = static_cast<int>(255 - 140 * strength);
      const std::string color = pct >= 0 ? fmt_rgb(shade, 255, shade) : fmt_rgb(255, shade, shade);
      out += "<td style=\"background:" + color + "\">" + fixed(pct, 1) + "</td>";
    }
    out += "<td><b>" + fixed(100 * (compound - 1), 1) + "</b></td></tr>";
  }
  return out + "</table>\n";
}

std::string histogram_section(const ReportInput& in, std::string& script) {
  if (in.trades.empty()) return "<h2>Trade returns</h2><p class=note>No trades.</p>";
  std::vector<double> r;
  for (const auto& t : in.trades) r.push_back(100 * t.trade.ret);
  const auto [lo_it, hi_it] = std::minmax_element(r.begin(), r.end());
  const double lo = *lo_it, hi = *hi_it;
  const int bins = std::clamp(static_cast<int>(std::sqrt(static_cast<double>(r.size()))), 5, 40);
  const double width = hi > lo ? (hi - lo) / bins : 1.0;
  std::vector<int> count(static_cast<std::size_t>(bins), 0);
  for (double v : r) ++count[static_cast<std::size_t>(std::min(bins - 1, static_cast<int>((v - lo) / width)))];
  std::string data = "[";
  for (int b = 0; b < bins; ++b) data += (b ? "," : "") + std::string("[") + js_number(lo + (b + 0.5) * width) + "," + std::to_string(count[static_cast<std::size_t>(b)]) + "]";
  data += "]";
  script += "histogram(\"returns\"," + data + "," + js_number(lo - width) + "," + js_number(hi + width) + ");\n";
  return chart_div("returns", "Distribution of trade returns (%)", std::to_string(r.size()) + " trades in " + std::to_string(bins) + " bins of " + fixed(width, 2) + " %.");
}

std::string metrics_section(const ReportInput& in) {
  std::string out = "<h2>Metrics</h2><table class=kv>";
  try {
    const auto m = nlohmann::ordered_json::parse(in.run.metrics.empty() ? "{}" : in.run.metrics);
    for (const auto& [k, v] : m.items()) {
      std::string text = v.is_string() ? v.get<std::string>() : v.dump();
      if (v.is_number_float()) text = format_double(v.get<double>());
      out += "<tr><th>" + html_escape(k) + "</th><td>" + html_escape(text) + "</td></tr>";
    }
  } catch (const std::exception&) {
    out += "<tr><td>(the run's metrics are not readable)</td></tr>";
  }
  return out + "</table>\n";
}

std::string provenance_section(const ReportInput& in) {
  const RunInfo& r = in.run;
  std::string out = "<h2>Where it came from</h2><table class=kv>";
  auto row = [&](const char* k, const std::string& v) { out += std::string("<tr><th>") + k + "</th><td>" + html_escape(v) + "</td></tr>"; };
  row("run", r.id ? std::to_string(r.id) + " (" + r.kind + ", " + Journal::display_status(r) + ")" : "not journaled");
  row("created", format_iso(r.created_at));
  row("config", r.config_path + " (sha256 " + r.config_sha256 + ")");
  row("revision", r.git_revision);
  row("feature set", r.feature_set_version);
  row("data fingerprint", r.data_fingerprint);
  out += "</table><h3>Files (SHA-256)</h3><pre>" + html_escape(r.files) + "</pre><h3>Config as run</h3><pre>" + html_escape(r.config_text) + "</pre>\n";
  return out;
}

const char* kStyle = R"(
body{font:14px/1.4 system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:24px auto;max-width:1100px;padding:0 24px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}.note{color:#666;margin:2px 0 6px}
.chart{width:100%;height:280px}table{border-collapse:collapse}td,th{padding:3px 8px;text-align:right}
table.kv th{text-align:left;font-weight:600}table.kv td{text-align:left;font-family:monospace}
table.heat td{min-width:46px;border:1px solid #eee;font-variant-numeric:tabular-nums}
pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px}
)";

// Every chart reports its first drawing; when all have, the page says so on <body> (a
// headless browser reads data-charts-drawn), and counts script errors in data-errors.
const char* kRuntime = R"(
var expected=0,drawn=0;
window.addEventListener('error',function(){var b=document.body;b.dataset.errors=String(Number(b.dataset.errors||0)+1);});
function drew(){drawn++;if(drawn===expected){document.body.dataset.chartsDrawn=String(drawn);}}
function chart(id,rows,labels,opts){expected++;
 var data=rows.map(function(r){var o=r.slice();o[0]=new Date(r[0]);return o;});
 opts.labels=labels;opts.legend='always';opts.labelsUTC=true;opts.axes={x:{axisLabelWidth:80}};opts.drawCallback=function(g,initial){if(initial)drew();};
 new Dygraph(document.getElementById(id),data,opts);}
function bars(e){var c=e.drawingContext,p=e.points,y0=e.dygraph.toDomYCoord(0);
 var w=p.length>1?(p[1].canvasx-p[0].canvasx)*0.85:20;c.fillStyle=e.color;
 for(var i=0;i<p.length;i++){c.fillRect(p[i].canvasx-w/2,p[i].canvasy,w,y0-p[i].canvasy);}}
function histogram(id,rows,lo,hi){expected++;
 new Dygraph(document.getElementById(id),rows,{labels:['return %','trades'],plotter:bars,legend:'always',dateWindow:[lo,hi],
  valueRange:[0,null],includeZero:true,drawCallback:function(g,initial){if(initial)drew();}});}
)";

}  // namespace

std::vector<std::size_t> decimate(const double* values, std::size_t n, std::size_t max_points) {
  std::vector<std::size_t> out;
  if (n <= max_points || max_points < 4) {
    out.resize(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = i;
    return out;
  }
  const std::size_t buckets = max_points / 4;
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t lo = n * b / buckets, hi = n * (b + 1) / buckets;  // [lo, hi), never empty
    std::size_t mn = lo, mx = lo;
    for (std::size_t i = lo; i < hi; ++i) {
      if (values[i] < values[mn]) mn = i;
      if (values[i] > values[mx]) mx = i;
    }
    std::size_t keep[4] = {lo, std::min(mn, mx), std::max(mn, mx), hi - 1};
    for (std::size_t k : keep)
      if (out.empty() || out.back() < k) out.push_back(k);
  }
  return out;
}

ChartLibrary read_chart_library() {
  namespace fs = std::filesystem;
  const char* env = std::getenv("ONEPATH_DYGRAPHS");
  const fs::path dir = env && *env ? env : "/usr/share/javascript/dygraphs";
  std::error_code ec;
  if (!fs::is_regular_file(dir / "dygraph.min.js", ec))
    throw InputError("the report's charting library is not in " + dir.string() +
                     ": install Debian's libjs-dygraphs ('make deps' does), or set ONEPATH_DYGRAPHS to a folder with dygraph.min.js");
  ChartLibrary lib{read_file((dir / "dygraph.min.js").string()), ""};
  if (fs::is_regular_file(dir / "dygraph.min.css", ec)) lib.css = read_file((dir / "dygraph.min.css").string());
  // Offline means offline: no source-map address for a browser's tools to follow.
  for (std::string* text : {&lib.js, &lib.css})
    if (const std::size_t at = text->find("sourceMappingURL"); at != std::string::npos) text->erase(text->rfind('\n', at) == std::string::npos ? 0 : text->rfind('\n', at));
  return lib;
}

ReportInput report_from_journal(Journal& journal, std::int64_t run_id) {
  auto run = journal.run(run_id);
  if (!run) throw InputError("no run " + std::to_string(run_id) + " in the journal " + journal.db().describe() + " ('onepath runs list')");
  if (run->kind != "backtest" && run->kind != "paper") throw InputError("run " + std::to_string(run_id) + " is a " + run->kind + " run: it has no equity or trades to report");
  ReportInput in;
  in.title = run->kind + " run " + std::to_string(run_id);
  in.run = *run;
  in.trades = journal.trades(run_id);
  in.equity = journal.equity(run_id);
  for (std::size_t at = 0; at <= run->symbols.size();) {
    const std::size_t end = std::min(run->symbols.find(',', at), run->symbols.size());
    if (end > at) in.symbols.push_back(run->symbols.substr(at, end - at));
    at = end + 1;
  }
  try {
    RunConfig c = load_run_config_text(run->config_text, run->config_path);
    Timeframe tf = Timeframe::parse("15m");
    std::vector<CandleSeries> market = load_market(c, tf);
    if (market_fingerprint(market) == run->data_fingerprint) in.prices = std::move(market);
    else in.prices_note = "The data has changed since the run (its fingerprint differs), so prices are not drawn.";
  } catch (const std::exception& e) {
    in.prices_note = std::string("The run's data could not be read again, so prices are not drawn: ") + e.what();
  }
  return in;
}

ReportInput report_from_result(const RunConfig& c, const BacktestResult& r) {
  ReportInput in;
  in.title = "backtest of " + std::filesystem::path(c.path).filename().string();
  in.run.config_path = c.path;
  in.run.config_text = c.text;
  in.run.created_at = now_ms();
  in.run.status = "complete";
  in.run.feature_set_version = r.feature_set_version;
  in.run.data_fingerprint = r.data_fingerprint;
  in.run.metrics = metrics_json(c, r);
  in.run.files = files_digest(c, r.script_files);
  in.symbols = r.symbols;
  for (const auto& t : r.trades) in.trades.push_back({r.symbols[static_cast<std::size_t>(t.symbol)], t});
  in.equity = r.equity;
  try {
    Timeframe tf = r.timeframe;
    in.prices = load_market(c, tf);
  } catch (const std::exception& e) {
    in.prices_note = std::string("The data could not be read again: ") + e.what();
  }
  return in;
}

std::string render_report(const ReportInput& in, const ChartLibrary& lib) {
  std::string script;
  std::string body = "<h1>" + html_escape(in.title) + "</h1><p class=note>" + html_escape(in.run.config_path) + " &middot; " + html_escape(format_iso(in.run.created_at)) +
                     " &middot; " + html_escape(std::to_string(in.trades.size())) + " trades</p>\n";
  body += equity_section(in, script);
  body += price_sections(in, script);
  body += monthly_section(in);
  body += histogram_section(in, script);
  body += metrics_section(in);
  body += provenance_section(in);
  // "</script" inside the inlined library would end its element early.
  std::string library = lib.js;
  for (std::size_t at = 0; (at = library.find("</script", at)) != std::string::npos; at += 9) library.replace(at, 8, "<\\/script");
  return "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>" + html_escape(in.title) + "</title><style>" + lib.css + kStyle +
         "</style>\n<script>" + library + "</script>\n</head><body>\n" + body + "<script>" + kRuntime + script + "</script>\n</body></html>\n";
}

}  // namespace onepath
