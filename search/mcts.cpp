#include "search/mcts.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <random>

#include "common/error.h"
#include "common/sha256.h"

namespace drllm::search {
namespace {

using model::LayerPlan;

// Distinct layers a plan visits (the second tie-break of the best plan).
int64_t distinct_layers(const LayerPlan& p) {
  return std::count_if(p.counts().begin(), p.counts().end(), [](uint8_t c) { return c > 0; });
}

// A generator seeded by (seed, example id), independent of rank and schedule.
std::mt19937_64 seeded_generator(uint64_t seed, const std::string& example_id) {
  std::string digest = sha256_hex(std::to_string(seed) + "\n" + example_id);
  return std::mt19937_64(std::stoull(digest.substr(0, 16), nullptr, 16));
}

struct Node {
  LayerPlan plan;
  Node* parent = nullptr;
  std::vector<std::unique_ptr<Node>> children;
  std::vector<LayerPlan> untried;  // shuffled once, taken from the back
  int visits = 0;
  double reward_sum = 0;
};

}  // namespace

// The search as a state machine: advance() runs selection, expansion, memoised rewards and backpropagation until
// a simulation needs the reward of a plan not evaluated yet (or the search ends); give_reward() resumes it. Driven
// by a reward function this is exactly the loop of the paper, one simulation after another.
class MctsSearch::Impl {
 public:
  Impl(int64_t num_layers, const MctsOptions& o, const std::string& id)
      : L_(num_layers), o_(o), rng_(seeded_generator(o.seed, id)) {
    result_.default_plan = LayerPlan::all_execute(L_);
    root_ = make_node(result_.default_plan, nullptr);
    best_length_ = L_;
  }

  const LayerPlan* pending() const {
    if (stage_ == Stage::Default) return &result_.default_plan;
    return stage_ == Stage::Simulating && waiting_ ? &waiting_->plan : nullptr;
  }

  void give_reward(double r) {
    DRLLM_CHECK(pending(), "MctsSearch: a reward was given but none was asked for");
    if (stage_ == Stage::Default) {
      memoize(result_.default_plan, r);
      base_ = r;
      result_.default_correct = base_ > 0.5;
      stage_ = Stage::Simulating;
    } else {
      Node* node = waiting_;
      waiting_ = nullptr;
      memoize(node->plan, r);
      complete_simulation(node, r);
    }
    advance();
  }

  const SearchResult& result() const {
    DRLLM_CHECK(stage_ == Stage::Done, "MctsSearch: the result was asked for before the search ended");
    return result_;
  }

 private:
  enum class Stage { Default, Simulating, Done };

  // Runs simulations until one needs a reward not memoised yet, or the search is over.
  void advance() {
    while (stage_ == Stage::Simulating) {
      if (sim_ >= o_.simulations) return finish();
      Node* node = select(root_.get(), sim_ + 1);
      if (should_expand(node)) node = expand(node);
      auto it = memo_.find(node->plan.counts());
      if (it == memo_.end()) {
        waiting_ = node;
        return;
      }
      complete_simulation(node, it->second);
    }
  }

  void complete_simulation(Node* node, double r) {
    result_.simulated.push_back(node->plan);
    if (r > 0.5) best_length_ = std::min(best_length_, node->plan.executed());
    for (Node* n = node; n; n = n->parent) {
      n->visits += 1;
      n->reward_sum += r;
    }
    result_.simulations = ++sim_;
    if (o_.early_stop && (r > base_ || (r > 0.5 && best_length_ + 2 <= L_))) finish();
  }

  void finish() {
    stage_ = Stage::Done;
    result_.evaluations = static_cast<int>(memo_.size());
    result_.correct_plans = correct_in_order_;
    result_.best_plan = result_.default_plan;
    for (const LayerPlan& p : correct_in_order_) {  // stable: ties go to the earliest found
      if (!result_.best_correct || p.executed() < result_.best_plan.executed() ||
          (p.executed() == result_.best_plan.executed() && distinct_layers(p) < distinct_layers(result_.best_plan))) {
        result_.best_plan = p;
        result_.best_correct = true;
      }
    }
  }

  void memoize(const LayerPlan& plan, double r) {
    memo_.emplace(plan.counts(), r);
    if (r > 0.5) correct_in_order_.push_back(plan);
  }

  std::unique_ptr<Node> make_node(const LayerPlan& plan, Node* parent) {
    auto n = std::make_unique<Node>();
    n->plan = plan;
    n->parent = parent;
    n->untried = neighbours(plan);
    std::shuffle(n->untried.begin(), n->untried.end(), rng_);
    return n;
  }

