// drllm labels: the label folder's tools.
//   inspect DIR         counts, accuracies, label distribution per layer (verifies every shard)
//   merge DIR           rebuilds DIR/manifest.json from the shards
//   export DIR OUT      the official data_generation.py JSON (best_path, good_paths, questions, ...)
//   import IN --out DIR official JSON -> a shard, tokenized for --model
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/commands.h"
#include "cli/model_resources.h"
#include "cli/search_summary.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "data/text/chat_template.h"
#include "data/labels/label_store.h"
#include "data/tasks/prompts.h"
#include "data/tasks/task.h"
#include "data/text/tokenizer.h"
#include "model/fingerprint.h"
#include "model/layer_plan.h"
#include "model/model_config.h"

namespace drllm::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void inspect_labels(const std::string& dir, bool as_json) {
  labels::LabelSet labels = labels::read_label_set(dir);
  json s = summarize_labels(labels);
  if (as_json) {
    std::cout << s.dump(2) << "\n";
    return;
  }
  std::cout << "labels              " << dir << "\n"
            << "shards              " << labels.shards.size() << " (all verified)\n"
            << "examples            " << s["examples"] << "\n"
            << "model fingerprint   " << labels.header.model_fingerprint << "\n"
            << "dataset             " << labels.header.dataset << "\n"
            << "search config       " << labels.header.search_config << "\n"
            << "router features     "
            << (labels.header.feature_dim ? cat("yes, d = ", labels.header.feature_dim) : std::string("no")) << "\n"
            << std::fixed << std::setprecision(3) << "default accuracy    " << s["default_accuracy"].get<double>()
            << "\nbest accuracy       " << s["best_accuracy"].get<double>() << "\nimproved share      "
            << s["improved_share"].get<double>() << "\naverage path length " << s["average_path_length"].get<double>()
            << " of " << labels.header.num_layers << "\nevaluations/example " << s["evaluations_per_example"].get<double>()
            << "\n\nlayer   skip  execute  repeat\n";
  int layer = 0;
  for (const json& c : s["labels_per_layer"])
    std::cout << std::setw(5) << layer++ << std::setw(7) << c["skip"].get<int64_t>() << std::setw(9)
              << c["execute"].get<int64_t>() << std::setw(8) << c["repeat"].get<int64_t>() << "\n";
}

int64_t distinct_layers(const std::vector<int16_t>& path) {
  return static_cast<int64_t>(std::set<int16_t>(path.begin(), path.end()).size());
}

// The official file's fields (data_generation.py's `results`), from our rows. As there, `best_response` holds the
// gold answer; our extra `item_ids` keeps the examples' ids.
void export_labels(const std::string& dir, const std::string& out) {
  labels::LabelSet labels = labels::read_label_set(dir);
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
            {"repeat_count", {0, 1}}};
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
  r["timestamp"] = stamp;
  json original = json::array(), mcts = json::array(), improved = json::array(), lengths = json::array(),
       unique = json::array(), best = json::array(), good = json::array(), responses = json::array(),
       questions = json::array(), ids = json::array();
  double n = static_cast<double>(labels.rows.size()), sum_original = 0, sum_mcts = 0, sum_improved = 0,
         sum_length = 0, sum_unique = 0;
  for (const labels::LabelRow& row : labels.rows) {
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
  write_file_atomically(out, [&](std::ostream& o) {
    o << r.dump(4, ' ', false, json::error_handler_t::replace) << "\n";
  });
  std::cerr << "exported " << labels.rows.size() << " examples to " << out << "\n";
}

struct ImportOptions {
  std::string input, out, model = default_model_dir(), instruct = "auto", chat_template;
};

