// Half of tests/interop/hf_hub_js.sh: the official JavaScript client (@huggingface/hub) downloads
// the same checkpoint files from the mock Hub into its own cache; the two caches must hold the
// same blobs, links and bytes; its cache scan must list ours.
// usage: node hf_hub_js.mjs PACKAGE_DIR ENDPOINT COMMIT THEIR_CACHE OUR_CACHE
import { lstat, readFile, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [packageDir, endpoint, commit, theirCache, ourCache] = process.argv.slice(2);
const hub = await import(pathToFileURL(join(packageDir, "node_modules/@huggingface/hub/dist/index.mjs")).href);
const repo = "tiiuae/tiny-chat";
const files = ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"];
console.debug = () => {};  // the client logs every file it downloads

for (const path of files) {
  await hub.downloadFileToCacheDir({ repo, path, revision: "main", cacheDir: theirCache, hubUrl: endpoint });
}

// Every entry under blobs/ and snapshots/: file with its bytes, or link with its target.
async function tree(root) {
  const entries = {};
  async function walk(relative) {
    for (const entry of await readdir(join(root, relative))) {
      const path = relative ? `${relative}/${entry}` : entry;
      const info = await lstat(join(root, path));
      if (info.isDirectory()) await walk(path);
      else if (info.isSymbolicLink()) entries[path] = `-> ${await readlink(join(root, path))}`;
      else entries[path] = (await readFile(join(root, path))).toString("base64");
    }
  }
  for (const top of ["blobs", "snapshots"]) await walk(top);
  return entries;
}

const folder = "models--tiiuae--tiny-chat";
const ours = await tree(join(ourCache, folder));
const theirs = await tree(join(theirCache, folder));
let failures = 0;
for (const path of new Set([...Object.keys(ours), ...Object.keys(theirs)])) {
  if (ours[path] === theirs[path]) continue;
  failures++;
  const show = (v) => (v === undefined ? "missing" : v.startsWith("->") ? v : `${Buffer.from(v, "base64").length} bytes`);
  console.log(`DIFFERENT ${path}: ours ${show(ours[path])}, @huggingface/hub ${show(theirs[path])}`);
}
console.log(`compared ${Object.keys(ours).length} entries (blobs and snapshot links): ${failures} different`);

const scan = await hub.scanCacheDir(ourCache);
const found = scan.repos.find((r) => r.id.name === repo && r.id.type === "model");
const revision = found?.revisions.find((r) => r.commitOid === commit);
console.log(`scanCacheDir(ours): ${JSON.stringify(scan.repos.map((r) => ({ id: r.id, filesCount: r.filesCount, size: r.size, revisions: r.revisions.map((v) => ({ commit: v.commitOid, refs: v.refs, files: v.files.length })) })))}`);
if (scan.warnings.length) console.log(`scan warnings: ${scan.warnings.map((w) => w.message).join("; ")}`);
if (!revision || revision.files.length !== files.length || !revision.refs.includes("main") || scan.warnings.length) {
  console.log("FAIL: @huggingface/hub's scan does not list our download as tiiuae/tiny-chat@main with 5 files");
  failures++;
}
process.exit(failures === 0 ? 0 : 1);
