// csv_tail: a paper session on candles another program appends to CSV files, one file per
// symbol (DIR/SYMBOL.csv: ts,open,high,low,close,volume; ts in epoch milliseconds or
// ISO-8601 UTC; a header line is skipped). Only complete lines are read. A time slice is
// handed over once every symbol has a candle at or after its time, or once it has waited
// `max_wait_ms` for the late ones (they are a gap then). With `end_after_idle_ms` > 0 the
// feed ends when no file has grown for that long.
//   [paper]
//   feed = "csv_tail"
//   feed_params = { dir = "live/", max_wait_ms = 5000 }
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>

#include "onepath/plugin.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool parse_ts(const std::string& s, int64_t& ms) {
  if (s.find('-') == std::string::npos) {
    char* end = nullptr;
    ms = std::strtoll(s.c_str(), &end, 10);
    return end && *end == 0 && !s.empty();
  }
  int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d.%3d", &y, &mo, &d, &h, &mi, &sec, &frac) < 3) return false;
  ms = ((days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 24 + h) * 60 + mi) * 60000LL + sec * 1000LL + frac;
  return true;
}

struct CsvTail {
  static constexpr const char* name = "csv_tail";
  static constexpr const char* description = "tails DIR/SYMBOL.csv files another program appends candles to";

  struct Queued {
    onepath_candle candle;
    uint64_t line_at;  // where its line starts in the file
  };
  struct Source {
    std::string path;
    uint64_t offset = 0;  // bytes consumed (complete lines)
    std::deque<Queued> queue;
  };
  std::vector<Source> sources;
  int64_t last_ts = INT64_MIN;
  double max_wait_ms, end_after_idle_ms;
  Clock::time_point waiting_since{}, last_growth = Clock::now();
  bool waiting = false;

  CsvTail(const onepath::Params& p, std::vector<std::string> symbols, int64_t) {
    p.only({"dir", "max_wait_ms", "end_after_idle_ms"});
    std::string dir = p.text("dir", "");
    if (dir.empty()) throw std::invalid_argument("parameter 'dir' (the folder of SYMBOL.csv files) is required");
    if (dir.back() != '/') dir += '/';
    max_wait_ms = p.number("max_wait_ms", 5000);
    end_after_idle_ms = p.number("end_after_idle_ms", 0);
    for (const auto& s : symbols) sources.push_back({dir + s + ".csv", 0, {}});
  }

  // New complete lines of one file into its queue.
  void read_new(Source& s) {
    std::ifstream f(s.path, std::ios::binary);
    if (!f) return;
    f.seekg(static_cast<std::streamoff>(s.offset));
    std::string line;
    while (std::getline(f, line)) {
      if (f.eof()) break;  // no newline yet: the writer is mid-line
      const uint64_t line_at = s.offset;
      s.offset += line.size() + 1;
      last_growth = Clock::now();
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty() || !(std::isdigit(static_cast<unsigned char>(line[0])))) continue;  // a header
      char ts[64] = "";
      onepath_candle c{};
      if (std::sscanf(line.c_str(), "%63[^,],%lf,%lf,%lf,%lf,%lf", ts, &c.open, &c.high, &c.low, &c.close, &c.volume) != 6 ||
          !parse_ts(ts, c.ts))
        throw std::runtime_error(s.path + ": cannot read the line '" + line + "' (ts,open,high,low,close,volume)");
      if (c.ts > last_ts && (s.queue.empty() || c.ts > s.queue.back().candle.ts)) s.queue.push_back({c, line_at});
    }
  }

  onepath_status next(int64_t& ts, onepath_candle* candles, uint8_t* present) {
    for (auto& s : sources) read_new(s);
    int64_t t = INT64_MAX;
    bool all = true;
    for (const auto& s : sources) {
      if (s.queue.empty()) all = false;
      else t = std::min(t, s.queue.front().candle.ts);
    }
    const auto now = Clock::now();
    if (t == INT64_MAX) {
      waiting = false;
      if (end_after_idle_ms > 0 && now - last_growth > std::chrono::duration<double, std::milli>(end_after_idle_ms)) return ONEPATH_END;
      return ONEPATH_PENDING;
    }
    if (!all) {  // a symbol has nothing yet: wait for it, up to max_wait_ms
      if (!waiting) waiting = true, waiting_since = now;
      const bool idle_end = end_after_idle_ms > 0 && now - last_growth > std::chrono::duration<double, std::milli>(end_after_idle_ms);
      if (!idle_end && now - waiting_since < std::chrono::duration<double, std::milli>(max_wait_ms)) return ONEPATH_PENDING;
    }
    waiting = false;
    ts = t;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      auto& q = sources[i].queue;
      present[i] = !q.empty() && q.front().candle.ts == t;
      if (present[i]) candles[i] = q.front().candle, q.pop_front();
    }
    last_ts = t;
    return ONEPATH_OK;
  }

  // The position: the last slice's time and, per file, where reading resumes: before the
  // first candle read but not yet handed over.
  void save(std::string& out) const {
    onepath::Writer w(out);
    w(last_ts)(static_cast<uint64_t>(sources.size()));
    for (const auto& s : sources) w(s.queue.empty() ? s.offset : s.queue.front().line_at);
  }
  void load(std::string_view bytes) {
    onepath::Reader r(bytes);
    uint64_t n = 0;
    r(last_ts)(n);
    if (n != sources.size()) throw std::runtime_error("saved position is for another set of symbols");
    for (auto& s : sources) r(s.offset), s.queue.clear();
    r.end();
  }
};

const onepath_feed_kind csv_tail_kind = onepath::feed_kind<CsvTail>();
const onepath_feed_kind* const feeds[] = {&csv_tail_kind};
const onepath_manifest manifest = {sizeof(onepath_manifest), ONEPATH_ABI_MAJOR, ONEPATH_ABI_MINOR, "csv_tail", "1.0.0", ONEPATH_BUILD_ID,
                                   nullptr, nullptr, 0, nullptr, 0, feeds, 1, nullptr, 0};

}  // namespace

extern "C" const onepath_manifest* onepath_plugin_manifest(void) { return &manifest; }
