#include "train/train_job.h"
#include "common/console.h"
#include "common/folder_lock.h"

#include <cmath>
#include <optional>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "model/model_files.h"
#include "common/atomic_file.h"
#include "common/error.h"
#include "common/process_memory.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "data/labels/label_store.h"
#include "dist/communicator.h"
#include "dist/pipeline.h"
#include "dist/runtime.h"
#include "dist/stop_signal.h"
#include "model/backbone.h"
#include "model/fingerprint.h"
#include "train/metrics.h"
#include "train/trainer.h"

namespace drllm::train {

namespace {

bool same_folder(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec) && !ec;
}

// --examples correct, the paper's kept set: an example none of whose plans answered right is labelled "execute
// everywhere", which says only that the search found nothing, not that those layers are needed. A folder left with
// no example drops out (a few GSM8K questions may have none right); all of them empty is an error.
void keep_right_answers(std::vector<labels::LabelSet>& sets, const std::vector<std::string>& dirs, bool root) {
  size_t kept_in_all = 0;
  for (size_t i = 0; i < sets.size(); ++i) {
    std::vector<labels::LabelRow>& rows = sets[i].rows;
    const size_t searched = rows.size();
    std::erase_if(rows, [](const labels::LabelRow& row) { return !row.best_correct; });
    kept_in_all += rows.size();
    if (root) log_info() << dirs[i] << ": " << rows.size() << " of " << searched << " examples have a plan that answers right (kept)\n";
  }
  DRLLM_CHECK(kept_in_all > 0, "no labelled example has a plan that answers right, so --examples correct keeps none");
  std::erase_if(sets, [](const labels::LabelSet& set) { return set.rows.empty(); });
}

// The router inputs' buffers under --max-memory-gb: streamed, a step's rows of this rank twice (the step's and
// the next one's, read ahead) in float16, a micro-batch in float32 with autograd's copy, and the held-out metrics'
// chunk in float16 and float32; in memory, every row.
void check_memory_bound(const FeatureRows& inputs, const TrainJobOptions& o, int world, bool root) {
  const double gb = 1e9, row = static_cast<double>(inputs.row_bytes());
  const double bound = o.max_memory_gb * gb;
  if (!inputs.streamed()) {
    const double all = row * static_cast<double>(inputs.size());
    DRLLM_CHECK(all <= bound, "the router inputs take ", all / gb, " GB in memory, over --max-memory-gb ",
                o.max_memory_gb, "; online inputs are computed into memory: search with --save-features so that "
                "training can stream them from the shards");
    return;
  }
  const int64_t step_rows = (o.train.batch + world - 1) / world;
  const int64_t micro = std::min(o.train.micro_batch, step_rows);
  const double buffers = row * (2.0 * static_cast<double>(step_rows) + 4.0 * static_cast<double>(micro) +
                                3.0 * static_cast<double>(kEvaluationChunk));
  DRLLM_CHECK(buffers <= bound, "--max-memory-gb ", o.max_memory_gb, " is too small for streamed router inputs of ",
              row / 1e6, " MB per example: a rank holds ", buffers / gb, " GB of them at once (", step_rows,
              " examples a step, twice, micro-batches of ", micro, ", and ", kEvaluationChunk,
              " for the held-out metrics); raise it, or lower --batch or --micro-batch");
  if (root)
    log_info() << "router inputs stream from the label shards: " << inputs.size() << " examples of " << row / 1e6
               << " MB, at most " << buffers / 1e6 << " MB of them in memory on a rank (--max-memory-gb "
               << o.max_memory_gb << ")\n";
}

}  // namespace

