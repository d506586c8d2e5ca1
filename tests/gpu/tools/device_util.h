#pragma once
// Small helpers for the GPU checks: RAII device buffers, random host matrices of every dtype
// (4-bit included) with their device copies. Errors throw std::runtime_error, which the case
// runner (gpucheck::guarded) reports as a failed check.

#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "inference/core/result.h"
#include "kernels/common/matrix_view.h"
#include "kernels/common/numerics.h"

namespace fm::gpucheck {

inline void cuda_ok(cudaError_t e, const char* what) {
    if (e != cudaSuccess)
        throw std::runtime_error(std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

inline void ok(const Status& s) {
    if (!s) throw std::runtime_error(s.error());
}

template <typename T>
class DevBuf {
public:
    DevBuf() = default;
    explicit DevBuf(size_t n) : n_(n) { cuda_ok(cudaMalloc(&p_, std::max<size_t>(n, 1) * sizeof(T)), "cudaMalloc"); }
    explicit DevBuf(const std::vector<T>& host) : DevBuf(host.size()) { upload(host); }
    DevBuf(const DevBuf&) = delete;
    DevBuf& operator=(const DevBuf&) = delete;
    DevBuf(DevBuf&& o) noexcept : p_(o.p_), n_(o.n_) {
        o.p_ = nullptr;
        o.n_ = 0;
    }
    DevBuf& operator=(DevBuf&& o) noexcept {
        std::swap(p_, o.p_);
        std::swap(n_, o.n_);
        return *this;
    }
    ~DevBuf() {
        if (p_) cudaFree(p_);
    }
    T* get() const { return p_; }
    size_t size() const { return n_; }
    void upload(const std::vector<T>& host) {
        if (host.size() > n_) throw std::runtime_error("DevBuf::upload: too large");
        cuda_ok(cudaMemcpy(p_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy H2D");
    }
    std::vector<T> download() const {
        cuda_ok(cudaDeviceSynchronize(), "running the kernels");
        std::vector<T> host(n_);
        cuda_ok(cudaMemcpy(host.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
        return host;
    }

private:
    T* p_ = nullptr;
    size_t n_ = 0;
};

class Rng {
public:
    explicit Rng(uint64_t seed) : gen_(seed) {}
    float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(gen_); }
    std::vector<float> vec(size_t n, float lo, float hi) {
        std::vector<float> v(n);
        for (float& x : v) x = uniform(lo, hi);
        return v;
    }
    uint32_t bits() { return static_cast<uint32_t>(gen_()); }

private:
    std::mt19937_64 gen_;
};

// A random matrix in host memory (values ~ U(-1,1) * sqrt(3/cols), so W x stays O(1)).
struct HostMatrix {
    MatrixView view;
    std::vector<uint8_t> bytes;  // 16/32-bit elements, or the 4-bit codes
    std::vector<float> scales;
    std::array<float, 16> codebook{};
};

inline HostMatrix random_matrix(DType dt, int64_t rows, int64_t cols, uint64_t seed, int32_t block = 64) {
    HostMatrix m;
    Rng rng(seed);
    const int64_t n = rows * cols;
    const float a = std::sqrt(3.0f / static_cast<float>(cols));
    m.view.dtype = dt;
    m.view.rows = rows;
    m.view.cols = cols;
    if (dt == DType::Q4) {
        static const float nf4[16] = {-1.0f,   -0.6962f, -0.5251f, -0.3949f, -0.2844f, -0.1848f, -0.0911f, 0.0f,
                                      0.0796f, 0.1609f,  0.2461f,  0.3379f,  0.4407f,  0.5626f,  0.7230f,  1.0f};
        std::memcpy(m.codebook.data(), nf4, sizeof nf4);
        m.bytes.resize(static_cast<size_t>((n + 1) / 2));
        for (auto& b : m.bytes) b = static_cast<uint8_t>(rng.bits());
        m.scales = rng.vec(static_cast<size_t>((n + block - 1) / block), 0.5f * a, 1.5f * a);
        m.view.q4.codes = m.bytes.data();
        m.view.q4.scales = m.scales.data();
        m.view.q4.codebook = m.codebook.data();
        m.view.q4.block = block;
        return m;
    }
    const size_t es = static_cast<size_t>(dtype_size_bits(dt) / 8);
    m.bytes.resize(static_cast<size_t>(n) * es);
    for (int64_t i = 0; i < n; ++i) {
        const float v = rng.uniform(-a, a);
        if (dt == DType::F32) {
            std::memcpy(m.bytes.data() + i * 4, &v, 4);
        } else {
            const uint16_t h = dt == DType::BF16 ? num::float_to_bf16(v) : num::float_to_f16(v);
            std::memcpy(m.bytes.data() + i * 2, &h, 2);
        }
    }
    m.view.data = m.bytes.data();
    return m;
}

// Device copy of a HostMatrix; view holds device pointers.
struct DevMatrix {
    MatrixView view;
    DevBuf<uint8_t> data;
    DevBuf<float> scales, codebook;
};

inline DevMatrix upload(const HostMatrix& h) {
    DevMatrix d;
    d.view = h.view;
    d.data = DevBuf<uint8_t>(h.bytes);
    if (h.view.dtype == DType::Q4) {
        d.scales = DevBuf<float>(h.scales);
        d.codebook = DevBuf<float>(std::vector<float>(h.codebook.begin(), h.codebook.end()));
        d.view.q4.codes = d.data.get();
        d.view.q4.scales = d.scales.get();
        d.view.q4.codebook = d.codebook.get();
        d.view.data = nullptr;
    } else {
        d.view.data = d.data.get();
    }
    return d;
}

}  // namespace fm::gpucheck
