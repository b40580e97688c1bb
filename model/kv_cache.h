// KvCache: keys and values of every executed layer visit, for prefill then token-by-token decode.
// Repeat semantics (docs/architecture.md, docs/method.md):
//   Shared   - both passes of a repeated layer append to that layer's one slot, as Hugging Face's
//              DynamicCache does when the official code runs a block twice (reproduces the paper);
//   Separate - the second pass is a virtual layer L + l with a slot of its own.
// Slots grow by doubling; `position()` is the number of sequence positions already processed, which is not
// a slot's length when a layer was skipped (0 entries) or repeated in shared mode (2 per position).
#pragma once

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

namespace drllm::model {

enum class RepeatKv { Shared, Separate };

RepeatKv parse_repeat_kv(const std::string& text);  // "shared" | "separate"
std::string to_string(RepeatKv mode);

class KvCache {
 public:
  KvCache(int64_t num_layers, RepeatKv mode, int64_t initial_capacity = 256);

  // The slot of pass `pass` (0 or 1) of `layer`.
  int64_t slot(int64_t layer, int pass) const;

  // Appends k, v [B, Hkv, T, Dh] to a slot; returns the slot's whole keys and values [B, Hkv, len, Dh].
  std::pair<at::Tensor, at::Tensor> append(int64_t slot, const at::Tensor& k, const at::Tensor& v);

  int64_t length(int64_t slot) const;
  // Keys and values [B, Hkv, end - begin, Dh] of entries [begin, end) of a slot (views).
  std::pair<at::Tensor, at::Tensor> range(int64_t slot, int64_t begin, int64_t end) const;
  int64_t position() const { return position_; }
  void advance(int64_t tokens) { position_ += tokens; }
  RepeatKv mode() const { return mode_; }
  void clear();

  // In a pipeline (model/stage_messages.h) the later stages keep this cache's slots of their layers under a
  // handle; `release` runs when the last copy of this cache goes, so that they free theirs.
  uint64_t handle() const { return handle_; }
  void set_handle(uint64_t handle, std::shared_ptr<void> release) {
    handle_ = handle;
    release_ = std::move(release);
  }

 private:
  struct Slot {
    at::Tensor keys;    // [B, Hkv, capacity, Dh]
    at::Tensor values;  // [B, Hkv, capacity, Dh]
    int64_t length = 0;
  };
  int64_t num_layers_;
  RepeatKv mode_;
  int64_t initial_capacity_;
  int64_t position_ = 0;
  std::vector<Slot> slots_;
  uint64_t handle_ = 0;
  std::shared_ptr<void> release_;
};

}  // namespace drllm::model
