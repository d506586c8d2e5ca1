#pragma once
// falcon-mamba-cli: the command-line face of the inference library. run_cli is the whole
// program minus main(), so tests drive it with in-memory streams.

#include <iosfwd>
#include <string>
#include <vector>

namespace fm::cli {

// args excludes the program name. Returns the process exit code.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, std::istream& in);

// Each command; `args` excludes the command word.
int cmd_info(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_logits(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_bench(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_tokenize(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_detokenize(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_render(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_generate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_chat(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, std::istream& in);
// The OpenAI-compatible API server (serve_command.cpp; built with the server library only).
int cmd_serve(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
// Conversation database commands (storage_commands.cpp; built with the app's storage only).
int cmd_export(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int cmd_import(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
// A checkpoint from the Hugging Face Hub into its cache (download_command.cpp; built with Qt).
int cmd_download(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace fm::cli
