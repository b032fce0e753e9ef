// libFuzzer target: any byte string as a whole safetensors file. The parser
// must either accept it (and then every tensor lies inside the file) or
// throw llmbatch::Error; it must never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/error.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto header = llmbatch::safetensors_parse_header(data, size, "fuzz.safetensors");
    for (const auto& t : header.tensors) {
      if (t.offset < header.data_start || t.offset + t.nbytes > size) std::abort();
    }
  } catch (const llmbatch::Error&) {
  }
  return 0;
}
