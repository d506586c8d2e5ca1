#include "tests/gpu/tools/gpu_checks.h"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <exception>

#include "kernels/cuda/ops.h"

namespace fm::gpucheck {

bool have_device(std::string* why) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        if (why)
            *why = std::string("no usable CUDA driver/device: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) +
                   ")";
        return false;
    }
    if (count == 0) {
        if (why) *why = "no CUDA device";
        return false;
    }
    if (Status s = cuda::self_test(nullptr); !s) {
        if (why) *why = "a CUDA device is present but cannot run this build's kernels: " + s.error();
        return false;
    }
    return true;
}

Outcome compare(const std::vector<float>& got, const std::vector<float>& ref, double atol, double rtol,
                const std::string& what) {
    Outcome o;
    if (got.size() != ref.size()) {
        o.detail = what + ": size " + std::to_string(got.size()) + " != expected " + std::to_string(ref.size());
        return o;
    }
    size_t worst = 0, bad = 0;
    double worst_excess = -1.0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double g = got[i], r = ref[i];
        if (std::isnan(r) || std::isnan(g)) {
            if (std::isnan(r) != std::isnan(g)) {
                ++bad;
                if (worst_excess < 1e30) worst_excess = 1e30, worst = i;
            }
            continue;
        }
        const double err = std::fabs(g - r);
        o.max_abs_err = std::max(o.max_abs_err, err);
        const double excess = err - (atol + rtol * std::fabs(r));
        if (excess > 0) ++bad;
        if (excess > worst_excess) worst_excess = excess, worst = i;
    }
    o.pass = bad == 0;
    char buf[256];
    if (got.empty()) {
        std::snprintf(buf, sizeof buf, "%s: nothing to compare", what.c_str());
    } else {
        std::snprintf(
            buf, sizeof buf,
            "%s: %zu values, max |err| %.3g (atol %.1g, rtol %.1g); %zu outside, worst [%zu] got %.8g want %.8g",
            what.c_str(), got.size(), o.max_abs_err, atol, rtol, bad, worst, static_cast<double>(got[worst]),
            static_cast<double>(ref[worst]));
    }
    o.detail = buf;
    return o;
}

Outcome guarded(const std::function<Outcome()>& body) {
    try {
        return body();
    } catch (const std::exception& e) {
        cudaGetLastError();
        return Outcome{false, 0.0, std::string("error: ") + e.what()};
    }
}

}  // namespace fm::gpucheck
