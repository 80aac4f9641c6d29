#pragma once
// Errors inside the host are exceptions. InputError is the user's to fix (bad input or
// usage: exit code 2); any other std::exception is a failure of the work (exit code 1).
#include <stdexcept>
#include <string>

namespace onepath {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace onepath
