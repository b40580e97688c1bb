// drllm::Error: the one exception type every drllm library throws.
// Messages say what failed, where (file, tensor, field, line), expected vs found, and a hint when there is
// one; callers add context by catching and rethrowing with a prefix (see DRLLM_CHECK below).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace drllm {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Builds a message from any streamable parts: throw Error(cat("tensor ", name, ": shape ", shape)).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

}  // namespace drllm

// Input checks that stay in release builds (never assert for input).
#define DRLLM_CHECK(cond, ...)                               \
  do {                                                       \
    if (!(cond)) throw ::drllm::Error(::drllm::cat(__VA_ARGS__)); \
  } while (0)
