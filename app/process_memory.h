#pragma once
// This process's resident memory, for the memory panel and the flat-memory test.

#include <QtGlobal>

namespace fm::app {

// Resident set size from /proc/self/statm (bytes), or -1 where there is no /proc.
qint64 residentBytes();

}  // namespace fm::app
