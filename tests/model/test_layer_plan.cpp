// LayerPlan: validation and the paper's path form, with hand-worked examples.
#include <gtest/gtest.h>

#include "common/error.h"
#include "model/layer_plan.h"

namespace drllm::model {
namespace {

TEST(LayerPlan, PathFormListsExecutedLayersInOrder) {
  LayerPlan plan({1, 1, 1, 0, 2, 1});
  EXPECT_EQ(plan.to_path(), (std::vector<int64_t>{0, 1, 2, 4, 4, 5}));
  EXPECT_EQ(plan.executed(), 6);
  EXPECT_EQ(LayerPlan::from_path({0, 1, 2, 4, 4, 5}, 6), plan);
  EXPECT_EQ(plan.to_string(), "1,1,1,0,2,1");
  EXPECT_EQ(LayerPlan::parse("1,1,1,0,2,1"), plan);
  EXPECT_EQ(LayerPlan::all_execute(3).counts(), (std::vector<uint8_t>{1, 1, 1}));
}

TEST(LayerPlan, ValueAboveTwoIsAnErrorNamingTheEntry) {
  try {
    LayerPlan({1, 3, 1});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("entry 1 is 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(LayerPlan::parse("1,x,1"), Error);
  EXPECT_THROW(LayerPlan::parse("1,,1"), Error);
}

TEST(LayerPlan, WrongLengthIsAnErrorNamingBothLengths) {
  try {
    LayerPlan({1, 1}).check_length(4);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 entries but the model has 4 layers"), std::string::npos) << e.what();
  }
}

TEST(LayerPlan, BadPathsAreErrors) {
  EXPECT_THROW(LayerPlan::from_path({0, 0, 0}, 2), Error);  // three passes
  EXPECT_THROW(LayerPlan::from_path({1, 0}, 2), Error);     // out of order
  EXPECT_THROW(LayerPlan::from_path({0, 2}, 2), Error);     // beyond the model
}

}  // namespace
}  // namespace drllm::model
