#include "search/label_search.h"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "model/model_files.h"
#include "data/labels/label_summary.h"
#include "common/console.h"
#include "common/process_memory.h"
#include "common/error.h"
#include "common/folder_lock.h"
#include "common/atomic_file.h"
#include "common/sha256.h"
#include "common/tensorboard.h"
#include "data/text/chat_template.h"
#include "data/tasks/dataset.h"
#include "data/labels/label_store.h"
#include "data/labels/shard_writer.h"
#include "data/tasks/task.h"
#include "data/tasks/prompts.h"
#include "data/text/tokenizer.h"
#include "dist/pipeline.h"
#include "dist/runtime.h"
#include "dist/stop_signal.h"
#include "dist/work_queue.h"
#include "model/backbone.h"
#include "model/compute_dtype.h"
#include "model/fingerprint.h"
#include "search/drllm_setting.h"
#include "search/batched_search.h"
#include "search/example_labeller.h"

namespace drllm::search {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

}  // namespace

nlohmann::json run_label_search(LabelSearchOptions o, dist::Runtime& runtime, int threads) {
  const std::string me = runtime.prefix();

  // 1. Configuration.
  o.mcts.policy = parse_policy(o.policy);
  o.mcts.validate();
  DRLLM_CHECK(o.chunk > 0 && o.shard_rows > 0 && o.shard_minutes > 0,
              "--chunk, --shard-rows and --shard-minutes must be positive");
  const tasks::Task& task = tasks::find_task(o.task, /*searchable_only=*/true);
  // One job per folder, checked before any work (an unwritable --out fails here too).
  std::optional<FolderLock> lock;
  if (runtime.is_root()) lock.emplace(o.out, "drllm search");
  runtime.barrier();

  // 2. Model, tokenizer, the task's setting.
  // With pipeline stages, each rank loads its stage's layers; the stages after the first serve their driver
  // until it is done, and the drivers go on as the ranks of a job without stages.
  dist::Pipeline pipeline(runtime, o.pipeline_stages);
  const model::ModelFiles files = model::ModelFiles::open(o.model);
  model::Backbone backbone = model::Backbone::load(files, pipeline.stage_options(o.backbone));
  auto describe_stage = [&] {
    return cat(pipeline.describe(), "layers ", backbone.stage().begin, "-", backbone.stage().end - 1, ", weights ",
               backbone.weight_bytes() >> 20, " MiB");
  };
  if (!pipeline.drives()) {
    log_at(LogLevel::Debug) << me << describe_stage() << ": serving\n";
    const int64_t answered = pipeline.serve(backbone);
    log_info() << me << describe_stage() << ": served " << answered << " forward calls, peak resident memory "
               << (peak_resident_bytes() >> 20) << " MiB\n";
    return {};
  }
  pipeline.drive(backbone);
  if (pipeline.stages() > 1) log_info() << me << describe_stage() << ": driving\n";
  text::Tokenizer tokenizer = files.tokenizer();
  DrllmSettingOptions setting_options;
  setting_options.instruct = o.instruct;
  setting_options.chat_template = o.chat_template;
  setting_options.max_new_tokens = o.max_new_tokens;
  const DrllmSetting setting(files, task, setting_options);
  LabellerSetup setup;
  setup.mcts = o.mcts;
  setup.budget = setting.budget();
  setup.repeat_kv = model::parse_repeat_kv(o.repeat_kv);
  setup.task = &task;
  setup.save_features = o.save_features;
  setup.compute_dtype = model::dtype_name(backbone.dtype());
  setup.shortcuts.prefix_cache_bytes = o.prefix_cache_mb << 20;
  setup.shortcuts.stop_once_settled = !o.generate_in_full;
  ExampleLabeller labeller(backbone, tokenizer, setting.prompt(), setting.chat(), setup);
  const int64_t L = backbone.config().num_layers;

  // 3. Data, and what the shards record about this run.
  tasks::ReadOptions read;
  read.format = o.format.empty() ? task.format : tasks::parse_dataset_format(o.format);
  read.limit = o.limit;
  read.skip_bad_rows = o.skip_bad_rows;
  tasks::DatasetReadResult loaded = tasks::read_dataset(o.data, read);
  if (loaded.skipped && runtime.is_root()) log_warning() << "skipped " << loaded.skipped << " bad rows of " << o.data << "\n";
  DRLLM_CHECK(!loaded.examples.empty(), o.data, ": no examples");
  labels::ShardHeader header;
  header.model_fingerprint = files.fingerprint();
  header.dataset = cat(fs::path(o.data).filename().string(), " sha256:", sha256_file_hex(o.data).substr(0, 16));
  header.search_config = search_config_json(setup, setting.prompt().name(), setting.instruct(),
                                            setting.chat() ? setting.chat()->name() : "");
  header.num_layers = L;
  header.feature_dim = o.save_features ? backbone.config().hidden_size : 0;

  // 4. Resume: rank 0 looks at what is already done, then every rank starts.
  std::vector<uint32_t> pending;
  if (runtime.is_root()) {
    fs::create_directories(o.out);
    std::set<uint32_t> done = labels::labelled_examples(o.out, header);
    for (uint32_t i = 0; i < loaded.examples.size(); ++i)
      if (!done.count(i)) pending.push_back(i);
    log_info() << "search (" << o.policy << ", " << o.mcts.simulations << " simulations, " << o.batch.max_batch
              << " examples at once) of " << loaded.examples.size()
              << " examples of " << o.data << " with " << o.model << " (" << L << " layers, "
              << setup.compute_dtype << ") on " << runtime.size()
              << (runtime.size() == 1 ? " rank" : " ranks") << " (" << dist::launcher_name(runtime.launcher())
              << "), " << threads << " threads each; " << loaded.examples.size() - pending.size()
              << " already in " << o.out << ", " << pending.size() << " to go\n";
  }
  runtime.barrier();

  // 5. Work through the queue.
  auto t0 = Clock::now();
  dist::WorkQueue queue(runtime, pending, o.chunk);
  labels::ShardWriter buffer(o.out, runtime.rank(), header, static_cast<size_t>(o.shard_rows), o.shard_minutes * 60);
  int64_t labelled = 0, improved = 0;
  // The job's progress on rank 0 (the others report theirs with each request for work).
  Progress progress("search", static_cast<int64_t>(pending.size()), "examples", runtime.is_root(), std::cerr);
  // And as TensorBoard scalars (OUT/tensorboard, a file per run; the step counts examples, earlier runs' too).
  std::optional<TensorBoardAppender> events;
  const int64_t done_before = static_cast<int64_t>(loaded.examples.size() - pending.size());
  if (runtime.is_root()) events.emplace(o.out + "/tensorboard", "search");
  // Examples from the queue, a chunk at a time, until it is empty or a stop is asked for; up to --batch of
  // them are searched at once.
  std::vector<uint32_t> chunk;
  size_t taken = 0;
  auto next_example = [&](uint32_t& index) -> const tasks::Example* {
    if (dist::stop_requested()) return nullptr;
    if (taken == chunk.size()) {
      chunk = queue.next();
      taken = 0;
      if (chunk.empty()) return nullptr;
    }
    index = chunk[taken++];
    return &loaded.examples[index];
  };
  auto row_done = [&](labels::LabelRow row) {
    ++labelled;
    improved += row.best_correct > row.baseline_correct;
    queue.report({labelled, improved});
    if (logging(LogLevel::Debug)) {
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      progress.message(cat(me, "example ", row.example_index, " (", row.item_id, "): default ",
                           int(row.baseline_correct), ", best ", int(row.best_correct), ", ", row.best_path.size(),
                           " layers, ", row.num_evaluations, " evaluations; ", labelled, " here in ", s, " s"));
    }
    if (runtime.is_root()) {
      const dist::WorkTally job = queue.tally();
      progress.update(job.finished, cat("improved ", job.notable));
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      events->add({done_before + job.finished, wall_time_now(),
                   {{"search/examples_done", static_cast<float>(done_before + job.finished)},
                    {"search/improved_share", job.finished ? static_cast<float>(job.notable) / job.finished : 0.f},
                    {"search/examples_per_second", s > 0 ? static_cast<float>(job.finished / s) : 0.f}}});
    }
    buffer.add(std::move(row));
  };
  model::BatchOptions batch = o.batch;
  batch.abandon = [] { return dist::stop_requested(); };  // the examples in flight are searched again on resume
  BatchedLabeller batched(labeller, L, batch);
  const model::BatchRunStats stats = batched.run(next_example, row_done);
  if (stats.forward_calls && logging(LogLevel::Debug))
    std::cerr << me << stats.sequences << " evaluations in " << stats.forward_calls << " batched forward calls, "
              << static_cast<double>(stats.sequence_steps) / static_cast<double>(stats.forward_calls)
              << " sequences a call on average\n";
  if (dist::stop_requested()) {
    queue.stop();
    log_warning() << me << "signal " << dist::stop_signal() << ": committing and stopping; rerun to resume\n";
  }
  buffer.commit();
  queue.finish();
  const int64_t forwards = runtime.sum(labeller.layer_forwards());
  const int64_t labelled_here = runtime.sum(labelled);
  progress.finish(labelled_here, cat("improved ", runtime.sum(improved)));
  runtime.barrier();

  // 6. Manifest and summary over everything the folder now holds.
  if (!runtime.is_root()) return {};
  labels::rebuild_manifest(o.out);
  nlohmann::json summary = labels::summarize_labels(labels::read_label_set(o.out));
  summary["policy"] = o.policy;
  summary["simulations"] = o.mcts.simulations;
  summary["ranks"] = runtime.size();
  summary["examples_this_run"] = labelled_here;
  summary["layer_forwards_this_run"] = forwards;
  summary["seconds_this_run"] = std::chrono::duration<double>(Clock::now() - t0).count();
  summary["complete"] = summary["examples"].get<size_t>() == loaded.examples.size();
  write_file_atomically(o.out + "/summary.json", [&](std::ostream& out) { out << summary.dump(2) << "\n"; });
  return summary;
}

}  // namespace drllm::search
