# Resolves LLMBATCH_CUDA (AUTO|ON|OFF) into LLMBATCH_WITH_CUDA and enables the
# CUDA language. Kernels compile for sm_80 and sm_90 unless the user says
# otherwise; no GPU is needed at build time.
set(LLMBATCH_WITH_CUDA OFF)
if(NOT LLMBATCH_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 90)
    endif()
    # CMake 3.25 knows no C++20 flag for nvcc 13; kernels are C++17.
    set(CMAKE_CUDA_STANDARD 17)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(LLMBATCH_WITH_CUDA ON)
  elseif(LLMBATCH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "LLMBATCH_CUDA=ON but no CUDA compiler (nvcc) was found")
  endif()
endif()
message(STATUS "llmbatch: CUDA backend ${LLMBATCH_WITH_CUDA}")
