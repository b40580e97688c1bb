#include "model/kv_cache.h"

#include <algorithm>

#include "common/error.h"

namespace drllm::model {

RepeatKv parse_repeat_kv(const std::string& text) {
  if (text == "shared") return RepeatKv::Shared;
  if (text == "separate") return RepeatKv::Separate;
  throw Error(cat("repeat KV semantics '", text, "' is not known; use 'shared' or 'separate'"));
}

std::string to_string(RepeatKv mode) { return mode == RepeatKv::Shared ? "shared" : "separate"; }

KvCache::KvCache(int64_t num_layers, RepeatKv mode, int64_t initial_capacity)
    : num_layers_(num_layers),
      mode_(mode),
      initial_capacity_(std::max<int64_t>(initial_capacity, 1)),
      slots_(static_cast<size_t>(mode == RepeatKv::Shared ? num_layers : 2 * num_layers)) {}

int64_t KvCache::slot(int64_t layer, int pass) const {
  DRLLM_CHECK(layer >= 0 && layer < num_layers_ && (pass == 0 || pass == 1), "KV cache: no slot for layer ",
              layer, " pass ", pass);
  return (pass == 1 && mode_ == RepeatKv::Separate) ? num_layers_ + layer : layer;
}

std::pair<at::Tensor, at::Tensor> KvCache::append(int64_t slot_index, const at::Tensor& k, const at::Tensor& v) {
  DRLLM_CHECK(k.dim() == 4 && k.sizes() == v.sizes(), "KV cache: keys and values must both be [B, Hkv, T, Dh]");
  Slot& s = slots_.at(static_cast<size_t>(slot_index));
  const int64_t t = k.size(2);
  if (!s.keys.defined() || s.length + t > s.keys.size(2)) {
    // Grow by doubling so decode appends stay amortised O(1).
    int64_t capacity = std::max({initial_capacity_, s.length + t, s.keys.defined() ? 2 * s.keys.size(2) : 0});
    at::Tensor keys = at::empty({k.size(0), k.size(1), capacity, k.size(3)}, k.options());
    at::Tensor values = at::empty_like(keys);
    if (s.length > 0) {
      keys.narrow(2, 0, s.length).copy_(s.keys.narrow(2, 0, s.length));
      values.narrow(2, 0, s.length).copy_(s.values.narrow(2, 0, s.length));
    }
    s.keys = keys;
    s.values = values;
  } else {
    DRLLM_CHECK(s.keys.size(0) == k.size(0) && s.keys.size(1) == k.size(1) && s.keys.size(3) == k.size(3),
                "KV cache: slot ", slot_index, " holds [B, Hkv, *, Dh] = ", s.keys.sizes(),
                " but the new keys are ", k.sizes());
  }
  s.keys.narrow(2, s.length, t).copy_(k);
  s.values.narrow(2, s.length, t).copy_(v);
  s.length += t;
  return {s.keys.narrow(2, 0, s.length), s.values.narrow(2, 0, s.length)};
}

int64_t KvCache::length(int64_t slot_index) const { return slots_.at(static_cast<size_t>(slot_index)).length; }

std::pair<at::Tensor, at::Tensor> KvCache::range(int64_t slot_index, int64_t begin, int64_t end) const {
  const Slot& s = slots_.at(static_cast<size_t>(slot_index));
  DRLLM_CHECK(begin >= 0 && begin <= end && end <= s.length, "KV cache: range [", begin, ", ", end, ") of slot ",
              slot_index, " holding ", s.length, " entries");
  return {s.keys.narrow(2, begin, end - begin), s.values.narrow(2, begin, end - begin)};
}

void KvCache::clear() {
  for (Slot& s : slots_) s = Slot{};
  position_ = 0;
}

}  // namespace drllm::model
