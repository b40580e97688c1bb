// Mcts: Monte-Carlo Tree Search over layer plans for one example (Dr.LLM §3, docs/method.md).
// State: a LayerPlan (root: every layer once). Actions, on the plan's path form: skip one or two consecutive
// layer visits, or repeat one visit once (no layer runs more than twice). Reward: 1 when the greedy answer under
// the plan is graded correct, else 0, memoised per plan. Selection: UCB = Q/v + c*sqrt(ln V / v) - lambda*|path|/L,
// or a random child with probability random_prob. Two policies:
//   tree   the paper's text: a node is expanded until all its actions are tried, then selection descends;
//   chain  the released code: selection descends while a node has children and a visited leaf gets one child,
//          so every node has at most one child and each simulation edits the previous plan once more.
// Early stop: a wrong default becomes right, or a correct plan at least 2 visits shorter than L is found.
// Every random choice comes from a generator seeded by (seed, example id).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/layer_plan.h"

namespace drllm::search {

enum class SearchPolicy { Tree, Chain };
SearchPolicy parse_policy(const std::string& name);  // "tree" | "chain"

struct MctsOptions {
  int simulations = 50;
  double exploration = 1.8;     // c
  double length_penalty = 3.0;  // lambda
  double random_prob = 0.1;
  SearchPolicy policy = SearchPolicy::Tree;
  bool early_stop = true;
  uint64_t seed = 0;
  void validate() const;  // throws naming the option
};

// The reward of a plan for the example being searched (the caller's evaluator: generation and grading).
using PlanReward = std::function<double(const model::LayerPlan&)>;

struct SearchResult {
  model::LayerPlan default_plan, best_plan;  // best: shortest correct, else the default
  bool default_correct = false;
  bool best_correct = false;
  int evaluations = 0;                            // distinct plans evaluated
  int simulations = 0;                            // simulations run before the stop
  std::vector<model::LayerPlan> correct_plans;    // in the order found
  std::vector<model::LayerPlan> simulated;        // the plan each simulation evaluated (memoised or not)
  bool improved() const { return best_correct && !default_correct; }
};

// One example's search, driven from outside: pending() is the plan whose reward it needs next (null once the
// search is over), give_reward() hands that reward back and runs the search on to its next need. run_mcts drives
// it with a reward function; a batched search (search/batched_search.h) drives many at once, and each follows
// the same sequence of plans as under run_mcts, since nothing but its own rewards moves it.
class MctsSearch {
 public:
  MctsSearch(int64_t num_layers, const MctsOptions& options, const std::string& example_id);
  ~MctsSearch();
  MctsSearch(MctsSearch&&) noexcept;
  MctsSearch& operator=(MctsSearch&&) noexcept;

  const model::LayerPlan* pending() const;
  void give_reward(double reward);
  const SearchResult& result() const;  // once pending() is null

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

SearchResult run_mcts(int64_t num_layers, const PlanReward& reward, const MctsOptions& options,
                      const std::string& example_id);

// The plans one action away from `plan` (deduplicated, in action order): skip 1 or 2 consecutive path visits,
// repeat one visit; plans with no layer visit at all are left out.
std::vector<model::LayerPlan> neighbours(const model::LayerPlan& plan);

}  // namespace drllm::search
