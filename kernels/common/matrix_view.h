#pragma once
// A read-only view of a weight matrix as the kernels consume it. Matrices stay in the dtype
// they have on disk (the mmapped checkpoint) and are converted to fp32 inside the kernels, so
// loading a bf16 checkpoint never needs a second copy in RAM.

#include <cstdint>

namespace fm {

enum class DType : uint8_t { F32, F16, BF16, U8, Q4 };

inline const char* dtype_name(DType t) {
    switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::U8: return "U8";
    case DType::Q4: return "Q4";
    }
    return "?";
}

inline int64_t dtype_size_bits(DType t) {
    switch (t) {
    case DType::F32: return 32;
    case DType::F16:
    case DType::BF16: return 16;
    case DType::U8: return 8;
    case DType::Q4: return 4;
    }
    return 0;
}

// 4-bit weights, in the layout bitsandbytes writes and the one quantize-on-load produces:
// the matrix is flattened row-major into n = rows*cols elements; element 2k is the high nibble
// of codes[k], element 2k+1 the low nibble. Each run of `block` consecutive elements shares
// one scale: w[i] = codebook[code(i)] * scales[i / block].
struct Q4Data {
    const uint8_t* codes = nullptr;   // [ceil(n/2)]
    const float* scales = nullptr;    // [ceil(n/block)]
    const float* codebook = nullptr;  // [16]
    int32_t block = 64;
};

// Row-major [rows, cols] matrix. y = W x multiplies by rows.
struct MatrixView {
    DType dtype = DType::F32;
    int64_t rows = 0;
    int64_t cols = 0;
    const void* data = nullptr;  // F32/F16/BF16 elements; unused for Q4
    Q4Data q4;                   // Q4 only

    int64_t elements() const { return rows * cols; }
    // Bytes the kernels read for one full pass over the matrix.
    int64_t bytes() const {
        if (dtype != DType::Q4) return elements() * dtype_size_bits(dtype) / 8;
        int64_t n = elements();
        return (n + 1) / 2 + ((n + q4.block - 1) / q4.block) * 4 + 16 * 4;
    }
};

}  // namespace fm
