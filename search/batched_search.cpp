#include "search/batched_search.h"

#include <memory>

#include "common/error.h"

namespace drllm::search {
namespace {

// One example in flight.
struct ExampleInFlight {
  uint64_t tag = 0;
  SearchExample example;
  MctsSearch search;
  PrefixStateCache cache;
  ExampleLabeller::Responses responses;
  PlanEvaluator::InFlight evaluation;
  bool evaluating = false;
};

}  // namespace

BatchedSearch::BatchedSearch(PlanEvaluator& evaluator, int64_t num_layers, MctsOptions mcts, model::BatchOptions batch,
                             bool full_default_response)
    : evaluator_(evaluator),
      num_layers_(num_layers),
      mcts_(mcts),
      batch_(std::move(batch)),
      full_default_response_(full_default_response) {
  DRLLM_CHECK(batch_.max_batch >= 1, "--batch must be at least 1, got ", batch_.max_batch);
}

model::BatchRunStats BatchedSearch::run(const NextExample& next, const ExampleDone& done) {
  const size_t cache_bytes = evaluator_.prefix_cache_bytes() / static_cast<size_t>(batch_.max_batch);
  const model::LayerPlan default_plan = model::LayerPlan::all_execute(num_layers_);
  std::map<uint64_t, std::unique_ptr<ExampleInFlight>> examples;  // by admission: the order requests are made in
  uint64_t admitted = 0;
  bool exhausted = false;

  // The next plan to evaluate: of the examples in flight, the first not being evaluated; else a new example's.
  auto next_request = [&]() -> std::optional<model::GenerationRequest> {
    while (true) {
      for (auto& [id, e] : examples) {
        if (e->evaluating) continue;
        const model::LayerPlan* plan = e->search.pending();
        DRLLM_CHECK(plan, "batched search: example ", e->example.id, " has ended but was not handed out");
        e->evaluation.plan = *plan;
        e->evaluating = true;
        const bool full = full_default_response_ && *plan == default_plan;
        model::GenerationRequest r = evaluator_.request(e->example, full, e->evaluation,
                                                        evaluator_.uses_prefix_cache() ? &e->cache : nullptr);
        r.tag = id;
        return r;
      }
      if (exhausted || static_cast<int64_t>(examples.size()) >= batch_.max_batch) return std::nullopt;
      std::optional<std::pair<SearchExample, uint64_t>> incoming = next();
      if (!incoming) {
        exhausted = true;
        return std::nullopt;
      }
      const std::string id = incoming->first.id;
      examples.emplace(admitted++, std::make_unique<ExampleInFlight>(ExampleInFlight{
                                       incoming->second, std::move(incoming->first), MctsSearch(num_layers_, mcts_, id),
                                       PrefixStateCache(cache_bytes), {}, {}, false}));
    }
  };

  auto request_done = [&](model::GenerationRequest& r, model::Generation generation) {
    auto it = examples.find(r.tag);
    DRLLM_CHECK(it != examples.end(), "batched search: a generation came back for no example in flight");
    ExampleInFlight& e = *it->second;
    PlanEvaluator::Outcome outcome = evaluator_.grade(e.example, generation, e.evaluation);
    e.responses[e.evaluation.plan.counts()] = outcome.response;
    e.evaluating = false;
    e.search.give_reward(outcome.reward);
    if (e.search.pending()) return;
    done(e.tag, e.example, e.search.result(), e.responses);
    examples.erase(it);
  };

  return model::generate_batched(evaluator_.backbone(), batch_, next_request, request_done);
}

BatchedLabeller::BatchedLabeller(ExampleLabeller& labeller, int64_t num_layers, model::BatchOptions batch)
    : labeller_(labeller),
      search_(labeller.evaluator(), num_layers, labeller.setup().mcts, std::move(batch), /*full_default_response=*/true) {}

model::BatchRunStats BatchedLabeller::run(const NextExample& next, const RowDone& done) {
  std::map<uint64_t, const tasks::Example*> by_index;
  return search_.run(
      [&]() -> std::optional<std::pair<SearchExample, uint64_t>> {
        uint32_t index = 0;
        const tasks::Example* example = next(index);
        if (!example) return std::nullopt;
        by_index[index] = example;
        return std::make_pair(labeller_.prepare(*example), uint64_t{index});
      },
      [&](uint64_t index, const SearchExample& example, const SearchResult& result,
          ExampleLabeller::Responses& responses) {
        done(labeller_.row(*by_index.at(index), static_cast<uint32_t>(index), example, result, responses));
        by_index.erase(index);
      });
}

}  // namespace drllm::search
