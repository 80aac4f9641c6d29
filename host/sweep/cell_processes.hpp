#pragma once
// The local executor's workers are processes, forked once the market is read: each reads the
// market and the plan through copy-on-write pages (never a copy), takes the next cell from a
// counter in shared memory, and sends its result back over a pipe; the parent records and
// reports them one at a time. Each worker is pinned to its own core: LuaJIT protects and
// unprotects its machine code as it compiles a cell's traces, and in one process of several
// threads on several cores every such change interrupts the other cores to flush their TLBs
// (measured on seed 001's shape: 35.6 s on one unpinned thread, 22.3 s pinned). A worker that
// fails sends its error, which the parent raises as it was (InputError, ScriptError,
// Interrupted); a worker that dies is an error naming the cell it held.
#include <functional>
#include <vector>

#include "sweep/run_sweep.hpp"

namespace onepath {

// Runs the cells numbered in `batch` on `workers` processes; `on_result` is called in this
// process, in the order results arrive. Returns when all have run, or throws the first
// failure once every worker has stopped.
void run_cells_in_processes(const CellRunner& runner, const SweepPlan& plan, const std::vector<std::size_t>& batch, int workers,
                            const std::function<void(const SweepCell&, CellResult)>& on_result);

}  // namespace onepath
