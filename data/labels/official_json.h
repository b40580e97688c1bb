// The label file of the released Dr.LLM code (data_generation.py's `results` JSON): per-example parallel lists
// (best_path, good_paths, questions, original_correct, mcts_correct, improved_cases, path_lengths, unique_layers,
// best_response) and the run's settings. drllm writes it from a label folder and reads it into label rows.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/token_id.h"
#include "data/labels/label_store.h"

namespace drllm::labels {

// The official file's fields from our rows. As in the released code, `best_response` holds the gold answer; the
// extra `item_ids` keeps the examples' ids. `timestamp` is written as given ("%Y-%m-%d %H:%M:%S").
nlohmann::json to_official_json(const LabelSet& labels, const std::string& timestamp);

// What an official file holds, as label rows. `labels_of_path` turns a best_path into per-layer labels for the
// model the rows are for (throwing when it does not fit); `prompt_tokens` tokenizes a question as that model reads
// it. Rows are numbered 0.. in file order; ids are `item_ids` when present, else "imported-<i>". Every list is
// checked to have one entry per example; a bad entry is an error naming the file, the example and the field.
struct OfficialLabels {
  std::string dataset, model_name;
  nlohmann::json settings;  // simulations, exploration, length_penalty, random_prob
  std::vector<LabelRow> rows;
};
OfficialLabels read_official_json(const std::string& path,
                                  const std::function<std::vector<uint8_t>(const std::vector<int64_t>&)>& labels_of_path,
                                  const std::function<std::vector<TokenId>(const std::string&)>& prompt_tokens);

}  // namespace drllm::labels
