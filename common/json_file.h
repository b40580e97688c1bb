// A JSON file read whole, with errors that name the file. Header-only: callers link nlohmann_json themselves.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.h"
#include "common/input_file.h"

namespace drllm {

inline nlohmann::json read_json_file(const std::string& path) {
  check_input_file(path, "JSON file", 1 * kGiB);
  std::ifstream in(path);
  DRLLM_CHECK(in, path, ": cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(cat(path, ": not valid JSON (", e.what(), ")"));
  }
}

}  // namespace drllm
