#pragma once
// json.encode(value) and json.decode(text) for scripts, so that a script can talk to a
// native service (whose requests and answers are JSON) with plain tables. A table whose
// keys are exactly 1..n is an array, any other table an object with string keys; whole
// numbers below 2^53 encode as integers; json.null stands for null.
struct lua_State;

namespace onepath {

// Sets field "json" of the table on top of L's stack.
void add_json_library(lua_State* L);

}  // namespace onepath
