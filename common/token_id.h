// TokenId: a token of a vocabulary, the one type the tokenizer, the model and the label store use (as llama.cpp's
// llama_token). 32 bits hold every vocabulary there is; tensors of ids are made int64 (at::kLong) where LibTorch
// wants them, inside the backbone.
#pragma once

#include <cstdint>

namespace drllm {

using TokenId = int32_t;

}  // namespace drllm
