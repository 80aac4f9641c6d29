#pragma once
// The model registry, in the journal: every trained model as a numbered version of a name,
// its file and manifest kept whole (retraining to the same path cannot change a registered
// version). One version of a name is in production; promote makes another one so, rollback
// returns to the one in production before it. A feature set names a model by registry
// name (`model = "up"`: production, `"up@3"`: that version) instead of a path.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/journal.hpp"

namespace onepath {

struct ModelVersion {
  std::int64_t version = 0;
  std::string name, status;  // candidate | production | retired
  std::string sha256, model_json, manifest_json, source;  // source: the file it was registered from
  std::int64_t train_run = 0;
  TimestampMs created_at = 0, promoted_at = 0;  // promoted_at: 0 when never in production
};

class ModelRegistry {
 public:
  explicit ModelRegistry(Journal& journal) : journal_(journal) {}
  // A new version of `name` (the next number), a candidate. Returns it.
  std::int64_t add(const std::string& name, const std::string& model_json, const std::string& manifest_json, const std::string& source,
                   std::int64_t train_run);
  // Every version (without the model texts), by name then version; one name only when given.
  std::vector<ModelVersion> list(const std::string& name = "");
  // "name" (its production version), "name@N"; InputError naming what exists.
  ModelVersion get(const std::string& reference);
  // That version into production; the one there before is retired. InputError for an unknown one.
  void promote(const std::string& name, std::int64_t version);
  // Production goes back to the version that was in production before it; returns it.
  std::int64_t rollback(const std::string& name);

 private:
  Journal& journal_;
};

}  // namespace onepath
