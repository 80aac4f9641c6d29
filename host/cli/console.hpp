#pragma once
// How this process talks to the person at the terminal, decided once in main from the
// global options and the environment: quiet or verbose, colour or not, text or JSON.
// Commands ask here instead of each reading isatty and flags of their own.
#include <string>

namespace onepath::cli {

struct Console {
  bool quiet = false;    // -q: results only; no progress, no notes
  bool verbose = false;  // -v: debug events too
  bool color = true;     // off with NO_COLOR (https://no-color.org) or when stderr is not a terminal
  bool json = false;     // --log-format json: every message on stderr is one JSON object
};

void set_console(const Console& c);
const Console& console();

// A progress bar or status line belongs on stderr only when it is a terminal and the user
// did not ask for quiet (or pass the command's --no-progress).
bool progress_wanted(bool no_progress_flag);

// The last word of a command that did not succeed: "error: ..." (exit 2) or "failed: ..."
// (exit 1), or one JSON object with the same text and the exit code under --log-format json.
void print_final_error(const char* prefix, const std::string& message, int exit_code);

}  // namespace onepath::cli
