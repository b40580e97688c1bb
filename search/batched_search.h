// The label search over many examples at once. Up to `batch` examples are in flight; each has its own MCTS
// (search/mcts.h), prefix cache and responses, and at any time at most one plan being evaluated. All those
// evaluations run as one continuous batch (model/batch_generation.h): when one finishes, its example's search
// takes the reward and offers its next plan, or ends, and the next example takes its place. An example's search
// moves only by its own rewards, so its result is run_mcts's with the same evaluator, byte for byte, whatever the
// batch; only the order in which examples end depends on it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/batch_generation.h"
#include "search/example_labeller.h"
#include "search/mcts.h"
#include "search/plan_evaluator.h"

namespace drllm::search {

class BatchedSearch {
 public:
  // The evaluator's prefix-cache memory is shared out between the examples in flight. full_default_response:
  // generate the default plan's answer in full (the labeller stores it).
  BatchedSearch(PlanEvaluator& evaluator, int64_t num_layers, MctsOptions mcts, model::BatchOptions batch,
                bool full_default_response);

  // The next example to search, with the caller's tag for it; nullopt when there is none (the run then ends once
  // the examples in flight are done).
  using NextExample = std::function<std::optional<std::pair<SearchExample, uint64_t>>()>;
  // An example's search ended: its result and the response of every plan it evaluated.
  using ExampleDone = std::function<void(uint64_t tag, const SearchExample& example, const SearchResult& result,
                                         ExampleLabeller::Responses& responses)>;
  model::BatchRunStats run(const NextExample& next, const ExampleDone& done);

 private:
  PlanEvaluator& evaluator_;
  int64_t num_layers_;
  MctsOptions mcts_;
  model::BatchOptions batch_;
  bool full_default_response_;
};

// The same as label rows: ExampleLabeller::label's, byte for byte, for every example.
class BatchedLabeller {
 public:
  BatchedLabeller(ExampleLabeller& labeller, int64_t num_layers, model::BatchOptions batch);
  // The next example to search and its index in the data, or null when there is none.
  using NextExample = std::function<const tasks::Example*(uint32_t& index)>;
  using RowDone = std::function<void(labels::LabelRow row)>;
  model::BatchRunStats run(const NextExample& next, const RowDone& done);

 private:
  ExampleLabeller& labeller_;
  BatchedSearch search_;
};

}  // namespace drllm::search
