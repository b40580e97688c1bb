// Models in the local Hugging Face hub cache, found the way transformers finds them, so that `--model ORG/NAME`
// points at a snapshot a user already downloaded with transformers or huggingface-cli. The layout (huggingface_hub's
// "cache system"): HUB/models--ORG--NAME/refs/REF holds a commit hash, HUB/models--ORG--NAME/snapshots/HASH/ the
// files (symlinks into blobs/). HUB is $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub,
// else ~/.cache/huggingface/hub.
#pragma once

#include <string>

namespace drllm::model {

std::string hf_hub_cache_dir();

// Whether `name` has the shape of a hub repo id: ORG/NAME, optionally @REVISION (a branch or tag under refs/, or a
// commit hash), with no path-like parts ("./", "../", a leading "/", more than one "/").
bool looks_like_hf_repo_id(const std::string& name);

// The snapshot folder of ORG/NAME[@REVISION] (default revision: main). A snapshot without config.json but with
// exactly one .gguf file resolves to that file. Anything else is an error that says where it looked and how to
// download the model.
std::string resolve_hf_snapshot(const std::string& repo_id);

}  // namespace drllm::model
