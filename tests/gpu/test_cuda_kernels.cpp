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
    void kernel_matches_cpu_twin_data() {
        QTest::addColumn<int>("index");
        const auto& all = cases();
        for (size_t i = 0; i < all.size(); ++i) QTest::newRow(all[i].name.c_str()) << static_cast<int>(i);
    }
    void kernel_matches_cpu_twin() {
        QFETCH(int, index);
        const fm::gpucheck::Outcome o = cases()[static_cast<size_t>(index)].run();
        QVERIFY2(o.pass, o.detail.c_str());
    }
};

FM_GPU_TEST_MAIN(TestCudaKernels)
#include "test_cuda_kernels.moc"
