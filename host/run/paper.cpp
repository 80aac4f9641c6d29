#include "run/paper.hpp"

#include <unistd.h>

#include <utility>  // before Asio: Boost's headers use std::exchange

#include <algorithm>
#include <boost/asio.hpp>
#include <cmath>
#include <deque>
#include <filesystem>
#include <map>
#include <fstream>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/number_format.hpp"
#include "core/secret.hpp"
#include "core/sha256.hpp"
#include "core/state_archive.hpp"
#include "data/candle_io.hpp"
#include "data/quality_stream.hpp"
#include "infer/drift.hpp"
#include "infer/model.hpp"
#include "infer/model_feature.hpp"
#include "infer/train.hpp"
#include "exec/metrics.hpp"
#include "net/http_server.hpp"
#include "plugin/loader.hpp"
#include "run/alerts.hpp"
#include "run/backtest.hpp"
#include "run/decision_log.hpp"
#include "run/reload.hpp"
#include "run/session.hpp"
#include "store/model_registry.hpp"

namespace onepath {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kSnapshotFormat = 2;  // 2: the reload ring, entries paused by an error
constexpr std::size_t kSlicesPerTurn = 256;  // between two looks at timers, signals and HTTP
constexpr auto kFlushEvery = std::chrono::seconds(1);
constexpr auto kPauseFilePoll = std::chrono::milliseconds(250);
constexpr auto kFeedPoll = std::chrono::milliseconds(100);
constexpr auto kReloadSettle = std::chrono::milliseconds(30);  // a file change is acted on once writes have settled this long
constexpr std::size_t kAlertsKept = 20;  // /status lists the last alerts
// Drift alerts: checked every kDriftEvery slices over the last [paper] drift_window rows, once
// they hold kDriftMinRows; seed 002's thresholds.
constexpr std::uint64_t kDriftEvery = 100;
constexpr std::size_t kDriftMinRows = 200;
constexpr double kDriftPsi = 0.2, kDriftKsP = 0.01;
// Step latency buckets, seconds (Prometheus histogram).
constexpr double kBuckets[] = {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2, 1e-1};

// What a snapshot holds besides the Session: enough to pick up the feed and the journal.
struct Snapshot {
  std::string config_sha256, journal;
  std::int64_t run_id = 0;
  Journal::Seqs seqs;
  std::uint64_t marks_seen = 0, trades_seen = 0;
  std::string session, feed;
  std::vector<std::vector<Candle>> ring;  // per symbol, the candles a reload warms new features on
  std::uint8_t error_paused = 0;

  template <class A>
  void fields(A& ar) {
    ar.all(config_sha256, journal, run_id, seqs.trades, seqs.equity, seqs.decisions, marks_seen, trades_seen, session, feed, ring,
           error_paused);
  }
};

class PaperRun final : public SessionSink {
 public:
  PaperRun(const RunConfig& c, std::unique_ptr<CandleFeed> feed, const PaperOptions& o)
      : c_(c), o_(o), feed_(std::move(feed)), timer_(io_), poll_(io_), status_(io_), debounce_(io_), signals_(io_, SIGINT, SIGTERM),
        snapshot_path_((fs::path(c.paper.dir) / "session.snapshot").string()), config_sha256_(sha256_hex(c.text)) {}

  PaperOutcome run();

  // SessionSink: results wait for the next journal flush.
  void on_decision(const DecisionView& d) override {
    if (journal_) decisions_.add(d);
  }
  void on_trade(const Trade& t) override {
    ++trades_seen_;
    if (journal_) trades_.push_back(t);
  }
  void on_mark(const EquityPoint& m) override {
    last_mark_ = m;
    if (journal_ && marks_seen_ % c_.equity_every == 0) equity_.push_back(m);
    ++marks_seen_;
  }
  void on_final_mark(const EquityPoint& m) override {
    last_mark_ = m;
    if (!journal_ || marks_seen_ == 0 || (marks_seen_ - 1) % c_.equity_every != 0) return;  // complete() appends it
    if (!equity_.empty()) equity_.back() = m;  // the last mark, not flushed yet
    else remark_written_ = true;
  }

 private:
  void open(PaperOutcome& out);
  void pump();
  void step();
  void flush();
  void snapshot();
  void request_stop(const char* why);
  void complete();
  void end(const std::string& status);
  void poll_pause_file();
  void set_paused();
  // After a step: the strategy's runtime errors, by [paper] on_error (docs/paper.md).
  void handle_strategy_errors();
  bool revert_strategy(const Session::StrategyError& e);
  // After a step: a streamed row the batch recompute disagrees with pauses entries.
  void handle_shadow_divergences();
  void alert(const std::string& kind, const std::string& message);
  void show_status(bool last = false);
  HttpResponse handle(const HttpRequest& req);
  std::string metrics_text() const;
  nlohmann::json status() const;
  bool ready() const;
  std::string warming_up() const;
  // Hot reload: validate the strategy as it now is on disk in a child, swap it in between
  // candles, journal and report either way.
  nlohmann::json reload(const std::string& trigger);
  void watch_files();
  std::vector<std::string> watched_files() const;
  void await_file_change();
  std::vector<CandleSeries> recent() const;

