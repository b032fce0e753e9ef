// The MPI world of one llmbatch process: initialization and finalization
// (RAII), this rank's place in the world and on its node, and the one fatal
// path for a multi-rank job. Only src/comm includes mpi.h (DESIGN.md).
#pragma once

#include <cstdint>
#include <string>

#include <mpi.h>

namespace llmbatch {

// Throws CommError naming `what` and MPI's error string unless
// status == MPI_SUCCESS. Communicators created here return errors instead of
// aborting (MPI_ERRORS_RETURN), so every status reaches a check.
void mpi_check(int status, const std::string& what);

class MpiWorld {
 public:
  // Initializes MPI (thread level FUNNELED: only the engine's main thread
  // calls MPI) unless something already did, and splits off the ranks
  // sharing this node's memory.
  MpiWorld(int* argc, char*** argv);
  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int node_rank() const { return node_rank_; }
  int node_size() const { return node_size_; }
  MPI_Comm world() const { return world_; }
  MPI_Comm node() const { return node_; }

  // Sum of `value` over all ranks (a collective: every rank must call it).
  int64_t allreduce_sum(int64_t value) const;

  // The fatal path: logs `message` and aborts every rank. Never exit() on
  // one rank of a job: the others would wait for it forever.
  [[noreturn]] void abort(const std::string& message, int code = 2) const;

 private:
  bool owns_init_ = false;
  MPI_Comm world_ = MPI_COMM_NULL;
  MPI_Comm node_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1, node_rank_ = 0, node_size_ = 1;
};

}  // namespace llmbatch
