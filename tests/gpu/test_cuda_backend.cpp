// The whole CUDA backend against the CPU backend on the fixture checkpoints
// (tests/gpu/tools/backend_checks.cpp): logits, chunked prefill vs token by token,
// prefill-then-decode vs one pass, graph replay vs direct launches, state round trips.

#include <QObject>
#include <QTest>

#include "tests/gpu/gpu_test_main.h"
#include "tests/gpu/tools/gpu_checks.h"

class TestCudaBackend : public QObject {
    Q_OBJECT

    const std::vector<fm::gpucheck::Case>& cases() {
        static const std::vector<fm::gpucheck::Case> all = fm::gpucheck::backend_cases(FM_TEST_DATA_DIR);
        return all;
    }

private slots:
    void backend_matches_cpu_data() {
        QTest::addColumn<int>("index");
        const auto& all = cases();
        for (size_t i = 0; i < all.size(); ++i) QTest::newRow(all[i].name.c_str()) << static_cast<int>(i);
    }
    void backend_matches_cpu() {
        QFETCH(int, index);
        const fm::gpucheck::Outcome o = cases()[static_cast<size_t>(index)].run();
        QVERIFY2(o.pass, o.detail.c_str());
    }
};

FM_GPU_TEST_MAIN(TestCudaBackend)
#include "test_cuda_backend.moc"
