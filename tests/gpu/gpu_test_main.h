#pragma once
// main() for the GPU tests: with no usable CUDA device, say why and exit 77 (CTest: skipped);
// otherwise run the Qt Test object.

#include <QCoreApplication>
#include <QTest>

#include <cstdio>
#include <string>

#include "tests/gpu/tools/gpu_checks.h"

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
