#include "sweep/dossier_html.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/number_format.hpp"
#include "core/text_formats.hpp"
#include "core/time.hpp"

namespace onepath {
namespace {

using json = nlohmann::json;

std::string esc(const std::string& s) { return html_escape(s); }
std::string num(const json& v) { return v.is_null() ? "&ndash;" : v.is_number_float() ? format_short(v.get<double>()) : v.dump(); }

// Red (worst) to green (best) over [lo, hi]; `better_high` says which end is best.
std::string shade(double v, double lo, double hi, bool better_high) {
  if (!std::isfinite(v) || !(hi > lo)) return "#eee";
  double t = (v - lo) / (hi - lo);
  if (!better_high) t = 1 - t;
  const int r = static_cast<int>(std::lround(230 - 120 * t)), g = static_cast<int>(std::lround(110 + 110 * t));
  return fmt::format("rgb({},{},130)", r, g);
}

std::string equity_svg(const json& curves) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& c : curves)
    for (const auto& p : c.at("points")) {
      const double x = p[0].get<double>(), y = p[1].get<double>();
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  if (!(x1 > x0)) return "<p>No equity to draw.</p>";
  if (!(y1 > y0)) y1 = y0 + 1;
  const double W = 900, H = 300;
  static const char* colours[] = {"#1b6ca8", "#d1495b", "#2e933c", "#8d6a9f", "#e09f3e", "#555"};
  std::string s = fmt::format("<svg viewBox='0 0 {} {}' width='100%' height='{}' role='img'><rect width='100%' height='100%' fill='#fafafa'/>", W + 60, H + 30, H + 30);
  s += fmt::format("<text x='2' y='12' font-size='11'>{}</text><text x='2' y='{}' font-size='11'>{}</text>", format_short(y1), H, format_short(y0));
  const double one = H - (1 - y0) / (y1 - y0) * H;
  if (one >= 0 && one <= H) s += fmt::format("<line x1='50' x2='{}' y1='{:.1f}' y2='{:.1f}' stroke='#bbb' stroke-dasharray='4'/>", W + 50, one, one);
  for (const auto& c : curves) {
    std::string pts;
    for (const auto& p : c.at("points"))
      pts += fmt::format("{:.1f},{:.1f} ", 50 + (p[0].get<double>() - x0) / (x1 - x0) * W, H - (p[1].get<double>() - y0) / (y1 - y0) * H);
    const std::size_t rank = c.at("rank").get<std::size_t>();
    s += fmt::format("<polyline fill='none' stroke='{}' stroke-width='1.2' points='{}'><title>choice {} {}</title></polyline>", colours[(rank - 1) % 6], pts,
                     rank, esc(c.at("symbols").get<std::string>()));
  }
  s += fmt::format("<text x='50' y='{}' font-size='11'>{}</text><text x='{}' y='{}' font-size='11' text-anchor='end'>{}</text></svg>", H + 25,
                   format_iso(static_cast<TimestampMs>(x0)).substr(0, 10), W + 50, H + 25, format_iso(static_cast<TimestampMs>(x1)).substr(0, 10));
  std::size_t ranks = 0;
  for (const auto& c : curves) ranks = std::max(ranks, c.at("rank").get<std::size_t>());
  s += "<p>";
  for (std::size_t r = 1; r <= ranks; ++r) s += fmt::format("<span style='color:{}'>&#9632;</span> choice {} &nbsp; ", colours[(r - 1) % 6], r);
  return s + "</p>";
}

}  // namespace

