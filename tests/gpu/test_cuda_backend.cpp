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
    void backend_matches_cpu_data() { fm::gpucheck::add_case_rows(cases()); }
    void backend_matches_cpu() { fm::gpucheck::run_case_row(cases()); }
};

FM_GPU_TEST_MAIN(TestCudaBackend)
#include "test_cuda_backend.moc"