nlohmann::json run_training(const TrainJobOptions& o, dist::Runtime& runtime) {
  const bool root = runtime.is_root();
  // One job per run folder, before any work.
  std::optional<FolderLock> lock;
  if (root) lock.emplace(o.out, "drllm train");
  runtime.barrier();

  // 1. Labels (one folder or several, comma-separated: say ARC and GSM8K searches) and the routers' inputs along
  // the labelled plans.
  const std::vector<std::string>& dirs = o.labels;
  // The same folder twice would train on every row twice.
  for (size_t i = 0; i < dirs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      DRLLM_CHECK(!same_folder(dirs[i], dirs[j]), "--labels ", dirs[j], " and ", dirs[i],
                  " are the same folder; each label folder may be given once");
  DRLLM_CHECK(std::isfinite(o.max_memory_gb) && o.max_memory_gb >= 0, "--max-memory-gb must be a non-negative number");
  // With a memory bound the cached inputs stay in the shards (online inputs are computed into memory).
  const bool stream = o.max_memory_gb > 0 && o.inputs != "online";
  std::vector<labels::LabelSet> sets;
  for (const std::string& dir : dirs) {
    // Without features: training reads them from the shards (labels::ShardFeatures), into memory or per batch.
    sets.push_back(labels::read_label_set(dir, /*features=*/false));
    DRLLM_CHECK(!sets.back().rows.empty(), dir, ": no labelled examples");
    DRLLM_CHECK(sets.back().header.model_fingerprint == sets.front().header.model_fingerprint, dir,
                " was labelled with another model than ", dirs.front());
  }
  if (o.examples == "correct") keep_right_answers(sets, dirs, root);
  const labels::LabelSet& labels = sets.front();
  bool all_cached = true;
  for (const labels::LabelSet& set : sets) all_cached = all_cached && set.header.feature_dim > 0;
  std::string inputs = o.inputs == "auto" ? (all_cached ? "cached" : "online") : o.inputs;
  DRLLM_CHECK(o.pipeline_stages == 1 || inputs == "online", "--pipeline-stages splits the backbone that computes "
              "--inputs online; these labels' inputs are ", inputs, ", which need no backbone");
  std::optional<dist::Pipeline> pipeline;
  std::optional<model::Backbone> backbone;
  if (inputs == "online") {
    const model::ModelFiles files = model::ModelFiles::open(o.model);
    const std::string& fingerprint = files.fingerprint();
    DRLLM_CHECK(fingerprint == labels.header.model_fingerprint, dirs.front(), " was labelled with another model (",
                labels.header.model_fingerprint.substr(0, 16), "…) than --model ", o.model, " (",
                fingerprint.substr(0, 16), "…)");
    // The backbone runs beside the routers, on their device; with stages each rank loads its own. From here on
    // the drivers are the job's ranks.
    pipeline.emplace(runtime, o.pipeline_stages);
    backbone.emplace(model::Backbone::load(files, pipeline->stage_options({o.train.device, o.backbone_dtype})));
    if (!pipeline->drives()) {
      const int64_t answered = pipeline->serve(*backbone);
      return nlohmann::json{{"served", answered}};
    }
    pipeline->drive(*backbone);
  }
  std::vector<RouterData> parts;
  std::string hashes;
  for (const labels::LabelSet& set : sets) {
    if (inputs == "cached") {
      parts.push_back(cached_router_data(set, stream));
    } else {
      if (root) log_info() << "computing router inputs along " << set.rows.size() << " labelled plans with " << o.model << "\n";
      parts.push_back(online_router_data(set, *backbone));
    }
    hashes += labels::rows_sha256(set.header, set.rows);
  }
  RouterData all = concatenate(parts);
  parts.clear();
  pipeline.reset();  // the later stages have served their part: they leave now, their memory with them
  backbone.reset();
  if (o.max_memory_gb > 0) check_memory_bound(all.inputs, o, runtime.size(), root);
  std::vector<int64_t> train_rows, held_rows;
  split_holdout(all.size(), o.holdout_every, train_rows, held_rows);
  RouterData train_set = all.subset(train_rows), held_out = all.subset(held_rows);

  // 2. Train.
  std::unique_ptr<dist::Communicator> comm = dist::make_communicator(runtime, at::Device(o.train.device));
  TrainIdentity identity{labels.header.model_fingerprint, sets.size() == 1 ? hashes : sha256_hex(hashes), inputs};
  TrainResult r = train_routers(runtime, *comm, train_set, held_out, o.train, identity, o.out);

  // 3. The routers beside the checkpoints, ready for generate/eval.
  if (root && r.finished) {
    routing::RouterBank bank = load_run_routers(o.out);
    bank.save(o.out + "/routers.safetensors", labels.header.model_fingerprint);
  }
  return nlohmann::json{{"steps_this_run", r.steps},       {"finished", r.finished},
                        {"stopped", r.stopped},            {"seconds", r.seconds},
                        {"samples_per_second", r.seconds > 0 ? r.samples_this_run / r.seconds : 0.0},
                        {"inputs", inputs},                {"ranks", runtime.size()},
                        {"communicator", comm->name()},    {"train_examples", train_set.size()},
                        {"held_out_examples", held_out.size()},
                        {"inputs_held", all.inputs.streamed() ? "streamed" : "memory"},
                        {"peak_rss_mb", static_cast<double>(peak_resident_bytes()) / 1e6}};
}

}  // namespace drllm::train
