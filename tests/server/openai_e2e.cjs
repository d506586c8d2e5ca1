// The server through the official OpenAI Node client. Arguments: SCRATCH BASE_URL API_KEY CLI MODEL.
'use strict';
const path = require('path');
const assert = require('assert/strict');
const { execFileSync } = require('child_process');

const [scratch, baseURL, apiKey, cli, modelDir] = process.argv.slice(2);
const openaiModule = require(path.join(scratch, 'node_modules', 'openai'));
const OpenAI = openaiModule.default || openaiModule.OpenAI || openaiModule;

const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const model = 'tiny-chat';
const hello = [{ role: 'user', content: 'Hello, how are you?' }];

// What falcon-mamba-cli generate prints for the same conversation, greedy.
function cliGreedy(prompt, n) {
  const out = execFileSync(cli, ['generate', '--model', modelDir, '--backend', 'cpu', '--chat', '-p', prompt, '-n',
    String(n), '--temp', '0', '--repeat-penalty', '1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return out.toString('utf8').replace(/\n$/, '');
}

async function health() {
  const r = await fetch(baseURL.replace(/\/v1$/, '') + '/health');
  return r.json();
}

async function main() {
  const checks = [];
  const check = (name, fn) => checks.push([name, fn]);

  check('lists the model', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids, [model]);
  });

  let greedy = '';
  check('non-streamed greedy chat equals falcon-mamba-cli generate', async () => {
    const r = await client.chat.completions.create({ model, messages: hello, temperature: 0, max_tokens: 24 });
    greedy = r.choices[0].message.content;
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.equal(greedy, cliGreedy('Hello, how are you?', 24));
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
    assert.equal(typeof r.usage.prompt_tokens_details.cached_tokens, 'number');
  });

  check('streamed chat gives the same text, then usage', async () => {
    const stream = await client.chat.completions.create({ model, messages: hello, temperature: 0, max_tokens: 24,
      stream: true, stream_options: { include_usage: true } });
    let text = '', usage = null, finish = null;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      if (chunk.choices.length) {
        text += chunk.choices[0].delta.content || '';
        finish = chunk.choices[0].finish_reason || finish;
      }
    }
    assert.equal(text, greedy);
    assert.equal(finish, 'length');
    assert.equal(usage.completion_tokens, 24);
    // The same prompt again: read from the prefix cache.
    assert.equal(usage.prompt_tokens_details.cached_tokens, usage.prompt_tokens);
  });

  check('stop strings end the reply before them', async () => {
    const stop = greedy.slice(6, 9);
    const r = await client.chat.completions.create({ model, messages: hello, temperature: 0, max_tokens: 24,
      stop: ['not in the reply', stop] });
    assert.equal(r.choices[0].message.content, greedy.slice(0, greedy.indexOf(stop)));
    assert.equal(r.choices[0].finish_reason, 'stop');
  });

  check('max_tokens bounds the reply', async () => {
    const r = await client.chat.completions.create({ model, messages: hello, max_tokens: 5 });
    assert.equal(r.usage.completion_tokens, 5);
    assert.equal(r.choices[0].finish_reason, 'length');
  });

  check('the same seed gives the same sampled reply', async () => {
    const ask = (seed) => client.chat.completions.create({ model, messages: hello, temperature: 1, top_p: 0.9,
      seed, max_tokens: 20 }).then((r) => r.choices[0].message.content);
    const [a, b] = [await ask(1234), await ask(1234)];
    assert.equal(a, b);
  });

  check('completions endpoint', async () => {
    const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 6, temperature: 0 });
    assert.equal(r.object, 'text_completion');
    assert.equal(r.usage.completion_tokens, 6);
  });

  check('a cancelled stream stops its generation', async () => {
    const before = (await health()).requests_cancelled;
    const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi' }],
      temperature: 0, max_tokens: 4000, stream: true });
    let chunks = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0].delta.content && ++chunks === 3) break;  // leaving the loop aborts the request
    }
    let after = before;
    for (let i = 0; i < 100 && after === before; ++i) {
      await new Promise((r) => setTimeout(r, 50));
      after = (await health()).requests_cancelled;
    }
    assert.equal(after, before + 1);
    const r = await client.chat.completions.create({ model, messages: hello, max_tokens: 2 });
    assert.equal(r.usage.completion_tokens, 2);
  });

  check('a wrong API key gets 401', async () => {
    const wrong = new OpenAI({ baseURL, apiKey: 'sk-wrong', maxRetries: 0 });
    await assert.rejects(() => wrong.models.list(), (e) => e.status === 401 && e instanceof OpenAI.AuthenticationError);
  });

  check('a bad parameter gets 400 naming it', async () => {
    await assert.rejects(() => client.chat.completions.create({ model, messages: hello, n: 2 }),
      (e) => e.status === 400 && e.param === 'n');
  });

  let failed = 0;
  for (const [name, fn] of checks) {
    try {
      await fn();
      console.log(`ok - ${name}`);
    } catch (e) {
      failed++;
      console.log(`FAIL - ${name}: ${e && e.stack ? e.stack : e}`);
    }
  }
  console.log(`${checks.length - failed}/${checks.length} passed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
