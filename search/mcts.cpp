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

class Search {
 public:
  Search(int64_t num_layers, const PlanReward& reward, const MctsOptions& o, const std::string& id)
      : L_(num_layers), reward_(reward), o_(o), rng_(seeded_generator(o.seed, id)) {}

  SearchResult run() {
    SearchResult result;
    result.default_plan = LayerPlan::all_execute(L_);
    root_ = make_node(result.default_plan, nullptr);
    double base = evaluate(result.default_plan);
    result.default_correct = base > 0.5;
    int64_t best_length = L_;
    for (int sim = 0; sim < o_.simulations; ++sim) {
      Node* node = select(root_.get(), sim + 1);
      if (should_expand(node)) node = expand(node);
      double r = evaluate(node->plan);
      result.simulated.push_back(node->plan);
      if (r > 0.5) best_length = std::min(best_length, node->plan.executed());
      for (Node* n = node; n; n = n->parent) {
        n->visits += 1;
        n->reward_sum += r;
      }
      result.simulations = sim + 1;
      if (o_.early_stop && (r > base || (r > 0.5 && best_length + 2 <= L_))) break;
    }
    result.evaluations = static_cast<int>(memo_.size());
    result.correct_plans = correct_in_order_;
    result.best_plan = result.default_plan;
    for (const LayerPlan& p : correct_in_order_) {  // stable: ties go to the earliest found
      if (!result.best_correct || p.executed() < result.best_plan.executed() ||
          (p.executed() == result.best_plan.executed() && distinct_layers(p) < distinct_layers(result.best_plan))) {
        result.best_plan = p;
        result.best_correct = true;
      }
    }
    return result;
  }

 private:
  std::unique_ptr<Node> make_node(const LayerPlan& plan, Node* parent) {
    auto n = std::make_unique<Node>();
    n->plan = plan;
    n->parent = parent;
    n->untried = neighbours(plan);
    std::shuffle(n->untried.begin(), n->untried.end(), rng_);
    return n;
  }

  double evaluate(const LayerPlan& plan) {
    auto it = memo_.find(plan.counts());
    if (it != memo_.end()) return it->second;
    double r = reward_(plan);
    memo_.emplace(plan.counts(), r);
    if (r > 0.5) correct_in_order_.push_back(plan);
    return r;
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
  const PlanReward& reward_;
  const MctsOptions& o_;
  std::mt19937_64 rng_;
  std::unique_ptr<Node> root_;
  std::map<std::vector<uint8_t>, double> memo_;
  std::vector<LayerPlan> correct_in_order_;
};

}  // namespace

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
  options.validate();
  DRLLM_CHECK(num_layers >= 1, "run_mcts: the model has no layers");
  return Search(num_layers, reward, options, example_id).run();
}

}  // namespace drllm::search
