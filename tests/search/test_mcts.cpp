// MCTS on toy evaluators whose reward tables are known, so the right answers are worked out by hand.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.h"
#include "search/mcts.h"

namespace drllm::search {
namespace {

using model::LayerPlan;

bool contains(const std::vector<LayerPlan>& plans, const LayerPlan& p) {
  return std::find(plans.begin(), plans.end(), p) != plans.end();
}

TEST(Neighbours, SkipOneOrTwoVisitsOrRepeatOne) {
  // Root of 3 layers: path [0,1,2]. Skips: {0}, {1}, {2}, {0,1}, {1,2}; repeats of each layer.
  std::vector<LayerPlan> n = neighbours(LayerPlan::all_execute(3));
  std::vector<LayerPlan> expected = {LayerPlan({0, 1, 1}), LayerPlan({0, 0, 1}), LayerPlan({2, 1, 1}),
                                     LayerPlan({1, 0, 1}), LayerPlan({1, 0, 0}), LayerPlan({1, 2, 1}),
                                     LayerPlan({1, 1, 0}), LayerPlan({1, 1, 2})};
  EXPECT_EQ(n.size(), expected.size());
  for (const LayerPlan& p : expected) EXPECT_TRUE(contains(n, p)) << p.to_string();
  // A layer already repeated is not repeated again; skipping either copy gives the same plan once.
  std::vector<LayerPlan> m = neighbours(LayerPlan({2, 1}));
  EXPECT_TRUE(contains(m, LayerPlan({1, 1})));
  EXPECT_TRUE(contains(m, LayerPlan({2, 2})));
  EXPECT_EQ(std::count(m.begin(), m.end(), LayerPlan({1, 1})), 1);
}

struct Recorder {
  std::vector<LayerPlan> order;
  std::function<double(const LayerPlan&)> table;
  PlanReward reward() {
    return [this](const LayerPlan& p) {
      order.push_back(p);
      return table(p);
    };
  }
};

TEST(Mcts, TreeFindsTheOnlyCorrectPlanAndStopsEarly) {
  const LayerPlan target({1, 1, 0, 0, 1, 1});  // two layers shorter: the early stop applies
  Recorder r{{}, [&](const LayerPlan& p) { return p == target ? 1.0 : 0.0; }};
  MctsOptions o;
  SearchResult s = run_mcts(6, r.reward(), o, "toy-1");
  EXPECT_TRUE(s.best_correct);
  EXPECT_EQ(s.best_plan, target);
  EXPECT_FALSE(s.default_correct);
  EXPECT_TRUE(s.improved());
  EXPECT_LT(s.simulations, o.simulations);  // stopped at the find
  EXPECT_EQ(r.order.back(), target);
  EXPECT_EQ(s.evaluations, static_cast<int>(r.order.size()));  // each plan evaluated once
}

TEST(Mcts, TreeReachesAPlanTwoEditsAway) {
  const LayerPlan target({1, 0, 1, 1, 2, 1});  // skip layer 1 and repeat layer 4: same length as the default
  Recorder r{{}, [&](const LayerPlan& p) { return p == target ? 1.0 : 0.0; }};
  MctsOptions o;
  o.simulations = 400;
  SearchResult s = run_mcts(6, r.reward(), o, "toy-2");
  EXPECT_EQ(s.best_plan, target);
  EXPECT_TRUE(s.improved());  // a wrong default made right: the early stop
}

TEST(Mcts, ShortestCorrectPlanWinsThenFewestDistinctLayers) {
  // Every plan is correct: without the early stop the best is the shortest found (length 3 reachable in 50).
  Recorder r{{}, [](const LayerPlan&) { return 1.0; }};
  MctsOptions o;
  o.early_stop = false;
  o.simulations = 60;
  SearchResult s = run_mcts(5, r.reward(), o, "toy-3");
  int64_t shortest = 99;
  for (const LayerPlan& p : s.correct_plans) shortest = std::min(shortest, p.executed());
  EXPECT_EQ(s.best_plan.executed(), shortest);
  EXPECT_TRUE(s.default_correct);
  EXPECT_FALSE(s.improved());
  EXPECT_EQ(s.simulations, 60);  // no early stop
}

TEST(Mcts, ChainEditsThePreviousPlanOnceMore) {
  Recorder r{{}, [](const LayerPlan&) { return 0.0; }};
  MctsOptions o;
  o.policy = SearchPolicy::Chain;
  o.simulations = 30;
  SearchResult s = run_mcts(8, r.reward(), o, "chain");
  ASSERT_EQ(s.simulated.size(), 30u);
  // The first simulation visits the root itself; each later one the child of the plan simulated before it
  // (plans met again are memoised, so fewer are evaluated than simulated).
  EXPECT_EQ(s.simulated[0], LayerPlan::all_execute(8));
  for (size_t i = 1; i < s.simulated.size(); ++i)
    EXPECT_TRUE(contains(neighbours(s.simulated[i - 1]), s.simulated[i])) << "step " << i;
  EXPECT_LE(s.evaluations, 30);
  EXPECT_FALSE(s.best_correct);
}

TEST(Mcts, TreeExpandsEveryRootActionBeforeGoingDeeper) {
  Recorder r{{}, [](const LayerPlan&) { return 0.0; }};
  MctsOptions o;
  o.simulations = 40;
  o.random_prob = 0;
  run_mcts(4, r.reward(), o, "breadth");
  std::vector<LayerPlan> root_children = neighbours(LayerPlan::all_execute(4));
  ASSERT_GT(r.order.size(), root_children.size() + 1);
  for (size_t i = 1; i <= root_children.size(); ++i) EXPECT_TRUE(contains(root_children, r.order[i])) << i;
}

TEST(Mcts, LengthPenaltySendsTheSearchUnderTheShortestChild) {
  // All rewards 0 and no exploration term: after the root is fully expanded, UCB is -lambda*|path|/L, so the
  // next expansion is under a child two visits shorter than the default.
  Recorder r{{}, [](const LayerPlan&) { return 0.0; }};
  MctsOptions o;
  o.exploration = 0;
  o.random_prob = 0;
  o.simulations = 30;
  run_mcts(5, r.reward(), o, "penalty");
  std::vector<LayerPlan> root_children = neighbours(LayerPlan::all_execute(5));
  const LayerPlan& next = r.order.at(root_children.size() + 1);
  bool under_short = false;
  for (const LayerPlan& c : root_children)
    if (c.executed() == 3 && contains(neighbours(c), next)) under_short = true;
  EXPECT_TRUE(under_short) << next.to_string();
}

TEST(Mcts, RandomChildAndSeedsChangeTheOrderButEachIsReproducible) {
  auto order = [](double random_prob, const std::string& id, uint64_t seed) {
    Recorder r{{}, [](const LayerPlan&) { return 0.0; }};
    MctsOptions o;
    o.random_prob = random_prob;
    o.seed = seed;
    o.simulations = 60;
    run_mcts(6, r.reward(), o, id);
    std::vector<std::string> out;
    for (const LayerPlan& p : r.order) out.push_back(p.to_string());
    return out;
  };
  EXPECT_EQ(order(0.1, "q1", 7), order(0.1, "q1", 7));
  EXPECT_NE(order(0.1, "q1", 7), order(0.1, "q2", 7));
  EXPECT_NE(order(0.1, "q1", 7), order(0.1, "q1", 8));
  EXPECT_NE(order(0.0, "q1", 7), order(1.0, "q1", 7));
}

TEST(Mcts, OptionsAreValidated) {
  MctsOptions o;
  o.random_prob = 1.5;
  EXPECT_THROW(run_mcts(4, [](const LayerPlan&) { return 0.0; }, o, "x"), Error);
  EXPECT_THROW(parse_policy("forest"), Error);
}

}  // namespace
}  // namespace drllm::search
