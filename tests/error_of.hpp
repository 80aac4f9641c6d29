#pragma once
// What a call threw, as text ("no error" when it returned): tests compare error messages.
#include <exception>
#include <functional>
#include <string>

inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no error";
}
