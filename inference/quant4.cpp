#include "inference/quant4.h"

namespace fm {

Result<MatrixView> load_bnb_linear(const TensorStore&, const std::string& name, int64_t, int64_t, Q4Storage&) {
    return Error{name + ": bitsandbytes 4-bit weights are not supported yet"};
}

Result<MatrixView> quantize_q4(const MatrixView&, Q4Storage&, ThreadPool*) {
    return Error{"quantize-on-load is not supported yet"};
}

}  // namespace fm