  const RunConfig& c_;
  const PaperOptions& o_;
  std::unique_ptr<CandleFeed> feed_;
  asio::io_context io_;
  asio::steady_timer timer_, poll_, status_, debounce_;
  asio::signal_set signals_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<Session> session_;
  std::unique_ptr<Journal> journal_;
  std::string snapshot_path_, config_sha256_, correlation_;
  std::int64_t run_id_ = 0;
  // journal rows made since the last flush, and how many were written before them
  std::vector<Trade> trades_;
  std::vector<EquityPoint> equity_;
  DecisionLog decisions_;
  Journal::Seqs written_;
  std::uint64_t marks_seen_ = 0, trades_seen_ = 0;
  EquityPoint last_mark_;
  bool remark_written_ = false;  // the last mark, already journaled, was made again at the end
  // the feed
  TimeSlice slice_;
  SteadyTime due_;
  bool pending_ = false;    // slice_ was taken from the feed and not yet stepped
  std::string feed_mark_;   // the feed's state before slice_ was taken
  std::vector<Candle> last_candle_;
  // the loop
  bool stopping_ = false, complete_ = false, http_paused_ = false, file_paused_ = false, error_paused_ = false;
  std::size_t since_snapshot_ = 0;
  Clock::time_point started_, last_fed_, last_flush_;
  double lag_seconds_ = 0;
  std::uint64_t latency_count_ = 0, latency_buckets_[std::size(kBuckets)] = {};
  double latency_sum_ = 0;
  std::vector<std::pair<std::string, std::string>> scripts_;  // path, sha256
  // hot reload
  std::vector<std::deque<Candle>> ring_;  // per symbol, the last reload_candles candles
  std::unique_ptr<FileWatcher> watcher_;
  std::unique_ptr<asio::posix::stream_descriptor> watch_stream_;
  std::size_t reloads_ = 0, reloads_rejected_ = 0;
  nlohmann::json last_reload_;
  // The version a hot reload replaced, while on probation: a runtime error brings it back.
  struct Previous {
    std::string script;
    ScriptParams params;
    std::shared_ptr<const SourceMap> sources;
    std::vector<std::pair<std::string, std::string>> scripts;
    std::uint64_t swapped_at = 0;  // slices_ then
  };
  std::optional<Previous> previous_;
  std::string rejected_signature_;  // the files as they were at the last rejected attempt
  std::uint64_t slices_ = 0, strategy_errors_ = 0, shadow_divergences_ = 0;  // slices_: stepped by this process
  std::deque<nlohmann::json> alerts_;   // the last ones, on /status
  std::unique_ptr<AlertRouter> router_;  // [[alerts]]: the same events, delivered
  std::map<std::string, std::string> plugin_shas_;  // each [[plugins]] file as loaded
  // Models with a manifest: their inputs' last rows against training (/metrics).
  std::unique_ptr<DriftMonitor> drift_;
  std::vector<double> feature_row_;
  void watch_drift();
  // Models the features name by registry name (model = "eth_up"): the version in production
  // of each, looked at between candles; a promotion or rollback reloads them.
  std::unique_ptr<Journal> registry_;
  std::map<std::string, std::int64_t> production_;
  Clock::time_point next_model_poll_;
  void watch_models();
  void poll_models();
  // Live alerts (docs/paper.md, "Alerts"): data check's quality rules on every candle, and
  // every kDriftEvery slices the models' inputs against training (PSI, KS over the window).
  std::vector<QualityStream> quality_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> quality_counts_;  // (symbol, rule)
  std::set<std::string> drifted_;  // "model/input" now past a threshold: said once until it comes back
  void check_quality(int symbol, const Candle& candle);
  void check_drift();
  // Champion / challenger: a model feature with `shadow = "NAME@V"` trades on its own score;
  // the challenger scores the same inputs beside it, both are labelled as its training
  // labelled (forward_return), journaled as a shadow evaluation the promotion gate reads.
  struct Shadow {
    std::string feature, champion, challenger;  // the column, and what each is ("registry eth_up@1")
    std::string reference;                      // the challenger as the registry names it ("eth_up@2")
    std::shared_ptr<const TreeModel> model;
    std::vector<std::size_t> inputs;            // its inputs' columns
    std::size_t score = 0;                      // the champion's column
    int horizon = 0;
    double threshold = 0;
    struct Pending {
      double close, champion, challenger;
    };
    std::vector<std::deque<Pending>> pending;  // per symbol, the last horizon bars
    std::vector<float> labels, champion_scores, challenger_scores;
    double last_champion = kNaN, last_challenger = kNaN;
    std::vector<float> row;
  };
  std::vector<Shadow> shadows_;
  void watch_shadows();
  void score_shadows(int symbol, const Candle& candle, const double* row);
  void journal_shadows();
};

void PaperRun::open(PaperOutcome& out) {
  const std::vector<std::string>& symbols = c_.session.symbols;
  router_ = std::make_unique<AlertRouter>(c_.alerts, "paper " + fs::path(c_.path).filename().string());
  session_ = std::make_unique<Session>(c_.session, feed_->timeframe(), *this, Driver::paper);
  session_->keep_strategy_errors(true);
  session_->shadow_every(c_.paper.shadow_every, c_.paper.shadow_window);
  watch_drift();
  watch_models();
  watch_shadows();
  last_candle_.assign(symbols.size(), Candle{});
  ring_.assign(symbols.size(), {});
  quality_.assign(symbols.size(), QualityStream{});
  for (const auto& p : c_.session.plugins) plugin_shas_[p.path] = file_sha256(p.path);
  for (const auto& f : session_->script_files()) scripts_.emplace_back(f, file_sha256(f));
  for (const auto& f : c_.session.filters)
    if (!f.script.empty()) scripts_.emplace_back(f.script, file_sha256(f.script));
  if (!c_.session.signal.empty()) scripts_.emplace_back(c_.session.signal, file_sha256(c_.session.signal));

  std::optional<Snapshot> snap;
  if (!o_.fresh && fs::exists(snapshot_path_)) {
    Snapshot s;
    try {
      const std::string bytes = read_file(snapshot_path_);
      StateReader r(bytes);
      std::uint32_t format = 0;
      r.all(format, s);
      if (format != kSnapshotFormat || !r.at_end()) throw InputError("unknown snapshot format");
    } catch (const InputError& e) {
      throw InputError(snapshot_path_ + ": cannot resume from this snapshot (" + e.what() + "); --fresh starts over");
    }
    if (s.config_sha256 != config_sha256_)
      throw InputError(snapshot_path_ + ": the snapshot was made by another configuration (config sha256 " + s.config_sha256.substr(0, 12) +
                       ", now " + config_sha256_.substr(0, 12) + "); run with the same config and --set values, or --fresh to start over");
    snap = std::move(s);
  }

  if (!c_.journal.empty()) journal_ = Journal::open(c_.journal);
  if (snap) {
    session_->load(snap->session);
    feed_->load(snap->feed);
    marks_seen_ = snap->marks_seen;
    trades_seen_ = snap->trades_seen;
    if (snap->ring.size() == ring_.size())
      for (std::size_t s = 0; s < ring_.size(); ++s) ring_[s].assign(snap->ring[s].begin(), snap->ring[s].end());
    error_paused_ = snap->error_paused != 0;
    out.resumed = true;
    if (journal_ && snap->journal == c_.journal && snap->run_id && journal_->run(snap->run_id)) {
      run_id_ = snap->run_id;
      written_ = snap->seqs;
      journal_->resume_run(run_id_, written_);
    }
    log::info("paper_resume", {{"snapshot", snapshot_path_}, {"last_candle", session_->candles() ? format_iso(session_->last_ts()) : std::string("none yet")}, {"candles", session_->candles()}});
  } else {
    std::vector<CandleSeries> history = feed_->history(session_->warmup_bars());
    history.resize(ring_.size());
    session_->warm_up(history);
    for (std::size_t s = 0; s < history.size(); ++s) {
      // the warm-up history stays available to reloads: new features warm up on it too
      for (std::size_t i = history[s].size() - std::min(history[s].size(), c_.paper.reload_candles); i < history[s].size(); ++i)
        ring_[s].push_back(history[s][i]);
    }
    session_->start();
  }
  if (journal_ && !run_id_) {
    RunInfo info = run_info(c_, "paper", o_.git_revision);
    info.feature_set_version = session_->feature_set_version();
    run_id_ = journal_->start_run(info);
    written_ = {};
  }
  correlation_ = "paper-" + std::to_string(run_id_) + "-" + config_sha256_.substr(0, 8);
  if (journal_)
    journal_->event(run_id_, correlation_, out.resumed ? "paper_resume" : "paper_start",
                    nlohmann::json{{"feed", feed_->describe()}, {"candles", session_->candles()}}.dump());
  out.run_id = run_id_;
}

PaperOutcome PaperRun::run() {
  PaperOutcome out;
  fs::create_directories(c_.paper.dir);
  open(out);
  started_ = last_fed_ = last_flush_ = Clock::now();

  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (!ec) request_stop(signal == SIGINT ? "SIGINT" : "SIGTERM");
  });
  if (c_.paper.port >= 0) {
    // The control endpoints always need a token: the configured one, else one made for this
    // session and left where `onepath reload` finds it, readable by the owner only.
    const char* configured = std::getenv(c_.paper.token_env.c_str());
    if (!is_loopback_host(c_.paper.host) && !(configured && *configured))
      throw InputError("HTTP on " + c_.paper.host + " (off loopback) needs a token: set the environment variable named by [paper] token_env");
    const std::string token = configured && *configured ? std::string(configured) : random_token();
    write_private_file((fs::path(c_.paper.dir) / "control.token").string(), token + "\n");
    http_ = std::make_unique<HttpServer>(io_, c_.paper.host, c_.paper.port, token, [this](const HttpRequest& r) { return handle(r); });
    const std::string shown = c_.paper.host == "0.0.0.0" ? std::string("127.0.0.1") : c_.paper.host == "::" ? std::string("::1") : c_.paper.host;
    const std::string url = "http://" + (shown.find(':') != std::string::npos ? "[" + shown + "]" : shown) + ":" + std::to_string(http_->port());
    log::info("paper_http", {{"url", url}});
    write_file_atomic((fs::path(c_.paper.dir) / "http.url").string(), url + "\n");  // for onepath reload
    if (o_.on_listening) o_.on_listening(http_->port());
  }
  if (!c_.paper.pause_file.empty()) poll_pause_file();
  if (c_.paper.reload) watch_files();
  if (o_.progress) show_status();
  log::info("paper_start", {{"feed", feed_->describe()}, {"symbols", c_.session.symbols.size()}, {"snapshot", snapshot_path_},
                            {"resumed", out.resumed ? "yes" : "no"}});
  asio::post(io_, [this] { pump(); });
  // Plugins post work from their own threads: it runs on this loop, between steps.
  set_plugin_wake([this] { asio::post(io_, [] { run_plugin_work(); }); });
  set_plugin_event_sink([this](const std::string& plugin, const std::string& name, const std::string& fields) {
    if (journal_) journal_->event(run_id_, event_correlation(fields, correlation_), plugin + "." + name, fields);
  });
  struct Unhook {
    ~Unhook() {
      try {
        run_plugin_work();  // events plugins sent last still reach the journal
      } catch (const std::exception& e) {
        log::warn("plugin_work_failed", {{"error", e.what()}});
      }
      set_plugin_wake({});
      set_plugin_event_sink({});
    }
  } unhook;
  try {
    io_.run();
  } catch (const std::exception& e) {
    try {  // a restart resumes with the positions and the ledger (docs/paper.md)
      if (pending_) {  // failed in the middle of a slice: resume after it
        if (journal_)
          journal_->event(run_id_, correlation_, "paper_slice_abandoned",
                          nlohmann::json{{"ts", format_iso(slice_.ts)}, {"error", e.what()}}.dump());
        pending_ = false;
      }
      snapshot();
    } catch (const std::exception& also) {
      log::warn("paper_snapshot_failed", {{"error", also.what()}});
    }
    alert("session_failed", e.what());  // delivered before the router goes (its drain)
    if (journal_) {  // what the session did up to the failure stays, marked failed
      try {
        flush();
        journal_->fail_run(run_id_, e.what());
      } catch (const std::exception& also) {
        log::warn("journal_failed", {{"error", also.what()}});
      }
    }
    throw;
  }

  out.complete = complete_;
  out.candles = session_->candles();
  out.decisions = session_->decisions();
  out.placed = session_->placed();
  out.trades = trades_seen_;
  out.equity = session_->kernel().equity();
  out.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  out.snapshot = complete_ ? "" : snapshot_path_;
  out.reloads = reloads_;
  out.reloads_rejected = reloads_rejected_;
  out.shadow_checks = session_->shadow_checks();
  out.shadow_rows = session_->shadow_rows();
  out.shadow_divergences = shadow_divergences_;
  return out;
}

