// A mutation fuzzer for everything that reads user input: candle CSV and JSON, RUN.toml
// (with --set overrides), Lua feature files, and journals on damaged databases. Each case
// takes a corpus file, mutates it (bit flips, cuts, repeats, splices of tokens readers get
// wrong: signs, huge and non-finite numbers, NULs, quotes), and feeds it to its reader. A
// reader may refuse (an exception); it must not crash, hang or trip a sanitizer.
//   onepath_fuzz CORPUS_DIR [--seed N] [--cases N] [--last FILE]
// --last: each case's input is written there first, so that a crash leaves it behind.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "data/candle_io.hpp"
#include "lua/feature_file.hpp"
#include "run/run_config.hpp"
#include "store/journal.hpp"

namespace fs = std::filesystem;
using namespace onepath;

namespace {

const char* kTokens[] = {"-", "+", "+-", "--", "1e308", "-1e308", "1e-320", "nan", "inf", "-inf", "0", "-0", "9223372036854775807",
                         "18446744073709551616", "\"", "'", ",", ";", "\n", "\r\n", "\t", "{", "}", "[", "]", "=", "\\", "\0",
                         "9999-12-31T23:59:59Z", "10000-01-01", "1970-01-01", "0x10", "1_000", "]]", "[[", "nil", "true", "{{", "period = 1e9"};

std::string mutate(std::string s, std::mt19937_64& rng) {
  auto pick = [&](std::size_t n) { return n ? static_cast<std::size_t>(rng() % n) : 0; };
  const int edits = 1 + static_cast<int>(pick(4));
  for (int e = 0; e < edits; ++e) {
    const std::size_t at = pick(s.size() + 1);
    switch (pick(6)) {
      case 0:  // flip a bit
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1 << pick(8));
        break;
      case 1:  // cut a run
        if (!s.empty()) s.erase(at == s.size() ? at - 1 : at, 1 + pick(16));
        break;
      case 2: {  // repeat a run
        const std::size_t len = std::min<std::size_t>(1 + pick(64), s.size() - std::min(at, s.size()));
        s.insert(at, s.substr(at, len));
        break;
      }
      case 3: {  // a token readers get wrong
        const std::string t = kTokens[pick(std::size(kTokens))];
        s.insert(at, t.empty() ? std::string(1, '\0') : t);
        break;
      }
      case 4: {  // replace a number-looking run with a token
        const std::string t = kTokens[pick(std::size(kTokens))];
        std::size_t b = at;
        while (b < s.size() && (std::isdigit(static_cast<unsigned char>(s[b])) || s[b] == '.')) ++b;
        s.replace(at, b - at, t);
        break;
      }
      default:  // truncate
        s.resize(at);
    }
  }
  return s;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A small journal with one complete run, as bytes.
std::string journal_bytes(const fs::path& dir) {
  const fs::path db = dir / "seed.db";
  {
    Journal j(open_db(db.string()));
    RunInfo info;
    info.config_path = "x.toml";
    info.symbols = "BTC";
    const auto id = j.start_run(info);
    Trade t;
    t.entry_ts = 1, t.exit_ts = 2, t.quantity = 1, t.entry_price = 100, t.exit_price = 101;
    j.complete_run(id, {"BTC"}, {t}, {{1, 100, 100, 0}}, {}, {"v", "f", "{}"});
  }
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(db.string() + suffix);
  return read(db);
}

void run_case(const fs::path& file, const std::string& input, const fs::path& scratch, std::mt19937_64& rng) {
  // A config reads as if it sat in the corpus folder, so that its relative paths find the tree's scripts.
  const std::string ext = file.extension().string();
  if (ext == ".csv") {
    parse_csv(input, "fuzz.csv");
  } else if (ext == ".json") {
    parse_json(input, "fuzz.json");
  } else if (ext == ".lua") {
    parse_feature_source(input, "fuzz.lua");
  } else if (ext == ".toml") {
    std::vector<std::string> sets;
    if (rng() % 3 == 0) sets.push_back(std::string(rng() % 2 ? "strategy.timeout_ms=" : "execution.taker_fee_bps=") + kTokens[rng() % std::size(kTokens)]);
    load_run_config_text(input, (file.parent_path() / "fuzzed.toml").string(), sets);
  } else if (ext == ".db") {
    const fs::path db = scratch / "fuzz.db";
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
    std::ofstream(db, std::ios::binary) << input;
    Journal j(open_db(db.string()));
    for (const auto& r : j.list_runs()) {
      j.trades(r.id);
      j.equity(r.id);
      j.decisions(r.id);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: onepath_fuzz CORPUS_DIR [--seed N] [--cases N] [--last FILE]\n");
    return 2;
  }
  const fs::path corpus = argv[1];
  std::uint64_t seed = 1;
  long cases = 1000;
  std::string last;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--seed") seed = std::stoull(argv[i + 1]);
    else if (a == "--cases") cases = std::stol(argv[i + 1]);
    else if (a == "--last") last = argv[i + 1];
  }
  log::configure(log::Format::text, log::Level::critical);
  const fs::path scratch = fs::temp_directory_path() / ("onepath_fuzz_" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  std::vector<std::pair<fs::path, std::string>> seeds;
  for (const auto& e : fs::directory_iterator(corpus))
    if (e.is_regular_file()) seeds.emplace_back(e.path(), read(e.path()));
  seeds.emplace_back(scratch / "journal.db", journal_bytes(scratch));
  std::sort(seeds.begin(), seeds.end());
  std::mt19937_64 rng(seed);
  long refused = 0;
  const auto start = std::chrono::steady_clock::now();
  for (long c = 0; c < cases; ++c) {
    const auto& [file, text] = seeds[static_cast<std::size_t>(rng() % seeds.size())];
    const std::string input = mutate(text, rng);
    if (!last.empty()) std::ofstream(last + file.extension().string(), std::ios::binary) << input;
    try {
      run_case(file, input, scratch, rng);
    } catch (const std::exception&) {
      ++refused;  // refusing bad input is what a reader should do
    }
  }
  fs::remove_all(scratch);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("fuzz: %ld cases from %zu seeds (seed %llu) in %.1f s, %ld refused, no crash\n", cases, seeds.size(),
              static_cast<unsigned long long>(seed), secs, refused);
  return 0;
}
