#include "app/process_memory.h"

#include <unistd.h>
#include <cstdio>

namespace fm::app {

qint64 residentBytes() {
    // statm: "size resident shared text lib data dt", in pages. One small read of a procfs
    // file: cheap enough for a GUI-thread timer.
    std::FILE* file = std::fopen("/proc/self/statm", "r");
    if (!file) return -1;
    long long size = 0, resident = 0;
    const int fields = std::fscanf(file, "%lld %lld", &size, &resident);
    std::fclose(file);
    if (fields != 2) return -1;
    return static_cast<qint64>(resident) * static_cast<qint64>(sysconf(_SC_PAGESIZE));
}

}  // namespace fm::app
