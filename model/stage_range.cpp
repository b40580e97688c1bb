#include "model/stage_range.h"

#include <algorithm>
#include <limits>

#include "common/error.h"
#include "model/model_config.h"

namespace drllm::model {
namespace {

// Values of one decoder block (weights.h's layout before fusion: the same count).
int64_t block_values(const ModelConfig& c) {
  const int64_t D = c.hidden_size, F = c.intermediate_size, Dh = c.head_dim;
  const int64_t q = c.num_heads * Dh, kv = c.num_kv_heads * Dh;
  int64_t n = 2 * D;                           // input and post-attention norms
  n += D * (q + 2 * kv) + (c.qkv_bias ? q + 2 * kv : 0);
  n += q * D + (c.o_bias ? D : 0);
  n += 3 * D * F + (c.mlp_bias ? 2 * F + D : 0);
  if (c.qk_norm) n += 2 * Dh;
  return n;
}

}  // namespace

StageRange whole_model(const ModelConfig& config) { return StageRange{0, config.num_layers, 0, 1}; }

int64_t stage_parameter_bytes(const ModelConfig& c, int64_t begin, int64_t end, bool first, bool last,
                              int64_t bytes_per_value) {
  int64_t values = (end - begin) * block_values(c);
  if (first) values += c.vocab_size * c.hidden_size;
  if (last) values += c.hidden_size + c.vocab_size * c.hidden_size;
  return values * bytes_per_value;
}

std::vector<StageRange> split_by_parameter_bytes(const ModelConfig& c, int stages) {
  const int64_t L = c.num_layers;
  DRLLM_CHECK(stages >= 1, "--pipeline-stages must be at least 1, got ", stages);
  DRLLM_CHECK(stages <= L, "--pipeline-stages ", stages, " is more than the model's ", L,
              " layers: each stage needs at least one");
  // best[s][e]: the least possible largest stage over stages 0..s-1 covering layers [0, e); cut[s][e] its last cut.
  constexpr int64_t kInf = std::numeric_limits<int64_t>::max();
  const size_t S = static_cast<size_t>(stages), n = static_cast<size_t>(L) + 1;
  std::vector<std::vector<int64_t>> best(S + 1, std::vector<int64_t>(n, kInf)), cut(S + 1, std::vector<int64_t>(n, 0));
  best[0][0] = 0;
  for (size_t s = 1; s <= S; ++s)
    for (int64_t e = static_cast<int64_t>(s); e <= L; ++e)
      for (int64_t b = static_cast<int64_t>(s) - 1; b < e; ++b) {  // the stage s-1 holds [b, e)
        const int64_t before = best[s - 1][static_cast<size_t>(b)];
        if (before == kInf) continue;
        const int64_t here = stage_parameter_bytes(c, b, e, s == 1, s == S && e == L, 1);
        const int64_t worst = std::max(before, here);
        if (worst < best[s][static_cast<size_t>(e)]) {  // strict: the first (smallest) b wins a tie
          best[s][static_cast<size_t>(e)] = worst;
          cut[s][static_cast<size_t>(e)] = b;
        }
      }
  std::vector<StageRange> out(S);
  int64_t e = L;
  for (size_t s = S; s >= 1; --s) {
    const int64_t b = cut[s][static_cast<size_t>(e)];
    out[s - 1] = StageRange{b, e, static_cast<int>(s - 1), stages};
    e = b;
  }
  return out;
}

}  // namespace drllm::model
