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

#include "model/model_files.h"
#include "common/console.h"
#include "cli/commands.h"
#include "data/labels/label_summary.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "data/text/chat_template.h"
#include "data/labels/label_store.h"
#include "data/labels/official_json.h"
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
  labels::check_manifest(dir);
  labels::LabelSet labels = labels::read_label_set(dir);
  json s = labels::summarize_labels(labels);
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

void export_labels(const std::string& dir, const std::string& out) {
  labels::LabelSet labels = labels::read_label_set(dir);
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
  nlohmann::json r = labels::to_official_json(labels, stamp);
  write_file_atomically(out, [&](std::ostream& o) {
    o << r.dump(4, ' ', false, json::error_handler_t::replace) << "\n";
  });
  log_info() << "exported " << labels.rows.size() << " examples to " << out << "\n";
}

struct ImportOptions {
  std::string input, out, model = default_model_dir(), instruct = "auto", chat_template;
};

// Official JSON -> one shard. The prompt tokens come from `questions` (the task prompt, wrapped in the model's
// chat template for instruct models, as the search does), so the labels can train routers for --model.
void import_labels(const ImportOptions& o) {
  // 1. The model the labels are for: its layer count, tokenizer, chat template and fingerprint.
  const model::ModelFiles files = model::ModelFiles::open(o.model);
  const int64_t L = files.config().num_layers;
  text::Tokenizer tokenizer = files.tokenizer();
  std::optional<text::ChatTemplate> chat;
  if (tasks::resolve_instruct(o.instruct, o.model)) chat = files.chat_template(o.chat_template);

  // 2. The official file, as rows for that model.
  labels::OfficialLabels official = labels::read_official_json(
      o.input,
      [&](const std::vector<int64_t>& path) {
        try {
          return model::LayerPlan::from_path(path, L).counts();
        } catch (const Error& e) {
          throw Error(cat("does not fit a ", L, "-layer model: ", e.what()));
        }
      },
      [&](const std::string& question) {
        return tokenizer.encode(chat ? chat->render({{"user", question}}, true) : question, !chat);
      });
  std::vector<labels::LabelRow>& rows = official.rows;
  const size_t n = rows.size();
  labels::ShardHeader header;
  header.model_fingerprint = files.fingerprint();
  header.dataset = cat(official.dataset, " (imported from ", fs::path(o.input).filename().string(), ")");
  json config = {{"imported", true}, {"model_name", official.model_name}};
  config.update(official.settings);
  header.search_config = config.dump();
  header.num_layers = L;

  // 3. One shard, refused beside shards of another model or run.
  fs::create_directories(o.out);
  for (const std::string& existing : labels::list_shards(o.out)) {
    std::string diff = labels::header_mismatch(header, labels::read_shard(existing).header);
    DRLLM_CHECK(diff.empty(), existing, " is from ", diff, "; import into another folder");
  }
  std::string path = labels::next_shard_path(o.out, 0);
  labels::write_shard(path, header, rows);
  labels::rebuild_manifest(o.out);
  log_info() << "imported " << n << " examples into " << path << "\n";
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