// Takes slices from the feed and steps them when due, a batch per turn of the loop.
void PaperRun::pump() {
  for (std::size_t n = 0; n < kSlicesPerTurn; ++n) {
    if (stopping_) return;
    if (!pending_) {
      feed_mark_ = feed_->save();
      const CandleFeed::Next got = feed_->next(slice_, due_);
      if (got == CandleFeed::Next::ended) return complete();
      if (got == CandleFeed::Next::pending) {  // a live source with nothing yet: look again soon
        timer_.expires_after(kFeedPoll);
        timer_.async_wait([this](const boost::system::error_code& ec) {
          if (!ec) pump();
        });
        return;
      }
      pending_ = true;
    }
    if (due_ > Clock::now()) {
      timer_.expires_at(due_);
      timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) pump();
      });
      return;
    }
    step();
  }
  asio::post(io_, [this] { pump(); });
}

void PaperRun::watch_drift() {
  drift_ = std::make_unique<DriftMonitor>(session_->feature_set(), session_->feature_columns(), c_.paper.drift_window);
  if (drift_->empty()) drift_.reset();
  feature_row_.assign(session_->feature_columns().size(), 0.0);
}

void PaperRun::watch_shadows() {
  if (!shadows_.empty()) journal_shadows();  // what the replaced ones measured
  shadows_.clear();
  const auto& columns = session_->feature_columns();
  auto column = [&](const std::string& name) { return static_cast<std::size_t>(std::find(columns.begin(), columns.end(), name) - columns.begin()); };
  for (const auto& f : session_->feature_set().features) {
    const auto it = f.indicator.params.find("shadow");
    if (f.indicator.kind != "model" || it == f.indicator.params.end()) continue;
    const std::string* reference = std::get_if<std::string>(&it->second);
    if (!reference) throw InputError(f.origin + ": model: 'shadow' names the challenger, e.g. shadow = \"up@7\"");
    FeatureSpec challenger = f;
    challenger.indicator.params.erase("shadow");
    challenger.indicator.params.erase("path");
    challenger.indicator.params["model"] = *reference;
    if (reference->ends_with(".json")) challenger.indicator.params.erase("model"), challenger.indicator.params["path"] = *reference;
    const ModelRef ref = resolve_model(challenger);
    if (ref.loaded.model->features() != static_cast<int>(f.inputs.size()))
      throw InputError(f.origin + ": shadow " + *reference + " takes " + std::to_string(ref.loaded.model->features()) + " inputs, the feature gives " +
                       std::to_string(f.inputs.size()));
    Shadow sh;
    sh.feature = f.name, sh.challenger = ref.label, sh.reference = *reference, sh.model = ref.loaded.model;
    sh.champion = resolve_model([&] {
                    FeatureSpec champion = f;
                    champion.indicator.params.erase("shadow");
                    return champion;
                  }()).label;
    for (const auto& input : f.inputs) sh.inputs.push_back(column(input));
    sh.score = column(f.name);
    const auto manifest = nlohmann::json::parse(ref.manifest_json.empty() ? "{}" : ref.manifest_json, nullptr, false);
    const auto label = manifest.is_object() ? manifest.value("label", nlohmann::json::object()) : nlohmann::json::object();
    if (label.value("kind", "") != "forward_return") {
      log::warn("shadow_unlabelled", {{"feature", f.name}, {"challenger", *reference},
                                      {"why", "the challenger's manifest has no forward_return label: its scores are exported, not evaluated"}});
    } else {
      sh.horizon = label.value("horizon", 0), sh.threshold = label.value("threshold", 0.0);
    }
    sh.pending.assign(c_.session.symbols.size(), {});
    sh.row.assign(sh.inputs.size(), 0.0f);
    shadows_.push_back(std::move(sh));
  }
}

void PaperRun::score_shadows(int symbol, const Candle& candle, const double* row) {
  for (Shadow& sh : shadows_) {
    for (std::size_t k = 0; k < sh.inputs.size(); ++k) sh.row[k] = static_cast<float>(row[sh.inputs[k]]);
    float challenger = 0;
    sh.model->predict(sh.row.data(), &challenger);
    sh.last_champion = row[sh.score], sh.last_challenger = challenger;
    if (sh.horizon <= 0) continue;
    auto& pending = sh.pending[static_cast<std::size_t>(symbol)];
    pending.push_back({candle.close, row[sh.score], challenger});
    if (pending.size() <= static_cast<std::size_t>(sh.horizon)) continue;
    const auto then = pending.front();  // horizon bars ago: its label is known now
    pending.pop_front();
    if (std::isnan(then.champion)) continue;  // still warming up
    sh.labels.push_back(candle.close > then.close * (1.0 + sh.threshold) ? 1.0f : 0.0f);
    sh.champion_scores.push_back(static_cast<float>(then.champion));
    sh.challenger_scores.push_back(static_cast<float>(then.challenger));
  }
}

void PaperRun::journal_shadows() {
  for (const Shadow& sh : shadows_) {
    if (sh.labels.empty()) continue;
    const FoldMetrics a = score_fold(sh.labels, sh.champion_scores), b = score_fold(sh.labels, sh.challenger_scores);
    auto pair = [](double x, double y) { return nlohmann::json{{"champion", std::isfinite(x) ? nlohmann::json(x) : nlohmann::json()},
                                                               {"challenger", std::isfinite(y) ? nlohmann::json(y) : nlohmann::json()}}; };
    const nlohmann::json fields = {{"run", run_id_},         {"feature", sh.feature},
                                   {"champion", sh.champion}, {"challenger", sh.challenger},
                                   {"labelled", sh.labels.size()},
                                   {"metrics", {{"auc", pair(a.auc, b.auc)}, {"f1", pair(a.f1, b.f1)}, {"precision", pair(a.precision, b.precision)},
                                                {"recall", pair(a.recall, b.recall)}, {"log_loss", pair(a.log_loss, b.log_loss)}}}};
    if (journal_) journal_->event(run_id_, "shadow:" + sh.reference, "shadow_evaluation", fields.dump());
  }
}