// Official JSON -> one shard. The prompt tokens come from `questions` (the task prompt, wrapped in the model's
// chat template for instruct models, as the search does), so the labels can train routers for --model.
void import_labels(const ImportOptions& o) {
  std::ifstream in(o.input);
  DRLLM_CHECK(in, o.input, ": cannot open");
  json r;
  try {
    r = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(cat(o.input, ": not JSON: ", e.what()));
  }
  for (const char* key : {"best_path", "questions", "original_correct", "mcts_correct"})
    DRLLM_CHECK(r.contains(key) && r[key].is_array(), o.input, ": missing list '", key, "'");
  const size_t n = r["best_path"].size();
  for (const char* key : {"questions", "original_correct", "mcts_correct", "improved_cases", "good_paths",
                          "best_response", "item_ids"})
    if (r.contains(key))
      DRLLM_CHECK(r[key].size() == n, o.input, ": '", key, "' has ", r[key].size(), " entries, best_path ", n);
  DRLLM_CHECK(n > 0, o.input, ": no examples");

  model::ModelConfig config = model_config_of(o.model);
  const int64_t L = config.num_layers;
  text::Tokenizer tokenizer = text::Tokenizer::from_file(tokenizer_path_for(o.model, ""));
  const bool instruct = tasks::resolve_instruct(o.instruct, o.model);
  std::optional<text::ChatTemplate> chat;
  if (instruct) chat = chat_template_for(o.model, o.chat_template);

  labels::ShardHeader header;
  header.model_fingerprint = model::summarize_checkpoint(o.model).fingerprint;
  header.dataset = cat(r.value("dataset", std::string("unknown")), " (imported from ", fs::path(o.input).filename().string(), ")");
  header.search_config = json{{"imported", true},
                              {"model_name", r.value("model_name", std::string())},
                              {"simulations", r.value("num_simulations", 0)},
                              {"exploration", r.value("exploration_constant", 0.0)},
                              {"length_penalty", r.value("length_penalty", 0.0)},
                              {"random_prob", r.value("random_prob", 0.0)}}
                             .dump();
  header.num_layers = L;
  std::vector<labels::LabelRow> rows(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string where = cat(o.input, ": example ", i);
    labels::LabelRow& row = rows[i];
    std::vector<int64_t> path;
    try {
      path = r["best_path"][i].get<std::vector<int64_t>>();
    } catch (const json::exception&) {
      throw Error(cat(where, ": best_path is not a list of layer indices"));
    }
    model::LayerPlan plan;
    try {
      plan = model::LayerPlan::from_path(path, L);
    } catch (const Error& e) {
      throw Error(cat(where, ": best_path does not fit a ", L, "-layer model: ", e.what()));
    }
    row.item_id = r.contains("item_ids") ? r["item_ids"][i].get<std::string>() : cat("imported-", i);
    row.example_index = static_cast<uint32_t>(i);
    row.labels = plan.counts();
    for (int64_t layer : path) row.best_path.push_back(static_cast<int16_t>(layer));
    row.baseline_correct = static_cast<uint8_t>(r["original_correct"][i].get<double>() > 0.5);
    row.best_correct = static_cast<uint8_t>(r["mcts_correct"][i].get<double>() > 0.5);
    row.improved = r.contains("improved_cases") ? static_cast<uint8_t>(r["improved_cases"][i].get<bool>())
                                                : static_cast<uint8_t>(row.best_correct && !row.baseline_correct);
    row.question = r["questions"][i].get<std::string>();
    row.gold = r.contains("best_response") ? r["best_response"][i].get<std::string>() : "";
    row.good_paths = r.contains("good_paths") ? r["good_paths"][i].dump() : "[]";
    std::string text = chat ? chat->render({{"user", row.question}}, true) : row.question;
    std::vector<int32_t> ids = tokenizer.encode(text, !chat);
    row.prompt_tokens.assign(ids.begin(), ids.end());
  }
  fs::create_directories(o.out);
  for (const std::string& existing : labels::list_shards(o.out)) {
    std::string diff = labels::header_mismatch(header, labels::read_shard(existing).header);
    DRLLM_CHECK(diff.empty(), existing, " is from ", diff, "; import into another folder");
  }
  std::string path = labels::next_shard_path(o.out, 0);
  labels::write_shard(path, header, rows);
  labels::rebuild_manifest(o.out);
  std::cerr << "imported " << n << " examples into " << path << "\n";
}

}  // namespace

void add_labels(CLI::App& app) {
  auto* labels = app.add_subcommand("labels", "inspect, merge, export and import label folders");
  labels->require_subcommand(1);

  auto* inspect = labels->add_subcommand("inspect", "counts, accuracies and label distribution (verifies shards)");
  auto inspect_dir = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  inspect->add_option("dir", *inspect_dir, "label folder")->required()->check(CLI::ExistingDirectory);
  inspect->add_flag("--json", *as_json, "print JSON");
  inspect->callback([inspect_dir, as_json] { inspect_labels(*inspect_dir, *as_json); });

  auto* merge = labels->add_subcommand("merge", "rebuild manifest.json from the shards");
  auto merge_dir = std::make_shared<std::string>();
  merge->add_option("dir", *merge_dir, "label folder")->required()->check(CLI::ExistingDirectory);
  merge->callback([merge_dir] {
    int64_t rows = labels::rebuild_manifest(*merge_dir);
    std::cout << *merge_dir << "/manifest.json: " << labels::list_shards(*merge_dir).size() << " shards, " << rows
              << " rows\n";
  });

  auto* exp = labels->add_subcommand("export", "write the official data_generation.py JSON");
  auto export_dir = std::make_shared<std::string>();
  auto export_out = std::make_shared<std::string>();
  exp->add_option("dir", *export_dir, "label folder")->required()->check(CLI::ExistingDirectory);
  exp->add_option("out", *export_out, "JSON file to write")->required();
  exp->callback([export_dir, export_out] { export_labels(*export_dir, *export_out); });

  auto* imp = labels->add_subcommand("import", "official JSON -> a label shard for --model");
  auto o = std::make_shared<ImportOptions>();
  imp->add_option("input", o->input, "official JSON file")->required()->check(CLI::ExistingFile);
  imp->add_option("--out", o->out, "label folder")->required();
  imp->add_option("--model", o->model, "the model the labels are for (tokenizer, layer count, fingerprint)")
      ->capture_default_str();
  imp->add_option("--instruct", o->instruct, "auto (from the model name), yes or no")
      ->capture_default_str()->check(CLI::IsMember({"auto", "yes", "no"}));
  imp->add_option("--chat-template", o->chat_template, "template by name (default: the model's)");
  imp->callback([o] { import_labels(*o); });
}

}  // namespace drllm::cli
