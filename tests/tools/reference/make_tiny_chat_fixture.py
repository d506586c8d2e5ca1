#!/usr/bin/env python3
"""Writes tests/data/tiny-chat: the tiny random Falcon Mamba checkpoint (vocab 512) paired with a
small byte-level BPE tokenizer of exactly 512 entries and a ChatML chat template, so that the app
and the end-to-end tests can chat with a real (if random) model. Run once; the output is committed.

Token ids: 0 <|endoftext|>, 1 <|im_start|>, 2 <|im_end|> (special added tokens), 3..258 the 256
byte-level characters, 259..511 merges learned greedily from the corpus below."""
import collections, json, os, re, shutil, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SRC = os.path.join(ROOT, "tests", "data", "checkpoints", "tiny-bf16")
OUT = os.path.join(ROOT, "tests", "data", "tiny-chat")

CORPUS = """
Falcon Mamba is a state space language model. It keeps a fixed size recurrent state instead of a
cache that grows with every token, so memory and time per token stay flat however long the
conversation gets. Hello! How are you today? I am fine, thank you. What can I help you with?
Please write a short poem about the sea. The sea is wide and the wind is cold; the waves are
blue and the sand is gold. Tell me a story about a small robot who wanted to learn to paint.
Explain how a recurrent neural network processes a sequence one token at a time. The quick brown
fox jumps over the lazy dog. Can you summarize this text in one sentence? Yes, of course.
The user asked a question and the assistant answered it with care and attention to detail.
"""

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))

def main():
    b2u = bytes_to_unicode()
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    vocab = {}
    for i, s in enumerate(specials):
        vocab[s] = i
    for b in range(256):
        vocab[b2u[b]] = len(vocab)
    pat = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")
    words = collections.Counter("".join(b2u[b] for b in w.encode()) for w in pat.findall(CORPUS))
    splits = {w: list(w) for w in words}
    merges = []
    while len(vocab) < 512:
        pairs = collections.Counter()
        for w, c in words.items():
            s = splits[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        vocab[best[0] + best[1]] = len(vocab)
        for w in splits:
            s, out, i = splits[w], [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1]); i += 2
                else:
                    out.append(s[i]); i += 1
            splits[w] = out
    assert len(vocab) == 512, len(vocab)
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, s in enumerate(specials)],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "vocab": vocab,
                  "merges": [a + " " + b for a, b in merges]},
    }
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False, indent=1)
    template = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
                "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
    with open(os.path.join(OUT, "tokenizer_config.json"), "w") as f:
        json.dump({"chat_template": template, "eos_token": "<|im_end|>", "bos_token": None,
                   "tokenizer_class": "PreTrainedTokenizerFast"}, f, indent=1)
    with open(os.path.join(OUT, "generation_config.json"), "w") as f:
        json.dump({"eos_token_id": [2, 0]}, f)
    config = json.load(open(os.path.join(SRC, "config.json")))
    config.update({"bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0})
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    shutil.copyfile(os.path.join(SRC, "model.safetensors"), os.path.join(OUT, "model.safetensors"))

if __name__ == "__main__":
    main()