  // Tree: descend while the node is fully expanded. Chain (released code): descend while it has children.
  Node* select(Node* node, int total_visits) {
    auto descend = [&](Node* n) {
      return o_.policy == SearchPolicy::Tree ? (n->untried.empty() && !n->children.empty()) : !n->children.empty();
    };
    while (descend(node)) {
      std::uniform_real_distribution<double> coin(0.0, 1.0);
      if (coin(rng_) < o_.random_prob) {
        std::uniform_int_distribution<size_t> pick(0, node->children.size() - 1);
        node = node->children[pick(rng_)].get();
        continue;
      }
      Node* best = nullptr;
      double best_score = -std::numeric_limits<double>::infinity();
      for (const auto& child : node->children) {
        double s = ucb(*child, o_.policy == SearchPolicy::Tree ? node->visits : total_visits);
        if (!best || s > best_score) {
          best = child.get();
          best_score = s;
        }
      }
      node = best;
    }
    return node;
  }

  double ucb(const Node& n, int parent_visits) const {
    if (n.visits == 0) return std::numeric_limits<double>::infinity();
    double exploit = n.reward_sum / n.visits;
    double explore = o_.exploration * std::sqrt(std::log(std::max(parent_visits, 1)) / n.visits);
    double penalty = o_.length_penalty * static_cast<double>(n.plan.executed()) / static_cast<double>(L_);
    return exploit + explore - penalty;
  }

  // Tree: expand any node with untried actions. Chain: only a leaf already visited (the released code).
  bool should_expand(const Node* n) const {
    if (n->untried.empty()) return false;
    return o_.policy == SearchPolicy::Tree || n->visits > 0;
  }

  Node* expand(Node* node) {
    LayerPlan plan = node->untried.back();
    node->untried.pop_back();
    node->children.push_back(make_node(plan, node));
    return node->children.back().get();
  }

  int64_t L_;
  MctsOptions o_;
  std::mt19937_64 rng_;
  std::unique_ptr<Node> root_;
  std::map<std::vector<uint8_t>, double> memo_;
  std::vector<LayerPlan> correct_in_order_;
  Stage stage_ = Stage::Default;
  Node* waiting_ = nullptr;  // the simulation's node whose plan needs a reward
  int sim_ = 0;
  double base_ = 0;
  int64_t best_length_ = 0;
  SearchResult result_;
};

MctsSearch::MctsSearch(int64_t num_layers, const MctsOptions& options, const std::string& example_id) {
  options.validate();
  DRLLM_CHECK(num_layers >= 1, "MctsSearch: the model has no layers");
  impl_ = std::make_unique<Impl>(num_layers, options, example_id);
}
MctsSearch::~MctsSearch() = default;
MctsSearch::MctsSearch(MctsSearch&&) noexcept = default;
MctsSearch& MctsSearch::operator=(MctsSearch&&) noexcept = default;
const model::LayerPlan* MctsSearch::pending() const { return impl_->pending(); }
void MctsSearch::give_reward(double reward) { impl_->give_reward(reward); }
const SearchResult& MctsSearch::result() const { return impl_->result(); }

SearchPolicy parse_policy(const std::string& name) {
  if (name == "tree") return SearchPolicy::Tree;
  if (name == "chain") return SearchPolicy::Chain;
  throw Error(cat("--policy '", name, "' is not known; use 'tree' (the paper) or 'chain' (the released code)"));
}

void MctsOptions::validate() const {
  DRLLM_CHECK(simulations >= 1, "--simulations must be at least 1, got ", simulations);
  DRLLM_CHECK(exploration >= 0, "--exploration must be >= 0, got ", exploration);
  DRLLM_CHECK(length_penalty >= 0, "--length-penalty must be >= 0, got ", length_penalty);
  DRLLM_CHECK(random_prob >= 0 && random_prob <= 1, "--random-prob must be in [0, 1], got ", random_prob);
}

std::vector<model::LayerPlan> neighbours(const model::LayerPlan& plan) {
  std::vector<int64_t> path = plan.to_path();
  std::vector<LayerPlan> out;
  auto add = [&](std::vector<uint8_t> counts) {
    LayerPlan p(std::move(counts));
    if (p.executed() == 0 || std::find(out.begin(), out.end(), p) != out.end()) return;
    out.push_back(std::move(p));
  };
  for (size_t start = 0; start < path.size(); ++start) {
    for (size_t size : {1, 2}) {  // skip `size` consecutive visits
      if (start + size > path.size()) continue;
      std::vector<uint8_t> counts = plan.counts();
      for (size_t k = 0; k < size; ++k) --counts[static_cast<size_t>(path[start + k])];
      add(std::move(counts));
    }
    std::vector<uint8_t> counts = plan.counts();  // repeat one visit once
    if (counts[static_cast<size_t>(path[start])] < 2) {
      ++counts[static_cast<size_t>(path[start])];
      add(std::move(counts));
    }
  }
  return out;
}

SearchResult run_mcts(int64_t num_layers, const PlanReward& reward, const MctsOptions& options,
                      const std::string& example_id) {
  MctsSearch search(num_layers, options, example_id);
  while (const model::LayerPlan* plan = search.pending()) search.give_reward(reward(*plan));
  return search.result();
}

}  // namespace drllm::search
