#pragma once
// What a command may ask for up front: a budget for the big allocations it can foresee (a
// generated market, a feature matrix, a backtest's candles and curves), checked before
// allocating, so that asking for too much is a clear refusal and not minutes of swapping
// then std::bad_alloc. Default: 80 % of the machine's memory; `onepath --max-memory MB`.
#include <cstddef>
#include <string>

namespace onepath {

void set_memory_budget(std::size_t bytes);
std::size_t memory_budget();
// InputError naming `what`, the estimate and the budget when `bytes` is over it.
void check_memory(double bytes, const std::string& what);

}  // namespace onepath
