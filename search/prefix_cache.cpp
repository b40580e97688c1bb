#include "search/prefix_cache.h"

#include "common/error.h"

namespace drllm::search {

void PrefixStateCache::clear() {
  entries_.clear();
  bytes_ = 0;
}

void PrefixStateCache::begin_call(const model::LayerPlan& plan, const std::vector<TokenId>& generated) {
  plan_ = &plan;
  call_key_.assign(reinterpret_cast<const char*>(generated.data()), generated.size() * sizeof(TokenId));
  call_key_ += '|';
}

// The call's tokens, then the plan's counts of layers 0..layer.
std::string PrefixStateCache::key(int64_t layer) const {
  DRLLM_CHECK(plan_ != nullptr, "PrefixStateCache: begin_call was not called");
  std::string k = call_key_;
  k.append(reinterpret_cast<const char*>(plan_->counts().data()), static_cast<size_t>(layer) + 1);
  return k;
}

bool PrefixStateCache::lookup(int64_t layer, at::Tensor& hidden_after, std::vector<Append>& appends) {
  auto it = entries_.find(key(layer));
  if (it == entries_.end()) {
    ++misses_;
    return false;
  }
  ++hits_;
  hidden_after = it->second.hidden_after;
  appends = it->second.appends;
  return true;
}

void PrefixStateCache::store(int64_t layer, const at::Tensor& hidden_after, const std::vector<Append>& appends) {
  size_t size = static_cast<size_t>(hidden_after.numel() * hidden_after.element_size());
  for (const Append& a : appends)
    size += static_cast<size_t>((a.keys.numel() + a.values.numel()) * a.keys.element_size());
  if (bytes_ + size > max_bytes_) return;
  auto [it, inserted] = entries_.emplace(key(layer), Entry{hidden_after, appends});
  if (inserted) bytes_ += size;
}

}  // namespace drllm::search
