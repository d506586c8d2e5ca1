#include "app/cli/cli.h"

#include <ostream>

#ifndef FM_VERSION
#define FM_VERSION "0.0.0"
#endif

namespace fm::cli {
namespace {

const char* kUsage = R"(usage: falcon-mamba-cli COMMAND [options]

Model commands (--model DIR is a Hugging Face checkpoint folder; add --4bit to quantize on load,
--backend auto|cpu|cuda, --threads N; 0 or absent: one per physical core):
  info       --model DIR                         configuration, sizes and memory as JSON
  logits     --model DIR --tokens 1,2,3 --out FILE.npy [--chunk N]
                                                 float32 [T, vocab]: row t = logits after token t
  bench      --model DIR [--prompt-tokens 512] [--generate 128] [--chunk 256] [--threads 1,2]
             [--bandwidth-mib 1024]              one JSON line per thread count: load time,
                                                 prefill/decode tokens/s, time to first token,
                                                 peak RSS, resident weights, bytes per token and
                                                 its share of the measured read bandwidth;
             --flat 100,10000 [--rounds 5]       decode speed after prompts of these lengths,
                                                 alternating in one process
Text commands:
  tokenize   (--tokenizer FILE | --model DIR) [--parse-special] (--text S | --text-file F)
  detokenize (--tokenizer FILE | --model DIR) --ids 1,2,3 [--skip-special]
  render     --model DIR --messages FILE.json [--add-generation-prompt]
  generate   --model DIR (-p TEXT | --prompt-tokens 1,2,3) [-n N] [--temp T] [--top-k K] [--top-p P]
             [--min-p P] [--repeat-penalty R] [--seed S] [--print-ids]
             [--save-state FILE] [--load-state FILE]
  chat       --model DIR [--system TEXT] [--save-state FILE] [--load-state FILE]
  serve      --model DIR [--host 127.0.0.1] [--port 8080] [--api-key KEY] [--cache-states N]
             [--queue N] [--max-tokens-cap N] [--cors-origins A,B] [--model-id NAME] [--verbose]
                                                 OpenAI-compatible HTTP API (docs/api.md)
Other:
  --version, --help
)";
#ifdef FM_CLI_HAS_STORAGE
const char* kStorageUsage = R"(Conversation commands (--db FILE is the app's conversation database):
  export     --db FILE (--conversation ID | --all) [--format md|json|html|txt|pdf] --out PATH
                                                 the visible branch as a document, or the whole
                                                 trees as JSON; the format defaults to PATH's suffix
  import     --db FILE --in PATH                 a JSON export, validated, all or nothing
)";
#else
const char* kStorageUsage = "";
#endif
#ifdef FM_CLI_HAS_DOWNLOADS
const char* kDownloadUsage = R"(Hugging Face Hub (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE, HF_HUB_OFFLINE are honoured):
  download   REPO [--revision R] [--cache-dir DIR]
                                                 a checkpoint's files into the hub cache, resumed
                                                 when interrupted; prints the snapshot folder
)";
#else
const char* kDownloadUsage = "";
#endif

}  // namespace

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, std::istream& in) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        (args.empty() ? err : out) << kUsage << kStorageUsage << kDownloadUsage;
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
        out << "falcon-mamba-cli " << FM_VERSION << "\n";
        return 0;
    }
    const std::string command = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "info") return cmd_info(rest, out, err);
    if (command == "logits") return cmd_logits(rest, out, err);
    if (command == "bench") return cmd_bench(rest, out, err);
    if (command == "tokenize") return cmd_tokenize(rest, out, err);
    if (command == "detokenize") return cmd_detokenize(rest, out, err);
    if (command == "render") return cmd_render(rest, out, err);
    if (command == "generate") return cmd_generate(rest, out, err);
    if (command == "chat") return cmd_chat(rest, out, err, in);
#ifdef FM_CLI_HAS_SERVER
    if (command == "serve") return cmd_serve(rest, out, err);
#endif
#ifdef FM_CLI_HAS_STORAGE
    if (command == "export") return cmd_export(rest, out, err);
    if (command == "import") return cmd_import(rest, out, err);
#endif
#ifdef FM_CLI_HAS_DOWNLOADS
    if (command == "download") return cmd_download(rest, out, err);
#endif
    err << "falcon-mamba-cli: unknown command '" << command << "'\n" << kUsage;
    return 2;
}

}  // namespace fm::cli
