#pragma once
// Ctrl-C and SIGTERM for commands that run to an end (a backtest, data gen). Immediately:
// the temporary files of unfinished AtomicFiles are removed, "interrupted" is printed and
// the process exits 130. Cooperatively (a backtest): the signal only asks, interrupted()
// turns true, and the work stops at its next check with Interrupted, so that it can record
// what happened (the journal's run becomes `interrupted`); a second signal is immediate.
// Paper sessions handle their signals on their event loop instead.
#include <stdexcept>

namespace onepath {

class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

void install_interrupt_handler(bool cooperative);
bool interrupted();
inline void check_interrupted() {
  if (interrupted()) throw Interrupted();
}

// AtomicFile's temporary files, removed by an immediate interrupt (async-signal-safe slots).
int register_temporary_file(const char* path);  // a slot, or -1 when none is free
void unregister_temporary_file(int slot);

}  // namespace onepath
