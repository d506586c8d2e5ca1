#!/usr/bin/env bash
# Side-by-side rounds against llama.cpp, as docs/performance.md describes: for each round, our
# bf16, llama.cpp BF16, our 4-bit (quantize on load), our bnb fp4 and nf4 files, llama.cpp Q4_0,
# one after the other, 2 threads, prompt 512, decode 128. Prints one line per run:
#   round who prefill_tok_s decode_tok_s load_average
# Usage: peer_round.sh CLI LLAMA_BENCH MODEL_DIR ROUNDS
#   MODEL_DIR holds mid/ (bf16), mid-bnb-fp4/, mid-bnb-nf4/ (make_checkpoint --bnb), and the
#   llama.cpp conversions mid-bf16.gguf and mid-q4_0.gguf.
set -u
CLI=$1 LB=$2 DIR=$3 ROUNDS=${4:-3}
cd "$DIR" || exit 1
ours() { "$CLI" bench --model "$@" --backend cpu --threads 2 --prompt-tokens 512 --generate 128 --bandwidth-mib 0; }
peer() { "$LB" -m "$1" -p 512 -n 128 -t 2 -r 1 -o json; }
for r in $(seq 1 "$ROUNDS"); do
  for who in ours-bf16 llama-bf16 ours-4bit ours-bnb-fp4 ours-bnb-nf4 llama-q4_0; do
    case $who in
      ours-bf16) out=$(ours mid) ;;
      ours-4bit) out=$(ours mid --4bit) ;;
      ours-bnb-fp4) out=$(ours mid-bnb-fp4) ;;
      ours-bnb-nf4) out=$(ours mid-bnb-nf4) ;;
      llama-bf16) out=$(peer mid-bf16.gguf 2>/dev/null) ;;
      llama-q4_0) out=$(peer mid-q4_0.gguf 2>/dev/null) ;;
    esac
    echo "$out" | python3 -c '
import json, sys
who, r = sys.argv[1], sys.argv[2]
text = sys.stdin.read().strip()
if who.startswith("llama"):
    rows = json.loads(text)
    pp = [x["avg_ts"] for x in rows if x["n_prompt"] > 0][0]
    tg = [x["avg_ts"] for x in rows if x["n_gen"] > 0][0]
else:
    j = json.loads(text.splitlines()[-1])
    pp, tg = j["prefill_tokens_per_second"], j["decode_tokens_per_second"]
print(r, who, round(pp, 2), round(tg, 2), open("/proc/loadavg").read().split()[0])' "$who" "$r"
  done
done