void PaperRun::step() {
  // A model promoted or rolled back since the last slice scores this one.
  if (!production_.empty() && Clock::now() >= next_model_poll_) poll_models();
  const auto handed = Clock::now();
  lag_seconds_ = std::chrono::duration<double>(handed - due_).count();
  // Every candle of the slice arrived at `handed`; a later one waits for those before it.
  session_->open(slice_);
  for (const auto& [symbol, candle] : slice_.candles) {
    session_->on_candle(symbol, candle);
    const double ns = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - handed).count());
    if (o_.latencies_ns) o_.latencies_ns->push_back(ns);
    ++latency_count_;
    latency_sum_ += ns * 1e-9;
    for (std::size_t b = 0; b < std::size(kBuckets); ++b) latency_buckets_[b] += ns * 1e-9 <= kBuckets[b];
    last_candle_[static_cast<std::size_t>(symbol)] = candle;
    check_quality(symbol, candle);
    if (drift_ || !shadows_.empty()) session_->emit_features(symbol, feature_row_.data());
    if (drift_) drift_->add(feature_row_.data());
    if (!shadows_.empty()) score_shadows(symbol, candle, feature_row_.data());
    auto& ring = ring_[static_cast<std::size_t>(symbol)];
    ring.push_back(candle);
    if (ring.size() > c_.paper.reload_candles) ring.pop_front();
  }
  session_->close(slice_.ts);
  run_plugin_work();
  pending_ = false;
  if (++slices_ % kDriftEvery == 0) {
    if (drift_) check_drift();
    if (!shadows_.empty()) journal_shadows();
  }
  handle_strategy_errors();
  handle_shadow_divergences();
  last_fed_ = Clock::now();
  if (++since_snapshot_ >= c_.paper.snapshot_every) snapshot();
  else if (journal_ && last_fed_ - last_flush_ >= kFlushEvery) flush();
  if (o_.reload_after && o_.reload_after(session_->candles())) reload("asked");
}

std::vector<CandleSeries> PaperRun::recent() const {
  std::vector<CandleSeries> out(ring_.size());
  for (std::size_t s = 0; s < ring_.size(); ++s) {
    out[s].symbol = c_.session.symbols[s];
    for (const Candle& c : ring_[s]) out[s].push_back(c);
  }
  return out;
}

