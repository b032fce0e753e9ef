# Every third-party dependency, found once, through CMake's own find modules
# or the config packages Debian ships. tools/install-deps.sh installs them.
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)

if(NOT LLMBATCH_FUZZ)
  find_package(MPI REQUIRED COMPONENTS C CXX)
  # Must be set before find_package(HDF5): otherwise a serial h5cc would win.
  set(HDF5_PREFER_PARALLEL ON)
  find_package(HDF5 REQUIRED COMPONENTS C)
  if(NOT HDF5_IS_PARALLEL)
    message(FATAL_ERROR "llmbatch needs parallel HDF5 (apt: libhdf5-openmpi-dev)")
  endif()
  # Compressed inputs (.gz, .zst): io's readers.
  find_package(ZLIB REQUIRED)
  pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
  find_package(yaml-cpp REQUIRED)
  find_package(dnnl REQUIRED)
  find_package(CLI11 REQUIRED)
  find_package(GTest REQUIRED)
endif()
