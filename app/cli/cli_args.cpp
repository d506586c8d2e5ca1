#include "app/cli/cli_args.h"

#include <charconv>
#include <stdexcept>

namespace fm::cli {

Result<Args> Args::parse(const std::vector<std::string>& argv, const std::set<std::string>& flags,
                         const std::set<std::string>& options) {
    Args args;
    for (size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (a.rfind("-", 0) != 0 || a == "-") {
            args.positional_.push_back(a);
            continue;
        }
        if (flags.count(a)) {
            args.values_[a] = "1";
        } else if (options.count(a)) {
            if (i + 1 >= argv.size()) return Error{"option " + a + " needs a value"};
            args.values_[a] = argv[++i];
        } else {
            return Error{"unknown option " + a};
        }
    }
    return args;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
}

Result<int64_t> Args::get_int(const std::string& name, int64_t fallback) const {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    int64_t v = 0;
    const auto& s = it->second;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return Error{name + " expects an integer, got '" + s + "'"};
    return v;
}

Result<double> Args::get_double(const std::string& name, double fallback) const {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    try {
        size_t used = 0;
        double v = std::stod(it->second, &used);
        if (used != it->second.size()) throw std::invalid_argument("trailing");
        return v;
    } catch (const std::exception&) {
        return Error{name + " expects a number, got '" + it->second + "'"};
    }
}

Result<std::vector<int32_t>> parse_id_list(const std::string& text) {
    std::vector<int32_t> ids;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t comma = text.find(',', pos);
        if (comma == std::string::npos) comma = text.size();
        std::string item = text.substr(pos, comma - pos);
        while (!item.empty() && item.front() == ' ') item.erase(item.begin());
        while (!item.empty() && item.back() == ' ') item.pop_back();
        if (!item.empty()) {
            int32_t v = 0;
            auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
            if (ec != std::errc() || p != item.data() + item.size() || v < 0)
                return Error{"'" + item + "' is not a token id"};
            ids.push_back(v);
        }
        pos = comma + 1;
    }
    return ids;
}

Result<std::vector<int32_t>> Args::get_ids(const std::string& name) const {
    if (!has(name)) return Error{"missing " + name};
    return parse_id_list(get(name));
}

int fail(std::ostream& err, const std::string& command, const std::string& message, int code) {
    err << "falcon-mamba-cli " << command << ": " << message << "\n";
    return code;
}

std::set<std::string> with(std::set<std::string> a, const std::set<std::string>& b) {
    a.insert(b.begin(), b.end());
    return a;
}

}  // namespace fm::cli
