// Every CUDA kernel against its CPU twin (tests/gpu/tools/kernel_checks.cpp), one data row per
// kernel, dtype and shape.

#include <QObject>
#include <QTest>

#include "tests/gpu/gpu_test_main.h"
#include "tests/gpu/tools/gpu_checks.h"

class TestCudaKernels : public QObject {
    Q_OBJECT

    const std::vector<fm::gpucheck::Case>& cases() {
        static const std::vector<fm::gpucheck::Case> all = fm::gpucheck::kernel_cases();
        return all;
    }

private slots:
    void kernel_matches_cpu_twin_data() { fm::gpucheck::add_case_rows(cases()); }
    void kernel_matches_cpu_twin() { fm::gpucheck::run_case_row(cases()); }
};

FM_GPU_TEST_MAIN(TestCudaKernels)
#include "test_cuda_kernels.moc"
