#pragma once
// Library entry points never let an exception escape: what a loader did not foresee (out of
// memory, a standard-library length error on a forged size) becomes an error naming what was
// being done, instead of terminating the program.

#include <exception>
#include <new>
#include <string>

#include "inference/core/result.h"

namespace fm {

// Runs `body` (returning Result<T> or Status) and turns any exception into an error saying
// `what` was being done.
template <typename R, typename F>
R guarded(const std::string& what, F&& body) noexcept {
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return Error{what + ": out of memory"};
    } catch (const std::exception& e) {
        return Error{what + ": " + e.what()};
    } catch (...) {
        return Error{what + ": unexpected failure"};
    }
}

}  // namespace fm
