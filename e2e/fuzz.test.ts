// A short bounded run of the coverage-guided fuzzer (jsfuzz) over the XMPP stream parser and the
// REST parameter parsers (fuzz/targets.cjs): it must find new coverage and no crash. Longer runs:
// `npm run fuzz -- 600` (docs/security.md, Fuzzing).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('fuzzing', () => {
  it('18 s of jsfuzz on the XML and parameter parsers finds no crash', () => {
    const run = spawnSync(process.execPath, [path.join(root, 'fuzz', 'run.cjs'), '18'], { cwd: root, encoding: 'utf8', timeout: 90_000 });
    const tail = `${run.stdout}\n${run.stderr}`.slice(-3000);
    assert.equal(run.status, 0, tail);
    assert.match(run.stdout, /fuzz: 18 s, ran, no crash/);
  });
});
