// Time Hugging Face `tokenizers` (npm) takes to load a tokenizer.json, best and median of N
// runs in one process, as JSON: the reference for bench_tokenizer's "load" figures.
//
// Usage: npm install --prefix /tmp/hf tokenizers@0.23.2
//        node tests/tools/reference/hf_load_time.mjs /tmp/hf/node_modules [tokenizer.json] [runs]
import path from 'path';
import { createRequire } from 'module';

const [nodeModules, file = 'tests/data/tokenizers/falcon-tokenizer/tokenizer.json', runs = '10'] = process.argv.slice(2);
if (!nodeModules) {
  console.error('usage: node hf_load_time.mjs NODE_MODULES [tokenizer.json] [runs]');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(nodeModules), 'x.js'));
const hf = require('tokenizers');
const version = require('tokenizers/package.json').version;
const times = [];
for (let k = 0; k < Number(runs); ++k) {
  const t0 = process.hrtime.bigint();
  const tok = hf.Tokenizer.fromFile(file);
  times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  if (tok.getVocabSize() <= 0) throw new Error('empty vocabulary');
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ tokenizers: version, file, runs: times.length, best_s: times[0],
  median_s: times[Math.floor(times.length / 2)] }));
