// The benches' workload: the default model opened once, and the first N questions of an ARC file in Dr.LLM's
// setting (its instruct prompt in the model's chat template), ready to evaluate.
#pragma once

#include <string>
#include <vector>

#include "data/tasks/dataset.h"
#include "data/tasks/task.h"
#include "data/text/tokenizer.h"
#include "model/backbone.h"
#include "model/model_files.h"
#include "search/drllm_setting.h"

namespace drllm::bench {

// "1,4,8" -> {1, 4, 8} (the benches' --batches).
inline std::vector<int64_t> parse_list(const std::string& text) {
  std::vector<int64_t> out;
  for (size_t at = 0; at < text.size();) {
    size_t comma = text.find(',', at);
    out.push_back(std::stoll(text.substr(at, comma - at)));
    at = comma == std::string::npos ? text.size() : comma + 1;
  }
  return out;
}

struct ArcWorkload {
  model::ModelFiles files;
  model::Backbone backbone;
  text::Tokenizer tokenizer;
  std::vector<search::SearchExample> examples;

  ArcWorkload(const std::string& model_path, const std::string& data_path, size_t limit)
      : files(model::ModelFiles::open(model_path)), backbone(model::Backbone::load(files)), tokenizer(files.tokenizer()) {
    const search::DrllmSetting arc(files, tasks::find_task("arc"));
    tasks::ReadOptions read;
    read.format = tasks::DatasetFormat::Arc;
    read.limit = limit;
    for (const tasks::Example& ex : tasks::read_dataset(data_path, read).examples)
      examples.push_back(arc.prepare(ex, tokenizer));
  }
};

}  // namespace drllm::bench