nlohmann::json PaperRun::reload(const std::string& trigger) {
  const auto t0 = Clock::now();
  std::vector<CandleSeries> candles = recent();
  std::string error;
  // Native plugins rebuilt on disk, and Lua filters edited: new code, the running state.
  nlohmann::json plugins = nlohmann::json::array();
  bool rebuilt = false;
  for (const auto& p : c_.session.plugins) {
    const std::string sha = file_sha256(p.path);
    if (sha == plugin_shas_[p.path] || !error.empty()) continue;
    try {
      const PluginInfo& info = reload_plugin(p.path, [this] { session_->rebuild_native(); });
      plugins.push_back({{"path", p.path}, {"old_sha256", plugin_shas_[p.path]}, {"new_sha256", sha}, {"build_id", info.build_id}});
      plugin_shas_[p.path] = sha;
      rebuilt = true;
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  bool filters_changed = false;
  for (const auto& f : c_.session.filters)
    if (!f.script.empty())
      for (const auto& [path, sha] : scripts_) filters_changed = filters_changed || (path == f.script && file_sha256(path) != sha);
  if (error.empty() && filters_changed && !rebuilt) {
    try {
      session_->rebuild_native();
      rebuilt = true;
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  // The strategy: its script, or the script and params of a changed signal config.
  SessionConfig candidate = session_->config();
  if (error.empty() && !candidate.signal.empty()) {
    for (const auto& [path, sha] : scripts_)
      if (path == candidate.signal && file_sha256(path) != sha) {
        try {
          const RunConfig fresh = load_run_config_text(c_.text, c_.path);  // the signal config read again, overrides applied
          candidate.strategy = fresh.session.strategy;
          candidate.params = fresh.session.params;
        } catch (const std::exception& e) {
          error = e.what();
        }
      }
  }
  // The candidate's files, read once: the dry run validates these bytes, the swap loads the
  // same bytes and the journal names their SHA-256, whatever reaches the disk meanwhile (a
  // slow save). A module it no longer has is not pinned; a module it newly requires is read
  // by the dry run and the swap each.
  auto sources = std::make_shared<SourceMap>();
  if (error.empty()) {
    std::vector<std::string> paths = session_->script_files();
    paths.insert(paths.begin(), candidate.strategy);
    for (const auto& path : paths) {
      try {
        if (!sources->count(path)) (*sources)[path] = read_script_file(path);
      } catch (const std::exception& e) {
        if (path == candidate.strategy) error = e.what();
      }
    }
  }
  candidate.limits.sources = sources;
  auto sha_of = [&](const std::string& path) { return sources->count(path) ? sha256_hex(sources->at(path)) : file_sha256(path); };
  // A save that changed no byte is no new version: nothing is validated, swapped or migrated.
  // Nor is a file change that brings back the bytes of the attempt rejected last (an editor's
  // second write of one save); asked for explicitly, it is tried again.
  std::string signature;
  bool changed = rebuilt || trigger.rfind("model ", 0) == 0 || candidate.strategy != session_->config().strategy ||
                 candidate.params != session_->config().params;
  for (const auto& [path, sha] : scripts_) {
    const std::string now_sha = sha_of(path);
    signature += path + '=' + now_sha + '\n';
    changed = changed || now_sha != sha;
  }
  for (const auto& p : c_.session.plugins) signature += p.path + '=' + file_sha256(p.path) + '\n';
  if (error.empty() && (!changed || (trigger == "file change" && signature == rejected_signature_))) {
    log::info("strategy_reload_unchanged", {{"trigger", trigger}, {"version", session_->strategy_version()}});
    nlohmann::json same = {{"trigger", trigger}, {"result", "unchanged"}, {"version", session_->strategy_version()},
                           {"reason", changed ? "the same bytes as the attempt rejected last" : "no file changed"}};
    if (o_.on_reload) o_.on_reload(same.dump());
    return same;
  }
  const auto deadline = std::chrono::milliseconds(2 * c_.session.limits.timeout_ms + 2000);
  std::vector<std::string> candidate_output;
  if (error.empty()) {
    Validation v = validate_in_child(candidate, feed_->timeframe(), candles, deadline, session_->strategy_state(), session_->strategy_version());
    error = std::move(v.error);
    candidate_output = std::move(v.output);
    for (const auto& line : candidate_output) log::info("reload_candidate_output", {{"line", line}});
  }
  const auto validated = Clock::now();
  Session::Reload r;
  r.old_version = session_->strategy_version();
  Previous before{session_->config().strategy, session_->config().params, session_->strategy_sources(), scripts_, slices_};
  if (error.empty()) {
    try {
      r = session_->reload_strategy(candles, candidate.strategy, candidate.params, sources, c_.paper.reload_partial_warmup);
      previous_ = std::move(before);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  nlohmann::json files = nlohmann::json::array();
  std::vector<std::pair<std::string, std::string>> now;
  for (const auto& f : error.empty() ? session_->script_files() : std::vector<std::string>{}) now.emplace_back(f, sha_of(f));
  for (const auto& [path, sha] : scripts_) {
    const std::string fresh = sha_of(path);
    if (fresh != sha) files.push_back({{"path", path}, {"old_sha256", sha}, {"new_sha256", fresh}});
  }
  nlohmann::json result = {{"trigger", trigger},
                           {"time", format_iso(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::system_clock::now().time_since_epoch()).count())},
                           {"result", error.empty() ? "swapped" : "rejected"},
                           {"old_version", r.old_version},
                           {"validate_ms", std::chrono::duration<double, std::milli>(validated - t0).count()},
                           {"files", files},
                           {"plugins", plugins},
                           {"native_rebuilt", rebuilt},
                           {"candidate_output", candidate_output}};
  if (error.empty()) {
    result["new_version"] = r.new_version;
    result["features_changed"] = r.features_changed;
    if (r.partial_warmup) result["partial_warmup"] = true;
    result["swap_ms"] = std::chrono::duration<double, std::milli>(Clock::now() - validated).count();
    for (const auto& f : c_.session.filters)
      if (!f.script.empty()) now.emplace_back(f.script, file_sha256(f.script));
    if (!c_.session.signal.empty()) now.emplace_back(c_.session.signal, file_sha256(c_.session.signal));
    scripts_ = std::move(now);
    if (r.features_changed) watch_drift(), watch_shadows();  // other models, or other columns
    ++reloads_;
    log::info("strategy_reloaded", {{"trigger", trigger}, {"old", r.old_version}, {"new", r.new_version},
                                    {"features_changed", r.features_changed ? "yes" : "no"}});
    if (watcher_) watcher_->watch(watched_files());  // it may require other modules now
    rejected_signature_.clear();
  } else {
    result["error"] = error;
    rejected_signature_ = signature;
    ++reloads_rejected_;
    log::warn("strategy_reload_rejected", {{"trigger", trigger}, {"error", error}});
    alert(error.find("enrichment_config_mismatch") != std::string::npos ? "enrichment_config_mismatch" : "reload_rejected", trigger + ": " + error);
  }
  if (journal_) journal_->event(run_id_, correlation_, "strategy_reload", result.dump());
  last_reload_ = result;
  if (o_.on_reload) o_.on_reload(result.dump());
  return result;
}

// The strategy's files, the Lua filters' scripts and the plugins' shared objects.
std::vector<std::string> PaperRun::watched_files() const {
  std::vector<std::string> files = session_->script_files();
  for (const auto& f : c_.session.filters)
    if (!f.script.empty()) files.push_back(f.script);
  for (const auto& p : c_.session.plugins) files.push_back(p.path);
  if (!c_.session.signal.empty()) files.push_back(c_.session.signal);
  return files;
}

void PaperRun::watch_files() {
  try {
    watcher_ = std::make_unique<FileWatcher>();
  } catch (const std::exception& e) {
    log::warn("reload_watch_unavailable", {{"error", e.what()}});
    return;
  }
  watcher_->watch(watched_files());
  watch_stream_ = std::make_unique<asio::posix::stream_descriptor>(io_, ::dup(watcher_->fd()));
  await_file_change();
}

// A change is acted on once the writes have settled: editors write in steps.
void PaperRun::await_file_change() {
  watch_stream_->async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    if (watcher_->changed()) {
      debounce_.expires_after(kReloadSettle);
      debounce_.async_wait([this](const boost::system::error_code& e) {
        if (!e && !stopping_) reload("file change");
      });
    }
    await_file_change();
  });
}

// The journal catches up with the session: one transaction.
void PaperRun::flush() {
  last_flush_ = Clock::now();
  if (!journal_ || (trades_.empty() && equity_.empty() && decisions_.empty())) return;
  journal_->append(run_id_, c_.session.symbols, written_, trades_, equity_, decisions_.records());
  written_.trades += static_cast<std::int64_t>(trades_.size());
  written_.equity += static_cast<std::int64_t>(equity_.size());
  written_.decisions += static_cast<std::int64_t>(decisions_.size());
  trades_.clear();
  equity_.clear();
  decisions_.clear();
}

// The journal first: it must hold at least what the snapshot has seen.
void PaperRun::snapshot() {
  flush();
  Snapshot s;
  s.config_sha256 = config_sha256_;
  s.journal = c_.journal;
  s.run_id = run_id_;
  s.seqs = written_;
  s.marks_seen = marks_seen_;
  s.trades_seen = trades_seen_;
  s.session = session_->save();
  s.feed = pending_ ? feed_mark_ : feed_->save();
  for (const auto& r : ring_) s.ring.emplace_back(r.begin(), r.end());
  s.error_paused = error_paused_;
  StateWriter w;
  w.all(kSnapshotFormat, s);
  write_file_atomic(snapshot_path_, w.bytes());
  since_snapshot_ = 0;
}

void PaperRun::request_stop(const char* why) {
  if (stopping_) return;
  stopping_ = true;
  log::info("paper_stop", {{"why", why}, {"candles", session_->candles()}});
  // Posted: whatever handler is running finishes its step first.
  asio::post(io_, [this] {
    snapshot();
    end("stopped");
  });
}

void PaperRun::complete() {
  stopping_ = complete_ = true;
  session_->finish();
  flush();
  if (journal_ && marks_seen_ > 0 && (marks_seen_ - 1) % c_.equity_every != 0) {  // the last mark is always kept
    journal_->append(run_id_, c_.session.symbols, written_, {}, {last_mark_}, {});
    ++written_.equity;
  }
  if (remark_written_) journal_->replace_mark(run_id_, written_.equity - 1, last_mark_);
  end("complete");
  fs::remove(snapshot_path_);
}

void PaperRun::end(const std::string& status) {
  journal_shadows();  // the shadow evaluation as it ends
  if (journal_) {
    BacktestResult r;  // the metrics of what the journal holds, in the backtest's form
    r.symbols = c_.session.symbols;
    r.timeframe = feed_->timeframe();
    r.feature_set_version = session_->feature_set_version();
    r.candles = session_->candles();
    r.decisions = session_->decisions();
    r.placed = session_->placed();
    std::vector<Trade> trades;
    for (const auto& t : journal_->trades(run_id_)) trades.push_back(t.trade);
    r.metrics = compute_metrics(c_.session.execution.initial_cash, journal_->equity(run_id_), trades, r.timeframe);
    // What it ran on: the replayed candles' fingerprint and every file's SHA-256, as a backtest keeps them.
    journal_->end_run(run_id_, status,
                      {r.feature_set_version, feed_->fingerprint(), metrics_json(c_, r), files_digest(c_, session_->script_files()), session_->feature_columns()});
    journal_->event(run_id_, correlation_, "paper_" + status, nlohmann::json{{"candles", r.candles}, {"trades", trades.size()}}.dump());
  }
  if (o_.progress) show_status(true);
  timer_.cancel();
  poll_.cancel();
  status_.cancel();
  debounce_.cancel();
  if (watch_stream_) watch_stream_->close();
  signals_.cancel();
  if (http_) {
    http_->stop();
    std::error_code ignored;
    fs::remove(fs::path(c_.paper.dir) / "http.url", ignored);
    fs::remove(fs::path(c_.paper.dir) / "control.token", ignored);
  }
  io_.stop();
}

void PaperRun::poll_pause_file() {
  const bool exists = fs::exists(c_.paper.pause_file);
  if (exists != file_paused_) {
    file_paused_ = exists;
    set_paused();
  }
  poll_.expires_after(kPauseFilePoll);
  poll_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) poll_pause_file();
  });
}

void PaperRun::set_paused() {
  const bool on = http_paused_ || file_paused_ || error_paused_;
  if (on == session_->entries_paused()) return;
  session_->pause_entries(on);
  log::info(on ? "paper_entries_paused" : "paper_entries_resumed", {{"pause_file", file_paused_ ? "present" : "absent"},
                                                                    {"http", http_paused_ ? "paused" : "not paused"}});
  if (journal_) journal_->event(run_id_, correlation_, on ? "entries_paused" : "entries_resumed", "{}");
  if (on && (http_paused_ || file_paused_))  // the operator's (a strategy error is its own alert)
    alert("kill_switch", std::string("entries paused (") + (http_paused_ ? "POST /control/pause" : "the pause file " + c_.paper.pause_file) +
                             "); exits, marks and features go on");
}

void PaperRun::check_quality(int symbol, const Candle& candle) {
  const std::string& name = c_.session.symbols[static_cast<std::size_t>(symbol)];
  for (const Finding& f : quality_[static_cast<std::size_t>(symbol)].push(candle)) {
    ++quality_counts_[{name, f.rule}];
    const nlohmann::json fields = {{"symbol", name}, {"rule", f.rule}, {"candle", format_iso(candle.ts)}, {"value", f.value}, {"message", f.message}};
    if (journal_) journal_->event(run_id_, correlation_, "data_quality", fields.dump());
    alert("data_quality", name + " " + format_iso(candle.ts) + " " + f.rule + ": " + f.message);
  }
}

