#pragma once
// The dossier as one self-contained HTML page (no script, no file beside it), drawn from its
// JSON so the page and the JSON can never disagree.
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace onepath {

std::string render_dossier_html(const nlohmann::json& dossier);

}  // namespace onepath
