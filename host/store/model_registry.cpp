#include "store/model_registry.hpp"

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "core/time.hpp"

namespace onepath {
namespace {

constexpr const char* kColumns = "version, name, status, sha256, source, train_run, created_at, promoted_at";

ModelVersion read(const Statement& s) {
  ModelVersion m;
  m.version = s.int64(0);
  m.name = s.text(1);
  m.status = s.text(2);
  m.sha256 = s.text(3);
  m.source = s.text(4);
  m.train_run = s.is_null(5) ? 0 : s.int64(5);
  m.created_at = s.int64(6);
  m.promoted_at = s.is_null(7) ? 0 : s.int64(7);
  return m;
}

template <class F>
void in_transaction(Db& db, F&& work) {
  db.begin();
  try {
    work();
    db.commit();
  } catch (...) {
    db.rollback();
    throw;
  }
}

}  // namespace

std::int64_t ModelRegistry::add(const std::string& name, const std::string& model_json, const std::string& manifest_json, const std::string& source,
                                std::int64_t train_run) {
  if (name.empty() || name.find('@') != std::string::npos) throw InputError("a model's name must not be empty or contain '@': '" + name + "'");
  Db& db = journal_.db();
  std::int64_t version = 0;
  in_transaction(db, [&] {
    auto q = db.prepare("SELECT COALESCE(MAX(version), 0) FROM models WHERE name = $1");
    q->bind(1, name);
    q->step();
    version = q->int64(0) + 1;
    auto ins = db.prepare(
        "INSERT INTO models (name, version, created_at, status, sha256, model, manifest, source, train_run) VALUES ($1, $2, $3, 'candidate', $4, $5, $6, $7, $8)");
    ins->bind(1, name);
    ins->bind(2, version);
    ins->bind(3, now_ms());
    ins->bind(4, sha256_hex(model_json));
    ins->bind(5, model_json);
    ins->bind(6, manifest_json);
    ins->bind(7, source);
    if (train_run) ins->bind(8, train_run); else ins->bind_null(8);
    ins->step();
  });
  return version;
}

std::vector<ModelVersion> ModelRegistry::list(const std::string& name) {
  auto q = journal_.db().prepare(std::string("SELECT ") + kColumns + " FROM models" + (name.empty() ? "" : " WHERE name = $1") + " ORDER BY name, version");
  if (!name.empty()) q->bind(1, name);
  std::vector<ModelVersion> out;
  while (q->step()) out.push_back(read(*q));
  return out;
}

ModelVersion ModelRegistry::get(const std::string& reference) {
  const auto at = reference.find('@');
  const std::string name = reference.substr(0, at);
  std::unique_ptr<Statement> q;
  if (at == std::string::npos) {
    q = journal_.db().prepare(std::string("SELECT ") + kColumns + ", model, manifest FROM models WHERE name = $1 AND status = 'production'");
    q->bind(1, name);
  } else {
    std::int64_t version = 0;
    try {
      version = std::stoll(reference.substr(at + 1));
    } catch (...) {
      throw InputError("model '" + reference + "': after '@' comes a version number");
    }
    q = journal_.db().prepare(std::string("SELECT ") + kColumns + ", model, manifest FROM models WHERE name = $1 AND version = $2");
    q->bind(1, name);
    q->bind(2, version);
  }
  if (q->step()) {
    ModelVersion m = read(*q);
    m.model_json = q->text(8);
    m.manifest_json = q->text(9);
    return m;
  }
  const auto versions = list(name);
  if (versions.empty()) throw InputError("no model '" + name + "' in the registry " + journal_.db().describe() + " ('onepath models list')");
  throw InputError("model '" + reference + "': " +
                   (at == std::string::npos ? std::string("no version is in production ('onepath models promote ") + name + " VERSION')"
                                            : "no such version (versions 1 to " + std::to_string(versions.back().version) + ")"));
}

void ModelRegistry::promote(const std::string& name, std::int64_t version) {
  get(name + "@" + std::to_string(version));  // it exists
  Db& db = journal_.db();
  in_transaction(db, [&] {
    auto retire = db.prepare("UPDATE models SET status = 'retired' WHERE name = $1 AND status = 'production'");
    retire->bind(1, name);
    retire->step();
    auto up = db.prepare("UPDATE models SET status = 'production', promoted_at = $1 WHERE name = $2 AND version = $3");
    up->bind(1, now_ms());
    up->bind(2, name);
    up->bind(3, version);
    up->step();
  });
}

std::int64_t ModelRegistry::rollback(const std::string& name) {
  const auto versions = list(name);
  const ModelVersion* current = nullptr;
  for (const auto& v : versions)
    if (v.status == "production") current = &v;
  if (!current) throw InputError("model '" + name + "' has no version in production to roll back from");
  const ModelVersion* before = nullptr;
  for (const auto& v : versions)
    if (v.version != current->version && v.promoted_at && v.promoted_at <= current->promoted_at && (!before || v.promoted_at > before->promoted_at)) before = &v;
  if (!before) throw InputError("model '" + name + "': version " + std::to_string(current->version) + " is the first ever in production; nothing to roll back to");
  const std::int64_t version = before->version;
  promote(name, version);
  return version;
}

}  // namespace onepath
