#pragma once
// Shared by the fuzz targets: a private scratch folder per process, for the loaders that only
// read files (folder layouts), and a helper that writes bytes into it. The folder is in
// /dev/shm where there is one (memory, not disk: a write per input costs microseconds) and is
// removed when the process exits.

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace fm::fuzz {

inline const std::filesystem::path& scratch_dir() {
    // Never destroyed, so the exit handler that removes it can still read it.
    static const std::filesystem::path* dir = [] {
        std::error_code ec;
        const std::filesystem::path base =
            std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm" : std::filesystem::temp_directory_path();
        auto* d = new std::filesystem::path(base / ("fm-fuzz-" + std::to_string(::getpid())));
        std::filesystem::create_directories(*d);
        std::atexit([] {
            std::error_code ignored;
            std::filesystem::remove_all(scratch_dir(), ignored);
        });
        return d;
    }();
    return *dir;
}

inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace fm::fuzz
