// Python's str.replace and str.split(sep), for the places that port Python text handling.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace drllm {

// Every occurrence of `from` replaced by `to`, left to right, non-overlapping (an empty `from` changes nothing).
inline std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  size_t start = 0;
  for (size_t at; !from.empty() && (at = s.find(from, start)) != std::string_view::npos; start = at + from.size()) {
    out.append(s, start, at - start);
    out.append(to);
  }
  out.append(s.substr(start));
  return out;
}

// Python's s.split(sep): empty pieces kept, one more piece than separators.
inline std::vector<std::string> split_string(std::string_view s, std::string_view sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t at; !sep.empty() && (at = s.find(sep, start)) != std::string_view::npos; start = at + sep.size())
    parts.emplace_back(s.substr(start, at - start));
  parts.emplace_back(s.substr(start));
  return parts;
}

}  // namespace drllm
