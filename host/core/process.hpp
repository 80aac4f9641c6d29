#pragma once
// A process named so that a reused pid is not mistaken for it: its pid and its start time
// (field 22 of /proc/PID/stat, clock ticks since boot).
#include <cstdint>
#include <string>

namespace onepath {

// "" when the process does not exist (or /proc cannot say).
std::string process_start_time(std::int64_t pid);

// The process `pid` runs on this machine and started at `start_time` ("" when it was not
// recorded: then the pid alone decides).
bool process_alive(std::int64_t pid, const std::string& start_time);

}  // namespace onepath