std::string render_dossier_html(const json& d) {
  const bool high = d.at("direction") == "max";
  const std::string objective = d.at("objective");
  std::string h = "<!doctype html><html><head><meta charset='utf-8'><title>onepath sweep " + std::to_string(d.at("run").get<std::int64_t>()) +
                  "</title><style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:.5em 0}"
                  "td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}"
                  ".bad{color:#a61b1b}.good{color:#1d7a2e}h2{margin-top:1.6em}small{color:#666}</style></head><body>";
  h += fmt::format("<h1>Sweep run {}: {}</h1><p>{} &middot; status <b>{}</b> &middot; {} of {} cells recorded &middot; {} choices, {} pass the constraints &middot; objective <b>{}</b> ({})</p>",
                   d.at("run").get<std::int64_t>(), esc(d.at("sweep")), esc(d.at("sweep")), esc(d.at("status")), d.at("cells_recorded").get<std::size_t>(),
                   d.at("cells_planned").get<std::size_t>(), d.at("choices").get<std::size_t>(), d.at("choices_passing").get<std::size_t>(), esc(objective),
                   high ? "higher is better" : "lower is better");

  h += "<h2>Gates</h2><table><tr><th class=l>gate</th><th>value</th><th class=l>verdict</th></tr>";
  for (const char* key : {"deflated_sharpe", "pbo"}) {
    const json& g = d.at(key);
    const std::string name = std::string(key) == "pbo" ? "probability of backtest overfitting (CSCV)" : "deflated Sharpe ratio of the best choice";
    h += fmt::format("<tr><td class=l>{}</td><td>{}</td><td class=l>{}</td></tr>", name, num(g.at("value")),
                     esc(g.contains("verdict") ? g.at("verdict").get<std::string>() : g.at("why").get<std::string>()));
  }
  for (const auto& t : d.at("variant_tests"))
    h += fmt::format("<tr><td class=l>variant {} vs {} (paired t over {} cells)</td><td>q = {}</td><td class=l>{} (mean difference {}, p {})</td></tr>",
                     esc(t.at("variant")), esc(t.at("against")), t.at("pairs").get<std::size_t>(), num(t.at("q")), esc(t.at("verdict")),
                     num(t.at("mean_difference")), num(t.at("p")));
  const json& c = d.at("constraints");
  h += fmt::format("<tr><td class=l>constraints</td><td></td><td class=l>min_trades_per_fold = {}, max_fold_variance = {}</td></tr></table>",
                   c.at("min_trades_per_fold").get<std::size_t>(), num(c.at("max_fold_variance")));
  h += fmt::format("<p><small>The best choices' cells were run again for their equity: {} of {} reproduced the ledgers they recorded.</small></p>",
                   d.at("rerun").at("reproduced").get<std::size_t>(), d.at("rerun").at("cells").get<std::size_t>());

  const json& ranking = d.at("ranking");
  std::size_t folds = 0;
  for (const auto& r : ranking) folds = std::max(folds, r.at("per_fold").size());
  h += "<h2>Ranked choices</h2><table><tr><th>rank</th><th>" + esc(objective) +
       "</th><th>mean &plusmn; std</th><th>fold variance</th><th>min trades</th>";
  for (std::size_t f = 0; f < folds; ++f) h += fmt::format("<th>fold {}</th>", f + 1);
  h += "<th class=l>variant</th><th class=l>keys</th><th class=l>verdict</th></tr>";
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& r : ranking)
    for (const auto& x : r.at("per_fold"))
      if (!x.is_null()) lo = std::min(lo, x.get<double>()), hi = std::max(hi, x.get<double>());
  for (std::size_t i = 0; i < ranking.size() && i < 100; ++i) {
    const json& r = ranking[i];
    std::string sets;
    for (const auto& s : r.at("sets")) sets += (sets.empty() ? "" : " ") + s.get<std::string>();
    h += fmt::format("<tr><td>{}</td><td><b>{}</b></td><td>{} &plusmn; {}</td><td>{}</td><td>{}</td>", r.at("rank").get<std::size_t>(), num(r.at("score")),
                     num(r.at("mean")), num(r.at("stddev")), num(r.at("fold_variance")), r.at("min_trades").get<std::int64_t>());
    for (std::size_t f = 0; f < folds; ++f) {
      const json x = f < r.at("per_fold").size() ? r.at("per_fold")[f] : json();
      h += fmt::format("<td style='background:{}'>{}</td>", shade(x.is_null() ? NAN : x.get<double>(), lo, hi, high), num(x));
    }
    const bool pass = r.at("passes").get<bool>();
    h += fmt::format("<td class=l>{}</td><td class=l>{}</td><td class='l {}'>{}</td></tr>", esc(r.at("variant")), esc(sets.empty() ? "(as it is)" : sets),
                     pass ? "good" : "bad", esc(r.at("verdict")));
  }
  h += "</table>";
  if (ranking.size() > 100) h += fmt::format("<p><small>{} more in choices.csv.</small></p>", ranking.size() - 100);

  h += "<h2>Out-of-sample equity of the best choices</h2><p><small>Each line: one choice on one symbol group, its test folds joined end to end (each fold starts where the last ended), 1.0 = the start.</small></p>";
  h += equity_svg(d.at("equity"));

  h += "<h2>Parameter importance</h2><p><small>The share of the variance of the choices' scores that each key's values explain (&eta;&sup2;).</small></p><table>";
  for (const auto& i : d.at("importance")) {
    const json v = i.at("variance_explained");
    const int width = v.is_null() ? 0 : static_cast<int>(std::lround(v.get<double>() * 300));
    h += fmt::format("<tr><td class=l>{}</td><td>{}</td><td class=l><div style='background:#1b6ca8;height:10px;width:{}px'></div></td></tr>", esc(i.at("key")),
                     num(v), width);
  }
  h += "</table>";

  if (!d.at("heatmaps").empty()) h += "<h2>Heatmaps</h2><p><small>The mean score of the choices at each pair of values (over the other keys and the variants).</small></p>";
  for (const auto& m : d.at("heatmaps")) {
    double mlo = INFINITY, mhi = -INFINITY;
    for (const auto& row : m.at("mean_score"))
      for (const auto& x : row)
        if (!x.is_null()) mlo = std::min(mlo, x.get<double>()), mhi = std::max(mhi, x.get<double>());
    h += fmt::format("<table><tr><th class=l>{} \\ {}</th>", esc(m.at("rows")), esc(m.at("columns")));
    for (const auto& v : m.at("column_values")) h += "<th>" + esc(v) + "</th>";
    h += "</tr>";
    for (std::size_t i = 0; i < m.at("mean_score").size(); ++i) {
      h += "<tr><th>" + esc(m.at("row_values")[i]) + "</th>";
      for (const auto& x : m.at("mean_score")[i]) h += fmt::format("<td style='background:{}'>{}</td>", shade(x.is_null() ? NAN : x.get<double>(), mlo, mhi, high), num(x));
      h += "</tr>";
    }
    h += "</table>";
  }
  h += "<p><small>Written by onepath sweep report; the same numbers are in report.json, choices.csv and cells.csv beside this page. "
       "Definitions: docs/sweep.md.</small></p></body></html>\n";
  return h;
}

}  // namespace onepath