namespace {
// P(D >= d) for the Kolmogorov-Smirnov statistic of n values against a large reference
// sample: Kolmogorov's asymptotic series at sqrt(n) d.
double ks_p_value(double d, std::size_t n) {
  const double lambda = std::sqrt(static_cast<double>(n)) * d;
  if (lambda < 0.3) return 1;
  double p = 0;
  for (int k = 1; k <= 100; ++k) p += (k % 2 ? 2.0 : -2.0) * std::exp(-2.0 * k * k * lambda * lambda);
  return std::clamp(p, 0.0, 1.0);
}
}  // namespace

void PaperRun::check_drift() {
  for (const auto& e : drift_->report()) {
    const std::string key = e.model + "/" + e.drift.input;
    const double p = ks_p_value(e.drift.ks, e.drift.count);
    const bool past = e.drift.count >= kDriftMinRows && (e.drift.psi > kDriftPsi || p < kDriftKsP);
    if (!past) {
      drifted_.erase(key);
      continue;
    }
    if (!drifted_.insert(key).second) continue;
    const nlohmann::json fields = {{"model", e.model}, {"input", e.drift.input}, {"psi", e.drift.psi}, {"ks", e.drift.ks}, {"ks_p", p}, {"rows", e.drift.count}};
    if (journal_) journal_->event(run_id_, correlation_, "drift", fields.dump());
    alert("drift", e.model + " input " + e.drift.input + ": PSI " + format_short(e.drift.psi) + ", KS " + format_short(e.drift.ks) + " (p " +
                       format_short(p) + ") over its last " + std::to_string(e.drift.count) + " values against training");
  }
}

namespace {
// The registry version in production of a name, 0 when none is.
std::int64_t production_version(Journal& registry, const std::string& name) {
  for (const auto& v : ModelRegistry(registry).list(name))
    if (v.status == "production") return v.version;
  return 0;
}
}  // namespace

void PaperRun::watch_models() {
  production_.clear();
  if (c_.registry.empty()) return;
  for (const auto& f : session_->feature_set().features) {
    if (f.indicator.kind != "model") continue;
    const auto it = f.indicator.params.find("model");
    const std::string* name = it == f.indicator.params.end() ? nullptr : std::get_if<std::string>(&it->second);
    if (!name || name->find('@') != std::string::npos) continue;  // a file, or a pinned version
    if (!registry_) registry_ = Journal::open_existing(c_.registry);
    production_[*name] = production_version(*registry_, *name);
  }
  next_model_poll_ = Clock::now() + o_.model_poll;
}

void PaperRun::poll_models() {
  next_model_poll_ = Clock::now() + o_.model_poll;
  std::string what;
  nlohmann::json changes = nlohmann::json::array();
  try {
    for (const auto& [name, version] : production_) {
      const std::int64_t now = production_version(*registry_, name);
      if (now == version) continue;
      what += (what.empty() ? "" : ", ") + name + " version " + std::to_string(now);
      changes.push_back({{"model", name}, {"from", version}, {"to", now}});
    }
  } catch (const std::exception& e) {  // the registry unreachable: the models in use stay
    log::warn("model_registry_unreachable", {{"registry", c_.registry}, {"error", e.what()}});
    return;
  }
  if (what.empty()) return;
  const auto seen = Clock::now();
  const nlohmann::json r = reload("model " + what + " in production");
  const bool swapped = r.value("result", "") == "swapped";
  const nlohmann::json fields = {{"changes", changes},
                                 {"result", r.value("result", "")},
                                 {"applied_ms", std::chrono::duration<double, std::milli>(Clock::now() - seen).count()},
                                 {"poll_ms", std::chrono::duration<double, std::milli>(o_.model_poll).count()},
                                 {"candle", format_iso(session_->last_ts())}};
  log::info("model_change", {{"models", what}, {"result", r.value("result", "")}});
  if (journal_) journal_->event(run_id_, correlation_, "model_change", fields.dump());
  alert(swapped ? "model_changed" : "model_change_rejected", what + (swapped ? " in production: scored from the next candle" : ": " + r.value("error", "")));
  watch_models();  // a rejected one is not tried again until it changes again
}

void PaperRun::alert(const std::string& kind, const std::string& message) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  alerts_.push_back({{"time", format_iso(now)}, {"kind", kind}, {"message", message}});
  if (alerts_.size() > kAlertsKept) alerts_.pop_front();
  if (router_) router_->notify(kind, message, nlohmann::json{{"run", run_id_}}.dump());
}

void PaperRun::handle_strategy_errors() {
  const std::vector<Session::StrategyError> errors = session_->take_strategy_errors();
  if (errors.empty()) return;
  strategy_errors_ += errors.size();
  const std::string version = session_->strategy_version();
  for (const auto& e : errors) {
    const std::string& symbol = c_.session.symbols[static_cast<std::size_t>(e.symbol)];
    log::event(log::Level::error, "strategy_error", {{"symbol", symbol}, {"candle", format_iso(e.ts)}, {"version", version}, {"error", e.message}});
    if (journal_)
      journal_->event(run_id_, correlation_, "strategy_error",
                      nlohmann::json{{"symbol", symbol}, {"candle", format_iso(e.ts)}, {"version", version}, {"error", e.message}}.dump());
  }
  const auto& first = errors.front();
  const std::string where = c_.session.symbols[static_cast<std::size_t>(first.symbol)] + " at " + format_iso(first.ts);
  if (revert_strategy(first)) return;
  switch (c_.paper.on_error) {
    case PaperConfig::OnError::skip:
      alert("strategy_error", "decision skipped (" + where + "): " + first.message);
      break;
    case PaperConfig::OnError::pause:
      alert("strategy_error", "decision skipped and entries paused (" + where + "; POST /control/resume resumes): " + first.message);
      error_paused_ = true;
      set_paused();
      break;
    case PaperConfig::OnError::stop:
      alert("strategy_error", "session stopping (" + where + "): " + first.message);
      request_stop("strategy error");
      break;
  }
}

void PaperRun::handle_shadow_divergences() {
  const std::vector<Session::ShadowFinding> found = session_->take_shadow_divergences();
  if (found.empty()) return;
  shadow_divergences_ += found.size();
  for (const auto& [symbol_index, d] : found) {
    const std::string& symbol = c_.session.symbols[static_cast<std::size_t>(symbol_index)];
    const nlohmann::json fields = {{"symbol", symbol}, {"candle", format_iso(d.ts)}, {"column", d.column},
                                   {"streamed", value_and_bits(d.streamed)}, {"batch", value_and_bits(d.batch)},
                                   {"feature_set", session_->feature_set_version()}};
    log::event(log::Level::error, "shadow_divergence", {{"symbol", symbol}, {"candle", format_iso(d.ts)}, {"column", d.column},
                                                        {"streamed", value_and_bits(d.streamed)}, {"batch", value_and_bits(d.batch)}});
    if (journal_) journal_->event(run_id_, correlation_, "shadow_divergence", fields.dump());
    alert("shadow_divergence", symbol + " " + d.column + " at " + format_iso(d.ts) + ": streamed " + value_and_bits(d.streamed) + ", batch " +
                                   value_and_bits(d.batch) + "; entries paused (POST /control/resume resumes)");
  }
  error_paused_ = true;  // decisions on features the batch path disagrees with are not the backtest's
  set_paused();
}

// Within the probation after a hot reload, the version before it comes back, as it was loaded.
bool PaperRun::revert_strategy(const Session::StrategyError& e) {
  if (!previous_ || c_.paper.reload_probation == 0 || slices_ - previous_->swapped_at > c_.paper.reload_probation) return false;
  Previous back = std::move(*previous_);
  previous_.reset();
  try {
    const Session::Reload r = session_->reload_strategy(recent(), back.script, back.params, back.sources, true);
    scripts_ = std::move(back.scripts);
    if (r.features_changed) watch_drift();
    if (watcher_) watcher_->watch(watched_files());
    const nlohmann::json fields = {{"from", r.old_version}, {"to", r.new_version}, {"symbol", c_.session.symbols[static_cast<std::size_t>(e.symbol)]},
                                   {"candle", format_iso(e.ts)}, {"error", e.message}};
    log::warn("strategy_reverted", {{"from", r.old_version}, {"to", r.new_version}, {"error", e.message}});
    if (journal_) journal_->event(run_id_, correlation_, "strategy_reverted", fields.dump());
    alert("strategy_reverted", "version " + r.old_version + " failed (" + e.message + "); back to " + r.new_version);
    return true;
  } catch (const std::exception& x) {
    log::warn("strategy_revert_failed", {{"error", x.what()}});
    alert("strategy_revert_failed", x.what());
    return false;
  }
}

