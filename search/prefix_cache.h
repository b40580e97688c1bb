// PrefixStateCache: layer results shared between the plans of one example's search. The result of layer l in a
// forward call (the hidden state after it and the keys/values it appended) depends only on the prompt, the tokens
// generated before the call and the plan's counts for layers 0..l. So a plan that agrees with one already run on
// those reuses the result instead of computing it: in the prefill, and in every decode step while the generated
// tokens agree. Bounded by a memory limit: past it, new results are not kept (those kept stay valid).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/backbone.h"

namespace drllm::search {

class PrefixStateCache : public model::LayerResultCache {
 public:
  explicit PrefixStateCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  void clear();  // a new example (another prompt): nothing carries over
  // The forward call about to run: its plan and the tokens generated before it.
  void begin_call(const model::LayerPlan& plan, const std::vector<TokenId>& generated);

  bool lookup(int64_t layer, at::Tensor& hidden_after, std::vector<Append>& appends) override;
  void store(int64_t layer, const at::Tensor& hidden_after, const std::vector<Append>& appends) override;

  size_t bytes() const { return bytes_; }
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  std::string key(int64_t layer) const;

  struct Entry {
    at::Tensor hidden_after;
    std::vector<Append> appends;
  };
  size_t max_bytes_;
  size_t bytes_ = 0;
  int64_t hits_ = 0, misses_ = 0;
  std::string call_key_;             // the generated tokens before this call
  const model::LayerPlan* plan_ = nullptr;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace drllm::search
