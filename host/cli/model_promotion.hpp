#pragma once
// onepath models promote / rollback with the readiness gates (infer/promotion.hpp): what
// decides, what is printed, what the journal keeps.
#include <cstdint>
#include <string>

namespace onepath::cli {

struct PromoteRequest {
  std::string db, name;
  std::int64_t version = 0;
  std::string config;        // a RUN.toml whose [promotion] applies; default: the one that trained the version
  std::string force_reason;  // non-empty: promote whatever the gates say, the reason journaled
};
// 0 promoted, 1 refused by a gate.
int promote_model(const PromoteRequest& r);
// Back to the version in production before; journaled. Returns the version.
std::int64_t rollback_model(const std::string& db, const std::string& name);

}  // namespace onepath::cli
