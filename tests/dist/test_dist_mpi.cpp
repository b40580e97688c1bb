// dist/ under a real `mpirun -np 2` (ctest runs this binary that way; every rank runs every test in the same
// order, since they are collectives). Results are checked against closed forms: the sum over ranks r of (r + 1) is
// n(n + 1)/2, the maximum rank is n - 1, and the work queue hands out every item exactly once.
#include <gtest/gtest.h>

#include <set>

#include "common/error.h"
#include "common/strings.h"
#include "dist/communicator.h"
#include "dist/runtime.h"
#include "dist/work_queue.h"

namespace drllm::dist {
namespace {

const Runtime& runtime() {
  static Runtime r;  // MPI starts once per process
  return r;
}

TEST(DistMpi, RunsUnderALauncherWithTwoRanks) {
  EXPECT_TRUE(runtime().uses_mpi());
  EXPECT_EQ(runtime().size(), 2);
  EXPECT_EQ(runtime().prefix(), cat("[rank ", runtime().rank(), "/2] "));
}

TEST(DistMpi, AllReduceAndBroadcastInClosedForm) {
  const int n = runtime().size(), r = runtime().rank();
  MpiCommunicator comm(runtime());
  at::Tensor t = at::full({1000}, static_cast<float>(r + 1), at::kFloat);
  comm.allreduce_sum(t);
  EXPECT_TRUE(at::all(t == static_cast<float>(n * (n + 1) / 2)).item<bool>());
  at::Tensor ids = at::arange(5, at::kLong) * (r + 1);  // rank 1's values: 0, 2, 4, 6, 8
  comm.broadcast(ids, 1);
  EXPECT_TRUE(at::equal(ids, at::arange(5, at::kLong) * 2));
  EXPECT_EQ(runtime().sum(int64_t{r + 1}), n * (n + 1) / 2);
  EXPECT_DOUBLE_EQ(runtime().sum(0.5 * (r + 1)), 0.5 * n * (n + 1) / 2);
  EXPECT_DOUBLE_EQ(runtime().max(static_cast<double>(r)), n - 1.0);
}

TEST(DistMpi, GatherToRootInRankOrder) {
  std::vector<std::string> parts = runtime().gather_to_root(std::string(static_cast<size_t>(runtime().rank()) + 1, 'x'));
  if (runtime().is_root())
    EXPECT_EQ(parts, (std::vector<std::string>{"x", "xx"}));
  else
    EXPECT_TRUE(parts.empty());
}

TEST(DistMpi, TheWorkQueueHandsOutEveryItemOnce) {
  std::vector<uint32_t> items;
  for (uint32_t i = 0; i < 37; ++i) items.push_back(i * 3);
  std::string mine;
  {
    WorkQueue queue(runtime(), items, 2);
    for (std::vector<uint32_t> chunk = queue.next(); !chunk.empty(); chunk = queue.next()) {
      EXPECT_LE(chunk.size(), 2u);
      for (uint32_t i : chunk) mine += std::to_string(i) + ",";
    }
    queue.finish();
  }
  std::vector<std::string> parts = runtime().gather_to_root(mine);
  if (!runtime().is_root()) return;
  std::multiset<uint32_t> seen;
  for (const std::string& part : parts)
    for (const std::string& item : split_string(part, ","))
      if (!item.empty()) seen.insert(static_cast<uint32_t>(std::stoul(item)));
  EXPECT_EQ(seen, std::multiset<uint32_t>(items.begin(), items.end()));
}

TEST(DistMpi, AFailedCallNamesTheCallTheRankAndMpisMessage) {
  MpiCommunicator comm(runtime());
  at::Tensor t = at::zeros({4}, at::kFloat);
  try {
    comm.broadcast(t, 7);  // no rank 7: MPI_ERR_ROOT on every rank
    FAIL() << "a broadcast from a rank that does not exist must fail";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("MPI call MPI_Bcast("), std::string::npos) << what;
    EXPECT_NE(what.find("dist/communicator.cpp:"), std::string::npos) << what;
    EXPECT_NE(what.find(cat("rank ", runtime().rank(), " on ")), std::string::npos) << what;
    EXPECT_NE(what.find("root"), std::string::npos) << what;  // MPI's own message
  }
  runtime().barrier();
}

}  // namespace
}  // namespace drllm::dist
