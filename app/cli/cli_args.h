#pragma once
// A small argument parser for falcon-mamba-cli: `--name value` options and `--flag` switches
// after a command word. Errors are returned, never printed from here.

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "inference/core/result.h"

namespace fm::cli {

class Args {
public:
    // `flags` are switches without values; every other --option takes one value.
    static Result<Args> parse(const std::vector<std::string>& argv, const std::set<std::string>& flags,
                              const std::set<std::string>& options);

    bool has(const std::string& name) const { return values_.count(name) > 0; }
    void set(const std::string& name, std::string value) { values_[name] = std::move(value); }
    std::string get(const std::string& name, const std::string& fallback = "") const;
    Result<int64_t> get_int(const std::string& name, int64_t fallback) const;
    Result<double> get_double(const std::string& name, double fallback) const;
    Result<std::vector<int32_t>> get_ids(const std::string& name) const;  // "1,2,3"
    const std::vector<std::string>& positional() const { return positional_; }

private:
    std::map<std::string, std::string> values_;
    std::vector<std::string> positional_;
};

Result<std::vector<int32_t>> parse_id_list(const std::string& text);

// "falcon-mamba-cli COMMAND: MESSAGE" on err; returns `code`, the exit status.
int fail(std::ostream& err, const std::string& command, const std::string& message, int code = 1);
// The union of two option sets (the common model options and a command's own).
std::set<std::string> with(std::set<std::string> a, const std::set<std::string>& b);

}  // namespace fm::cli
