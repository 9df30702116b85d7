#!/usr/bin/env node
// Runs the coverage-guided fuzzer (jsfuzz) on fuzz/targets.cjs for N seconds (default 60):
// `node fuzz/run.cjs 15`. Builds the instrumented copies first (needs `npm run build`). The corpus
// grows in fuzz/corpus/ (seeded from fuzz/seeds/); a crashing input is saved as fuzz/crash-<hash>
// and the exit code is 1. Node 20 loads the ES modules through --experimental-require-module.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const seconds = Number(process.argv[2] ?? 60);
const dir = __dirname;
const corpus = path.join(dir, 'corpus');
execFileSync(process.execPath, [path.join(dir, 'instrument.cjs')], { stdio: 'inherit' });
fs.mkdirSync(corpus, { recursive: true });
for (const seed of fs.readdirSync(path.join(dir, 'seeds'))) {
  const target = path.join(corpus, `seed-${seed}`);
  if (!fs.existsSync(target)) fs.copyFileSync(path.join(dir, 'seeds', seed), target);
}
const before = new Set(fs.readdirSync(dir).filter((f) => f.startsWith('crash-')));
const jsfuzz = require.resolve('jsfuzz/build/src/index.js');
const child = spawn(process.execPath, [jsfuzz, 'targets.cjs', 'corpus', '--rss-limit-mb', '1024', '--timeout', '10'], {
  cwd: dir,
  detached: true, // its own process group, so that the forked worker ends with it
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --experimental-require-module --no-warnings`.trim() },
});
let output = '';
for (const stream of [child.stdout, child.stderr]) {
  stream.on('data', (d) => {
    output += d;
    process.stdout.write(d);
  });
}
const timer = setTimeout(() => {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}, seconds * 1000);
child.on('exit', (code, signal) => {
  clearTimeout(timer);
  const crashes = fs.readdirSync(dir).filter((f) => f.startsWith('crash-') && !before.has(f));
  const ran = /NEW\s+cov: [1-9]/.test(output);
  const crashed = crashes.length > 0 || output.includes('=====') || (signal === null && code !== 0);
  console.log(`\nfuzz: ${seconds} s, ${ran ? 'ran' : 'did not run'}, ${crashed ? `CRASH ${crashes.join(' ')}` : 'no crash'}`);
  process.exit(crashed || !ran ? 1 : 0);
});