void PaperRun::show_status(bool last) {
  const Kernel& k = session_->kernel();
  std::string positions;
  for (std::size_t s = 0; s < c_.session.symbols.size(); ++s) {
    const double p = k.position(static_cast<int>(s));
    if (p != 0) positions += fmt::format(" {} {:+.6g}", c_.session.symbols[s], p);
  }
  fmt::print(stderr, "\rpaper: {} candles, last {}, equity {:.2f}, positions{}, lag {:.0f} ms{}   ", session_->candles(),
             session_->last_ts() ? format_iso(session_->last_ts()) : "-", k.equity(), positions.empty() ? " none" : positions,
             lag_seconds_ * 1e3, session_->entries_paused() ? ", ENTRIES PAUSED" : "");
  if (last) {
    fmt::print(stderr, "\n");
    return;
  }
  status_.expires_after(std::chrono::seconds(1));
  status_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) show_status();
  });
}

// Which symbols lack candles for their features' first values, and how many they have.
std::string PaperRun::warming_up() const {
  std::string out = "warming up:";
  for (std::size_t s = 0; s < c_.session.symbols.size(); ++s)
    if (const auto seen = session_->seen(static_cast<int>(s)); seen < session_->first_value_bars())
      out += " " + c_.session.symbols[s] + " " + std::to_string(seen) + " of " + std::to_string(session_->first_value_bars());
  return out + " candles until every feature has a value\n";
}

bool PaperRun::ready() const {
  if (!session_->warm() || stopping_) return false;
  const double period = c_.paper.speed > 0 ? static_cast<double>(feed_->timeframe().duration_ms()) / 1e3 / c_.paper.speed : 0;
  return std::chrono::duration<double>(Clock::now() - last_fed_).count() <= 3 * period + 5;
}

std::string PaperRun::metrics_text() const {
  const Kernel& k = session_->kernel();
  std::string m;
  auto metric = [&](const char* name, const char* type, const char* help, double value) {
    m += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
  };
  metric("onepath_candles_total", "counter", "Candles stepped.", static_cast<double>(session_->candles()));
  metric("onepath_decisions_total", "counter", "Intents decided.", static_cast<double>(session_->decisions()));
  metric("onepath_orders_total", "counter", "Orders placed.", static_cast<double>(session_->placed()));
  metric("onepath_fills_total", "counter", "Fills: a lot opened, or closed in whole or in part.", static_cast<double>(k.fills()));
  metric("onepath_trades_total", "counter", "Trades closed (a lot's entry and exit).", static_cast<double>(trades_seen_));
  metric("onepath_equity", "gauge", "Equity at the last mark.", k.equity());
  metric("onepath_cash", "gauge", "Cash.", k.cash());
  metric("onepath_strategy_errors_total", "counter", "Runtime errors of the strategy (each skipped a decision).",
         static_cast<double>(strategy_errors_));
  metric("onepath_shadow_checks_total", "counter", "Windows of streamed rows recomputed in batch (shadow_every).",
         static_cast<double>(session_->shadow_checks()));
  metric("onepath_shadow_rows_total", "counter", "Streamed rows compared with their batch recompute.", static_cast<double>(session_->shadow_rows()));
  metric("onepath_shadow_divergences_total", "counter", "Streamed rows whose batch recompute differed.", static_cast<double>(shadow_divergences_));
  metric("onepath_entries_paused", "gauge", "1 while the kill switch holds new entries.", session_->entries_paused() ? 1 : 0);
  metric("onepath_feed_lag_seconds", "gauge", "How late the last time slice was stepped after it was due.", lag_seconds_);
  m += "# HELP onepath_position Signed position per symbol.\n# TYPE onepath_position gauge\n";
  for (std::size_t s = 0; s < c_.session.symbols.size(); ++s)
    m += fmt::format("onepath_position{{symbol=\"{}\"}} {}\n", c_.session.symbols[s], k.position(static_cast<int>(s)));
  const auto counters = plugin_counters();
  if (drift_) {  // each model input's drift over the session's last rows (docs/models.md)
    const auto report = drift_->report();
    m += "# HELP onepath_model_input_psi A model input's population stability index against its training deciles.\n"
         "# TYPE onepath_model_input_psi gauge\n";
    for (const auto& e : report)
      m += fmt::format("onepath_model_input_psi{{model=\"{}\",input=\"{}\"}} {}\n", e.model, e.drift.input, e.drift.psi);
    m += "# HELP onepath_model_input_ks A model input's Kolmogorov-Smirnov statistic against its training sample.\n"
         "# TYPE onepath_model_input_ks gauge\n";
    for (const auto& e : report)
      m += fmt::format("onepath_model_input_ks{{model=\"{}\",input=\"{}\"}} {}\n", e.model, e.drift.input, e.drift.ks);
  }
  if (!shadows_.empty()) {
    m += "# HELP onepath_model_score The last score of a model feature (champion) and of its shadow challenger.\n# TYPE onepath_model_score gauge\n";
    for (const Shadow& sh : shadows_)
      m += fmt::format("onepath_model_score{{feature=\"{}\",role=\"champion\"}} {}\nonepath_model_score{{feature=\"{}\",role=\"challenger\"}} {}\n", sh.feature,
                       sh.last_champion, sh.feature, sh.last_challenger);
  }
  m += "# HELP onepath_data_quality_total Candles data check's quality rules flagged, per symbol and rule.\n"
       "# TYPE onepath_data_quality_total counter\n";
  for (const auto& [key, n] : quality_counts_) m += fmt::format("onepath_data_quality_total{{symbol=\"{}\",rule=\"{}\"}} {}\n", key.first, key.second, n);
  m += fmt::format("# HELP onepath_model_inputs_drifted Model inputs past PSI {} or KS p < {} now.\n# TYPE onepath_model_inputs_drifted gauge\n"
                   "onepath_model_inputs_drifted {}\n", kDriftPsi, kDriftKsP, drifted_.size());
  if (!counters.empty()) m += "# HELP onepath_plugin_counter Counters native plugins keep.\n# TYPE onepath_plugin_counter gauge\n";
  for (const auto& [name, value] : counters) m += fmt::format("onepath_plugin_counter{{name=\"{}\"}} {}\n", name, value);
  m += "# HELP onepath_step_latency_seconds A candle's arrival to its orders out of the kernel.\n"
       "# TYPE onepath_step_latency_seconds histogram\n";
  for (std::size_t b = 0; b < std::size(kBuckets); ++b)
    m += fmt::format("onepath_step_latency_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[b], latency_buckets_[b]);
  m += fmt::format("onepath_step_latency_seconds_bucket{{le=\"+Inf\"}} {}\nonepath_step_latency_seconds_sum {}\n"
                   "onepath_step_latency_seconds_count {}\n",
                   latency_count_, latency_sum_, latency_count_);
  return m;
}

nlohmann::json PaperRun::status() const {
  const Kernel& k = session_->kernel();
  nlohmann::json symbols = nlohmann::json::array();
  for (std::size_t s = 0; s < c_.session.symbols.size(); ++s) {
    const Candle& last = last_candle_[s];
    symbols.push_back({{"symbol", c_.session.symbols[s]},
                       {"last_candle", last.ts ? nlohmann::json(format_iso(last.ts)) : nlohmann::json()},
                       {"last_close", last.ts ? nlohmann::json(last.close) : nlohmann::json()},
                       {"position", k.position(static_cast<int>(s))},
                       {"candles_seen", session_->seen(static_cast<int>(s))}});
  }
  nlohmann::json scripts = nlohmann::json::array();
  for (const auto& [path, sha] : scripts_) scripts.push_back({{"path", path}, {"sha256", sha}});
  nlohmann::json j = {{"run_id", run_id_},
                      {"kind", "paper"},
                      {"feed", feed_->describe()},
                      {"state", stopping_ ? (complete_ ? "complete" : "stopping") : "running"},
                      {"warm", session_->warm()},
                      {"settled", session_->settled()},
                      {"warmup", {{"first_values", session_->first_value_bars()}, {"settled", session_->warmup_bars()},
                                  {"settled_by", session_->warmup_feature()}}},
                      {"ready", ready()},
                      {"entries_paused", session_->entries_paused()},
                      {"candles", session_->candles()},
                      {"decisions", session_->decisions()},
                      {"orders", session_->placed()},
                      {"trades", trades_seen_},
                      {"equity", k.equity()},
                      {"cash", k.cash()},
                      {"last_candle", session_->last_ts() ? nlohmann::json(format_iso(session_->last_ts())) : nlohmann::json()},
                      {"feature_set_version", session_->feature_set_version()},
                      {"strategy_version", session_->strategy_version()},
                      {"reloads", {{"swapped", reloads_}, {"rejected", reloads_rejected_}, {"last", last_reload_}}},
                      {"strategy_errors", strategy_errors_},
                      {"shadow", {{"every", c_.paper.shadow_every}, {"window", c_.paper.shadow_window}, {"checks", session_->shadow_checks()},
                                  {"rows", session_->shadow_rows()}, {"divergences", shadow_divergences_}}},
                      {"alerts", nlohmann::json(alerts_)},
                      {"symbols", symbols},
                      {"scripts", scripts},
                      {"snapshot", snapshot_path_}};
  return j;
}

HttpResponse PaperRun::handle(const HttpRequest& req) {
  const std::string path = req.target.substr(0, req.target.find('?'));
  const bool get = req.method == "GET", post = req.method == "POST";
  if (get && path == "/health/live") return {200, "text/plain; charset=utf-8", "live\n"};
  if (get && path == "/health/ready") {
    const bool ok = ready();
    return {ok ? 200 : 503, "text/plain; charset=utf-8", ok ? "ready\n" : session_->warm() ? "not fed recently\n" : warming_up()};
  }
  if (get && path == "/metrics") return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_text()};
  if (get && path == "/status") return {200, "application/json", status().dump(2) + "\n"};
  if (post && (path == "/control/pause" || path == "/control/resume")) {
    http_paused_ = path == "/control/pause";
    if (!http_paused_) error_paused_ = false;  // resuming is the operator's answer to an error's pause
    set_paused();
    return {200, "application/json", status().dump(2) + "\n"};
  }
  if (post && path == "/control/reload") {
    const bool cli = req.target.find("by=onepath-reload") != std::string::npos;
    nlohmann::json r = reload(cli ? "onepath reload" : "POST /control/reload");
    return {r["result"] == "rejected" ? 422 : 200, "application/json", r.dump(2) + "\n"};
  }
  if (post && path == "/control/stop") {
    request_stop("POST /control/stop");
    return {202, "text/plain; charset=utf-8", "stopping after the current candle; a snapshot will be written\n"};
  }
  const bool known = path == "/health/live" || path == "/health/ready" || path == "/metrics" || path == "/status" ||
                     path.starts_with("/control/");
  if (known) return {405, "text/plain; charset=utf-8", "method not allowed\n"};
  return {404, "text/plain; charset=utf-8",
          "not found; try GET /health/live, /health/ready, /metrics, /status or POST /control/pause, /control/resume, /control/stop\n"};
}

}  // namespace

