#include "data/labels/official_json.h"

#include <map>
#include <fstream>
#include <set>

#include "common/error.h"
#include "common/input_file.h"

namespace drllm::labels {

namespace {

using nlohmann::json;

int64_t distinct_layers(const std::vector<int16_t>& path) {
  return static_cast<int64_t>(std::set<int16_t>(path.begin(), path.end()).size());
}

}  // namespace

json to_official_json(const LabelSet& labels, const std::string& timestamp) {
  json config = json::parse(labels.header.search_config);
  json r = {{"exp", "drllm"},
            {"num_simulations", config.value("simulations", 0)},
            {"exploration_constant", config.value("exploration", 0.0)},
            {"length_penalty", config.value("length_penalty", 0.0)},
            {"random_prob", config.value("random_prob", 0.0)},
            {"max_path_length", 2 * labels.header.num_layers},
            {"world_size", 1},
            {"num_samples", labels.rows.size()},
            {"model_name", labels.header.model_fingerprint},
            {"dataset", labels.header.dataset},
            {"visited_samples", labels.rows.size()},
            {"skip_size", {1, 2}},
            {"repeat_size", {1}},
            {"repeat_count", {0, 1}},
            {"timestamp", timestamp}};
  json original = json::array(), mcts = json::array(), improved = json::array(), lengths = json::array(),
       unique = json::array(), best = json::array(), good = json::array(), responses = json::array(),
       questions = json::array(), ids = json::array();
  double n = static_cast<double>(labels.rows.size()), sum_original = 0, sum_mcts = 0, sum_improved = 0,
         sum_length = 0, sum_unique = 0;
  for (const LabelRow& row : labels.rows) {
    original.push_back(int(row.baseline_correct));
    mcts.push_back(int(row.best_correct));
    improved.push_back(row.improved != 0);
    lengths.push_back(row.best_path.size());
    unique.push_back(distinct_layers(row.best_path));
    best.push_back(row.best_path);
    good.push_back(json::parse(row.good_paths));
    responses.push_back(row.gold);
    questions.push_back(row.question);
    ids.push_back(row.item_id);
    sum_original += row.baseline_correct;
    sum_mcts += row.best_correct;
    sum_improved += row.improved;
    sum_length += static_cast<double>(row.best_path.size());
    sum_unique += static_cast<double>(distinct_layers(row.best_path));
  }
  r["original_accuracy"] = 100 * sum_original / n;
  r["mcts_accuracy"] = 100 * sum_mcts / n;
  r["improved_cases_accuracy"] = 100 * sum_improved / n;
  r["average_path_length"] = sum_length / n;
  r["average_unique_layers"] = sum_unique / n;
  r["original_correct"] = original;
  r["mcts_correct"] = mcts;
  r["improved_cases"] = improved;
  r["path_lengths"] = lengths;
  r["unique_layers"] = unique;
  r["best_path"] = best;
  r["good_paths"] = good;
  r["best_response"] = responses;
  r["questions"] = questions;
  r["item_ids"] = ids;
  return r;
}

OfficialLabels read_official_json(const std::string& path,
                                  const std::function<std::vector<uint8_t>(const std::vector<int64_t>&)>& labels_of_path,
                                  const std::function<std::vector<TokenId>(const std::string&)>& prompt_tokens) {
  check_input_file(path, "official label JSON", 16 * kGiB);
  std::ifstream in(path);
  DRLLM_CHECK(in, path, ": cannot open");
  json r;
  try {
    r = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(cat(path, ": not JSON: ", e.what()));
  }
  DRLLM_CHECK(r.is_object(), path, ": expected a JSON object (the official label file)");
  for (const char* key : {"best_path", "questions", "original_correct", "mcts_correct"})
    DRLLM_CHECK(r.contains(key) && r[key].is_array(), path, ": missing list '", key, "'");
  const size_t n = r["best_path"].size();
  for (const char* key : {"questions", "original_correct", "mcts_correct", "improved_cases", "good_paths",
                          "best_response", "item_ids"})
    if (r.contains(key))
      DRLLM_CHECK(r[key].is_array() && r[key].size() == n, path, ": '", key, "' has ", r[key].size(),
                  " entries, best_path ", n);
  DRLLM_CHECK(n > 0, path, ": no examples");

  OfficialLabels out;
  out.dataset = r.value("dataset", std::string("unknown"));
  out.model_name = r.value("model_name", std::string());
  out.settings = {{"simulations", r.value("num_simulations", 0)},
                  {"exploration", r.value("exploration_constant", 0.0)},
                  {"length_penalty", r.value("length_penalty", 0.0)},
                  {"random_prob", r.value("random_prob", 0.0)}};
  out.rows.resize(n);
  std::map<std::string, size_t> first_of_item;
  for (size_t i = 0; i < n; ++i) {
    const std::string where = cat(path, ": example ", i);
    LabelRow& row = out.rows[i];
    try {
      std::vector<int64_t> best_path;
      try {
        best_path = r["best_path"][i].get<std::vector<int64_t>>();
      } catch (const json::exception&) {
        throw Error(cat(where, ": best_path is not a list of layer indices"));
      }
      try {
        row.labels = labels_of_path(best_path);
      } catch (const Error& e) {
        throw Error(cat(where, ": best_path ", e.what()));
      }
      for (int64_t layer : best_path) row.best_path.push_back(static_cast<int16_t>(layer));
      row.item_id = r.contains("item_ids") ? r["item_ids"][i].get<std::string>() : cat("imported-", i);
      row.example_index = static_cast<uint32_t>(i);
      row.baseline_correct = static_cast<uint8_t>(r["original_correct"][i].get<double>() > 0.5);
      row.best_correct = static_cast<uint8_t>(r["mcts_correct"][i].get<double>() > 0.5);
      row.improved = r.contains("improved_cases") ? static_cast<uint8_t>(r["improved_cases"][i].get<bool>())
                                                  : static_cast<uint8_t>(row.best_correct && !row.baseline_correct);
      row.question = r["questions"][i].get<std::string>();
      row.gold = r.contains("best_response") ? r["best_response"][i].get<std::string>() : "";
      row.good_paths = r.contains("good_paths") ? r["good_paths"][i].dump() : "[]";
      // Every good path must be a path of this model too: the writer's own readers refuse other layers.
      if (r.contains("good_paths")) {
        DRLLM_CHECK(r["good_paths"][i].is_array(), where, ": good_paths is not a list of paths");
        for (const json& path : r["good_paths"][i]) {
          std::vector<int64_t> layers;
          try {
            layers = path.get<std::vector<int64_t>>();
          } catch (const json::exception&) {
            throw Error(cat(where, ": a good path is not a list of layer indices: ", path.dump()));
          }
          try {
            labels_of_path(layers);
          } catch (const Error& e) {
            throw Error(cat(where, ": good path ", path.dump(), ": ", e.what()));
          }
        }
      }
    } catch (const json::exception& e) {
      throw Error(cat(where, ": a field has the wrong type (", e.what(), ")"));
    }
    const auto [first, fresh] = first_of_item.emplace(row.item_id, i);
    DRLLM_CHECK(fresh, path, ": examples ", first->second, " and ", i, " have the same item id '", row.item_id,
                "'; every example needs its own");
    row.prompt_tokens = prompt_tokens(row.question);
  }
  return out;
}

}  // namespace drllm::labels
