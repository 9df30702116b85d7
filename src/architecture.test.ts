// The layer rules of shared/DESIGN.md, checked on every import under src/: a folder may import only
// the folders below it; the core never imports a module; a module uses the core through core/api.ts
// and another module only through that module's index.ts. Tests, contract suites and fixtures are
// exempt (they wire real parts together).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Which top-level folders of src/ each folder may import (itself always). */
const MAY_IMPORT: Record<string, readonly string[]> = {
  util: [],
  // metrics/ imports nothing of ours: every layer may update its counters (DESIGN.md).
  metrics: [],
  xml: ['util'],
  xmpp: ['xml', 'util'],
  config: ['util'],
  storage: ['config', 'metrics', 'util'],
  cluster: ['xml', 'xmpp', 'metrics', 'util'],
  transport: ['xml', 'xmpp', 'util'],
  core: ['transport', 'xmpp', 'xml', 'config', 'storage', 'cluster', 'metrics', 'util'],
  chat: ['storage', 'util'],
  accounts: ['storage', 'util'],
  'custom-objects': ['chat', 'storage', 'util'],
  identity: ['chat', 'storage', 'util'],
  mail: ['config', 'util'],
  export: ['chat', 'storage', 'util'],
  qb: ['chat', 'storage', 'xml', 'xmpp', 'util'],
  push: ['chat', 'cluster', 'storage', 'config', 'metrics', 'util'],
  modules: ['core', 'qb', 'chat', 'accounts', 'push', 'cluster', 'storage', 'config', 'xml', 'xmpp', 'metrics', 'util'],
  rest: ['chat', 'accounts', 'custom-objects', 'identity', 'mail', 'export', 'push', 'storage', 'config', 'metrics', 'util'],
};

/** Folders that only compose others (the composition root, the CLI, the console) may import anything. */
const COMPOSERS = new Set(['', 'cli', 'admin']);

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    const exempt = name.endsWith('.test.ts') || /contract|fixture|harness|test-schema/.test(name);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') && !exempt ? [path] : [];
  });
}

interface Import {
  file: string;
  target: string;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const out: Import[] = [];
  for (const match of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
    out.push({ file: relative(srcDir, file), target: relative(srcDir, normalize(join(dirname(file), match[1]!))).replace(/\.js$/, '.ts') });
  }
  return out;
}

const top = (path: string): string => (path.includes('/') ? path.split('/')[0]! : '');

export function violations(imports: Import[]): string[] {
  const found: string[] = [];
  for (const { file, target } of imports) {
    const from = top(file);
    const to = top(target);
    if (COMPOSERS.has(from)) continue;
    const allowed = MAY_IMPORT[from];
    if (from !== to && !allowed?.includes(to)) found.push(`${file} → ${target}: ${from || 'src'} may not import ${to || 'the composition root'}`);
    if (from === 'modules' && to === 'core' && target !== 'core/api.ts') found.push(`${file} → ${target}: modules use the core through core/api.ts`);
    if (from === 'modules' && to === 'modules') {
      const own = file.split('/')[1];
      const [, other, ...rest] = target.split('/');
      if (other !== own && rest.join('/') !== 'index.ts') found.push(`${file} → ${target}: another module only through its index.ts`);
    }
  }
  return found;
}

describe('architecture', () => {
  it('every import under src/ follows the layer rules', () => {
    const all = sourceFiles(srcDir).flatMap(importsOf);
    assert.ok(all.length > 100, 'found the imports');
    assert.deepEqual(violations(all), []);
  });

  it('catches an import that breaks them', () => {
    assert.deepEqual(violations([
      { file: 'core/router.ts', target: 'modules/muc/index.ts' },
      { file: 'chat/messages.ts', target: 'rest/users.ts' },
      { file: 'util/tls.ts', target: 'config/types.ts' },
      { file: 'modules/muc/index.ts', target: 'modules/stream-management/counters.ts' },
      { file: 'modules/muc/index.ts', target: 'core/core.ts' },
    ]).length, 5);
    assert.deepEqual(violations([{ file: 'modules/muc/index.ts', target: 'modules/stream-management/index.ts' }]), []);
  });
});
