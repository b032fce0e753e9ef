#include "comm/mpi_world.h"

#include <spdlog/spdlog.h>

#include "core/error.h"

namespace llmbatch {

void mpi_check(int status, const std::string& what) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw CommError(what + " failed: " + std::string(text, length));
}

MpiWorld::MpiWorld(int* argc, char*** argv) {
  int initialized = 0;
  mpi_check(MPI_Initialized(&initialized), "MPI_Initialized");
  if (!initialized) {
    int provided = 0;
    mpi_check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    owns_init_ = true;
  }
  // A private duplicate: llmbatch's traffic never mixes with a caller's.
  mpi_check(MPI_Comm_dup(MPI_COMM_WORLD, &world_), "MPI_Comm_dup");
  mpi_check(MPI_Comm_set_errhandler(world_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  mpi_check(MPI_Comm_rank(world_, &rank_), "MPI_Comm_rank");
  mpi_check(MPI_Comm_size(world_, &size_), "MPI_Comm_size");
  mpi_check(MPI_Comm_split_type(world_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_),
            "MPI_Comm_split_type(SHARED)");
  mpi_check(MPI_Comm_set_errhandler(node_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  mpi_check(MPI_Comm_rank(node_, &node_rank_), "MPI_Comm_rank(node)");
  mpi_check(MPI_Comm_size(node_, &node_size_), "MPI_Comm_size(node)");
}

MpiWorld::~MpiWorld() {
  // No throwing from a destructor: failures here are logged and ignored.
  if (node_ != MPI_COMM_NULL) MPI_Comm_free(&node_);
  if (world_ != MPI_COMM_NULL) MPI_Comm_free(&world_);
  if (owns_init_) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized && MPI_Finalize() != MPI_SUCCESS) spdlog::warn("MPI_Finalize failed");
  }
}

int64_t MpiWorld::allreduce_sum(int64_t value) const {
  int64_t total = 0;
  mpi_check(MPI_Allreduce(&value, &total, 1, MPI_INT64_T, MPI_SUM, world_), "MPI_Allreduce");
  return total;
}

void MpiWorld::abort(const std::string& message, int code) const {
  spdlog::critical("rank {}/{}: {}; aborting the job", rank_, size_, message);
  spdlog::default_logger()->flush();
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();  // MPI_Abort does not return; keep [[noreturn]] honest
}

}  // namespace llmbatch
