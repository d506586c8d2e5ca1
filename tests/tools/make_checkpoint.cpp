// make_checkpoint: writes a random checkpoint of any shape in Hugging Face layout, for tests and
// benchmarks that need bigger models than the fixtures.
//   make_checkpoint --out DIR [--hidden 64] [--intermediate 128] [--state 16] [--dt-rank 4]
//                   [--conv 4] [--layers 2] [--vocab 512] [--dtype bf16|f16|f32] [--shards 1]
//                   [--seed 1] [--model-type falcon_mamba|mamba] [--bnb fp4|nf4]
// "--preset 7b" sets the Falcon Mamba 7B shapes (docs/model.md, Shapes).

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/tools/checkpoint_generator.h"

int main(int argc, char** argv) {
    fm::testing::CheckpointSpec spec;
    std::string out;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "make_checkpoint: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        auto number = [&]() { return std::stoll(next()); };
        if (fm::testing::set_shape_option(spec, a, number)) continue;
        if (a == "--out")
            out = next();
        else if (a == "--shards")
            spec.shards = static_cast<int>(number());
        else if (a == "--model-type")
            spec.model_type = next();
        else if (a == "--bnb")
            spec.bnb_quant_type = next();
        else if (a == "--dtype") {
            std::string d = next();
            spec.dtype = d == "f32" ? fm::DType::F32 : d == "f16" ? fm::DType::F16 : fm::DType::BF16;
            if (d != "f32" && d != "f16" && d != "bf16") {
                std::fprintf(stderr, "make_checkpoint: --dtype must be bf16, f16 or f32\n");
                return 2;
            }
        } else if (a == "--preset") {
            if (next() != "7b") {
                std::fprintf(stderr, "make_checkpoint: the only preset is 7b\n");
                return 2;
            }
            spec = fm::testing::falcon_mamba_7b_spec();
        } else {
            std::fprintf(stderr, "make_checkpoint: unknown option %s\n", a.c_str());
            return 2;
        }
    }
    if (out.empty()) {
        std::fprintf(stderr, "usage: make_checkpoint --out DIR [--preset 7b] [--hidden H] ... (see the source)\n");
        return 2;
    }
    if (auto s = fm::testing::write_random_checkpoint(out, spec); !s) {
        std::fprintf(stderr, "make_checkpoint: %s\n", s.error().c_str());
        return 1;
    }
    std::printf("{\"out\": \"%s\", \"hidden\": %lld, \"layers\": %lld}\n", out.c_str(),
                static_cast<long long>(spec.hidden), static_cast<long long>(spec.layers));
    return 0;
}