PaperOutcome run_paper(const RunConfig& c, const PaperOptions& o) { return run_paper(c, make_feed(c), o); }

PaperOutcome run_paper(const RunConfig& c, std::unique_ptr<CandleFeed> feed, const PaperOptions& o) {
  use_model_registry(c.registry);
  PaperRun run(c, std::move(feed), o);
  return run.run();
}

PaperBench bench_paper(const RunConfig& config, std::size_t candles) {
  RunConfig c = config;
  c.journal.clear();
  c.paper.port = -1;
  c.paper.pause_file.clear();
  c.paper.snapshot_every = std::numeric_limits<std::size_t>::max();
  c.paper.dir = (fs::temp_directory_path() / ("onepath-bench-paper-" + std::to_string(::getpid()))).string();
  SynthOptions g = c.generate.value_or(SynthOptions{});
  g.symbols.clear();
  for (const auto& s : c.session.symbols) g.symbols.push_back(preset_symbol(s, 0.8));
  g.timeframe = Timeframe::parse("15m");
  g.bars = std::max<std::size_t>(candles / c.session.symbols.size(), 1);
  g.with_defects = false;
  std::vector<double> ns;
  ns.reserve(g.bars * c.session.symbols.size());
  PaperOptions o;
  o.fresh = true;
  o.latencies_ns = &ns;
  run_paper(c, make_replay_feed(generate_market(g), g.timeframe, 0), o);
  fs::remove_all(c.paper.dir);
  PaperBench b;
  b.candles = ns.size();
  if (ns.empty()) return b;
  double sum = 0;
  for (double x : ns) sum += x;
  std::sort(ns.begin(), ns.end());
  auto at = [&](double q) { return ns[std::min(ns.size() - 1, static_cast<std::size_t>(q * static_cast<double>(ns.size())))] / 1e3; };
  b.p50_us = at(0.5), b.p99_us = at(0.99), b.p999_us = at(0.999), b.max_us = ns.back() / 1e3;
  b.mean_us = sum / static_cast<double>(ns.size()) / 1e3;
  return b;
}

ReloadBench bench_reload(const RunConfig& config, std::size_t reloads) {
  RunConfig c = config;
  c.journal.clear();
  c.paper.port = -1;
  c.paper.pause_file.clear();
  c.paper.reload = true;
  c.paper.snapshot_every = std::numeric_limits<std::size_t>::max();
  const fs::path dir = fs::temp_directory_path() / ("onepath-bench-reload-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  c.paper.dir = (dir / "paper").string();
  // A copy of the strategy to edit: a comment line changes on every reload.
  const std::string original = read_file(c.session.strategy);
  c.session.strategy = (dir / "strategy.lua").string();
  write_file_atomic(c.session.strategy, original);
  SynthOptions g = c.generate.value_or(SynthOptions{});
  g.symbols.clear();
  for (const auto& s : c.session.symbols) g.symbols.push_back(preset_symbol(s, 0.8));
  g.timeframe = Timeframe::parse("15m");
  g.bars = c.paper.reload_candles + reloads * 10'000;  // 200 ms of session per reload at the pace below
  g.with_defects = false;
  // Paced at a slice every 20 us, so the session is still running when the reloads come.
  const double speed = static_cast<double>(g.timeframe.duration_ms()) / 0.02;

  std::vector<double> latency, validate;
  Clock::time_point written{};
  bool waiting = false;
  std::size_t next_edit = c.paper.reload_candles * c.session.symbols.size();
  PaperOptions o;
  o.fresh = true;
  o.reload_after = [&](std::size_t candles) {
    if (waiting || latency.size() >= reloads || candles < next_edit) return false;
    std::ofstream(c.session.strategy) << original << "\n-- edit " << latency.size() << "\n";
    written = Clock::now();
    waiting = true;
    return false;  // the file watcher notices it
  };
  o.on_reload = [&](const std::string& json) {
    if (!waiting) return;
    latency.push_back(std::chrono::duration<double, std::milli>(Clock::now() - written).count());
    validate.push_back(nlohmann::json::parse(json).value("validate_ms", 0.0));
    waiting = false;
  };
  run_paper(c, make_replay_feed(generate_market(g), g.timeframe, speed), o);
  fs::remove_all(dir);
  ReloadBench b;
  b.reloads = latency.size();
  b.dry_run_candles = c.paper.reload_candles * c.session.symbols.size();
  if (latency.empty()) return b;
  auto pct = [](std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
  };
  b.p50_ms = pct(latency, 0.5), b.p99_ms = pct(latency, 0.99), b.max_ms = pct(latency, 1.0), b.validate_p50_ms = pct(validate, 0.5);
  return b;
}

}  // namespace onepath
