#pragma once
// main() for the GPU tests: with no usable CUDA device, say why and exit 77 (CTest: skipped);
// otherwise run the Qt Test object. And the data rows of a list of checks: one row per case,
// named after it.

#include <QCoreApplication>
#include <QTest>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/gpu/tools/gpu_checks.h"

namespace fm::gpucheck {

// In a _data function: one row per case (the column is its index).
inline void add_case_rows(const std::vector<Case>& cases) {
    QTest::addColumn<int>("index");
    for (size_t i = 0; i < cases.size(); ++i) QTest::newRow(cases[i].name.c_str()) << static_cast<int>(i);
}

// In the test function: runs the current row's case; fails with its detail.
inline void run_case_row(const std::vector<Case>& cases) {
    QFETCH(int, index);
    const Outcome o = cases[static_cast<size_t>(index)].run();
    QVERIFY2(o.pass, o.detail.c_str());
}

}  // namespace fm::gpucheck

#define FM_GPU_TEST_MAIN(TestClass)                                 \
    int main(int argc, char** argv) {                               \
        std::string why;                                            \
        if (!fm::gpucheck::have_device(&why)) {                     \
            std::printf("SKIP: %s: %s\n", #TestClass, why.c_str()); \
            return 77;                                              \
        }                                                           \
        QCoreApplication app(argc, argv);                           \
        TestClass tc;                                               \
        return QTest::qExec(&tc, argc, argv);                       \
    }
