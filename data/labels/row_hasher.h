// The label store's canonical serialisation for checksums: length-prefixed fields, so that no two different rows
// serialise alike. Shared by the shard reader and writer (label_store.cpp) and the streamed features' check
// (shard_features.cpp), which must hash exactly alike.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/sha256.h"

namespace drllm::labels {

class RowHasher {
 public:
  void bytes(const void* data, size_t size) {
    uint64_t n = size;
    hash_.update(std::string_view(reinterpret_cast<const char*>(&n), sizeof n));
    hash_.update(std::string_view(static_cast<const char*>(data), size));
  }
  void text(const std::string& s) { bytes(s.data(), s.size()); }
  template <typename T>
  void list(const std::vector<T>& v) { bytes(v.data(), v.size() * sizeof(T)); }
  template <typename T>
  void value(T v) { bytes(&v, sizeof v); }
  std::string hex() { return hash_.hex_digest(); }

 private:
  Sha256 hash_;
};

}  // namespace drllm::labels
