// Runs under mpirun -n 1, 2 and 4 (tests/unit/comm/CMakeLists.txt); every
// assertion holds for any world size.
#include "comm/mpi_world.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace llmbatch {
namespace {

MpiWorld* g_world = nullptr;

TEST(MpiWorldTest, RankAndSizeAgreeWithMpi) {
  int rank = -1, size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  EXPECT_EQ(g_world->rank(), rank);
  EXPECT_EQ(g_world->size(), size);
  EXPECT_NE(g_world->world(), MPI_COMM_WORLD);  // a private duplicate
}

TEST(MpiWorldTest, AllReduceSumsOverRanks) {
  const int64_t n = g_world->size();
  EXPECT_EQ(g_world->allreduce_sum(g_world->rank()), n * (n - 1) / 2);
  EXPECT_EQ(g_world->allreduce_sum(int64_t{1} << 40), n << 40);  // 64-bit, not int
}

TEST(MpiWorldTest, NodeCommunicatorCoversThisMachine) {
  // Every rank of these tests runs on one machine.
  EXPECT_EQ(g_world->node_size(), g_world->size());
  EXPECT_EQ(g_world->allreduce_sum(g_world->node_rank()), g_world->allreduce_sum(g_world->rank()));
}

TEST(MpiWorldTest, FailedCallIsACommErrorNamingTheCall) {
  int value = 0;
  // Rank -7 does not exist; MPI_ERRORS_RETURN hands back the error.
  const int status = MPI_Send(&value, 1, MPI_INT, -7, 0, g_world->world());
  try {
    mpi_check(status, "MPI_Send to rank -7");
    FAIL() << "no error";
  } catch (const CommError& e) {
    EXPECT_NE(std::string(e.what()).find("MPI_Send to rank -7 failed: "), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(mpi_check(MPI_SUCCESS, "nothing"));
}

}  // namespace
}  // namespace llmbatch

// MPI tests own MPI_Init/MPI_Finalize through the MpiWorld.
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  llmbatch::MpiWorld world(&argc, &argv);
  llmbatch::g_world = &world;
  const int failed = RUN_ALL_TESTS();
  // Any failing rank fails the run on every rank.
  return world.allreduce_sum(failed) == 0 ? 0 : 1;
}
