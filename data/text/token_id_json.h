// A token id read from tokenizer JSON: a non-negative integer below 2^31, nothing else (a fraction, a negative id or
// one past int32 would otherwise wrap into another token, or index outside the id table).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.h"

namespace drllm::text {

inline int32_t token_id_from_json(const nlohmann::json& v, const std::string& what, const std::string& source) {
  DRLLM_CHECK(v.is_number_integer() && (v.is_number_unsigned() || v.get<int64_t>() >= 0) &&
                  v.get<uint64_t>() < static_cast<uint64_t>(INT32_MAX),
              source, ": ", what, " has id ", v.dump(), "; a token id is an integer in [0, 2^31 - 1)");
  return static_cast<int32_t>(v.get<int64_t>());
}

}  // namespace drllm::text
