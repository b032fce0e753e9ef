// C++ side of tools/bench/tokenizer.sh: encodes each text file with each
// tokenizer on one thread, prints NAME FILE TOKENS BEST_SECONDS MB_PER_S
// (best of 5 timed runs after one warm-up, as the Rust side does).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FIXTURES_DIR FILE...\n", argv[0]);
    return 1;
  }
  constexpr int kRuns = 5;
  for (const char* name : {"gpt2", "llama3_1", "qwen2_5", "mistral"}) {
    const auto tok =
        llmbatch::tokenizer::Tokenizer::load(std::string(argv[1]) + "/tokenizers/" + name);
    for (int f = 2; f < argc; ++f) {
      std::ifstream in(argv[f], std::ios::binary);
      std::stringstream buf;
      buf << in.rdbuf();
      const std::string text = buf.str();
      const size_t tokens = tok.encode(text).size();
      double best = 1e30;
      for (int r = 0; r < kRuns; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto ids = tok.encode(text);
        const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
        best = std::min(best, dt.count());
      }
      const std::string file = argv[f];
      std::printf("%s %s %zu %.4f %.2f\n", name, file.substr(file.rfind('/') + 1).c_str(), tokens,
                  best, static_cast<double>(text.size()) / 1e6 / best);
      std::fflush(stdout);
    }
  }
  return 0;
}
