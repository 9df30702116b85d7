// Docker cannot run here, so the deployment files are checked for what can be checked: they parse,
// and their commands, ports, environment and health checks are the ones Parley has and the README
// documents (docker-compose.yml through the `yaml` package; Dockerfile and the systemd unit by line).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CONFIG_KEYS, loadConfig } from '../src/config/load.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');
const ENV_NAMES = new Set(CONFIG_KEYS.map((k) => k.env));
const DEFAULTS = loadConfig({ file: null, env: {} });
const SERVICE_PORTS = [DEFAULTS.c2s_port, DEFAULTS.c2s_tls_port, DEFAULTS.ws_port, DEFAULTS.http_port, DEFAULTS.https_port];
const README = read('README.md');
const production = README.slice(README.indexOf('## Running in production'));

/** Dockerfile instructions (continuation lines joined), by stage. */
function dockerStages(text: string): { instruction: string; args: string }[][] {
  const joined = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages: { instruction: string; args: string }[][] = [];
  for (const line of joined) {
    const [, instruction = '', args = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (instruction.toUpperCase() === 'FROM') stages.push([]);
    stages.at(-1)!.push({ instruction: instruction.toUpperCase(), args });
  }
  return stages;
}

/** A systemd unit as section → key → values. */
function unit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const section = /^\[(\w+)\]$/.exec(line);
    if (section) {
      sections.set(section[1]!, (current = new Map()));
      continue;
    }
    const [key, ...rest] = line.split('=');
    assert.ok(current && key && rest.length > 0, `a key=value line inside a section: ${line}`);
    current.set(key!, [...(current.get(key!) ?? []), rest.join('=')]);
  }
  return sections;
}

describe('deployment files', () => {
  it('Dockerfile: multi-stage, non-root, a data volume, a health check, the documented command and ports', () => {
    const stages = dockerStages(read('Dockerfile'));
    assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
    const final = stages.at(-1)!;
    const one = (name: string) => final.filter((i) => i.instruction === name).map((i) => i.args);
    assert.match(stages[0]![0]!.args, /^node:20\S* AS build$/);
    assert.ok(stages[0]!.some((i) => i.instruction === 'RUN' && /npm ci --omit=dev/.test(i.args)), 'the build stage installs the production dependencies (prepare compiles)');
    assert.ok(final.some((i) => i.instruction === 'COPY' && i.args.startsWith('--from=build')), 'the runtime stage copies the build');
    assert.deepEqual(one('USER'), ['node']);
    assert.deepEqual(one('VOLUME'), ['["/data"]']);
    const env = Object.fromEntries(one('ENV').join(' ').split(/\s+/).filter(Boolean).map((kv) => kv.split('=') as [string, string]));
    for (const name of Object.keys(env).filter((n) => n.startsWith('PARLEY_'))) assert.ok(ENV_NAMES.has(name), `${name} is a configuration variable`);
    assert.equal(env.PARLEY_DATA_DIR, '/data', 'the data directory is the volume');
    assert.deepEqual(one('EXPOSE')[0]!.split(/\s+/).map(Number), [...SERVICE_PORTS, Number(env.PARLEY_METRICS_PORT)]);
    const [health] = one('HEALTHCHECK');
    assert.match(health!, /CMD .*\/health/);
    const cmd = JSON.parse(one('CMD')[0]!) as string[];
    assert.deepEqual(cmd, ['node', 'bin/parley.js', 'serve']);
    assert.ok(production.includes('docker build -t parley .'), 'the README shows how to build the image');
    const run = /docker run [^\n]*/.exec(production)?.[0] ?? '';
    assert.match(run, /-v parley-data:\/data/, 'the README mounts the volume');
    assert.deepEqual([...run.matchAll(/-p (\d+):(\d+)/g)].map((m) => Number(m[2])), SERVICE_PORTS, 'the README publishes the ports the image exposes');
  });

  it('docker-compose.yml: two Parley nodes on PostgreSQL and Redis, as the README describes', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any>; volumes: Record<string, unknown> };
    assert.deepEqual(Object.keys(compose.services).sort(), ['parley1', 'parley2', 'postgres', 'redis']);
    const nodes = ['parley1', 'parley2'].map((name) => compose.services[name]);
    const ids = new Set<string>();
    const published: number[][] = [];
    for (const node of nodes) {
      assert.equal(node.build, '.');
      const env = node.environment as Record<string, string>;
      for (const name of Object.keys(env)) assert.ok(ENV_NAMES.has(name), `${name} is a configuration variable`);
      assert.equal(env.PARLEY_STORE, 'postgres');
      assert.equal(new URL(env.PARLEY_DATABASE_URL!.replace(/\$\{[^}]*\}/, 'pw')).hostname, 'postgres');
      assert.equal(new URL(env.PARLEY_REDIS_URL!).hostname, 'redis');
      ids.add(env.PARLEY_CLUSTER_NODE_ID!);
      assert.deepEqual(node.volumes, ['parley-data:/data'], 'one shared volume: uploaded files and the certificate');
      const ports = (node.ports as string[]).map((p) => p.split(':').map(Number) as [number, number]);
      assert.deepEqual(ports.map(([, inside]) => inside), SERVICE_PORTS);
      published.push(ports.map(([outside]) => outside));
    }
    assert.equal(ids.size, 2, 'each node has its own cluster node id');
    assert.equal(nodes[1].depends_on.parley1.condition, 'service_healthy');
    assert.match(compose.services.postgres.image, /^postgres:/);
    assert.match(compose.services.redis.image, /^redis:/);
    assert.ok('parley-data' in compose.volumes);
    assert.ok(production.includes('docker compose up -d --build'));
    for (const ports of published) assert.ok(production.includes(ports.join(', ')), `the README lists ${ports.join(', ')}`);
  });

  it('deploy/parley.service: runs bin/parley.js serve as an unprivileged user, reloads with SIGHUP', () => {
    const u = unit(read('deploy/parley.service'));
    const service = u.get('Service')!;
    assert.ok(u.get('Unit') && u.get('Install'));
    assert.equal(service.get('ExecStart')![0], '/usr/bin/node /opt/parley/bin/parley.js serve');
    assert.equal(service.get('ExecReload')![0], '/bin/kill -HUP $MAINPID');
    assert.notEqual(service.get('User')![0], 'root');
    for (const line of service.get('Environment') ?? []) {
      const name = line.split('=')[0]!;
      if (name.startsWith('PARLEY_')) assert.ok(ENV_NAMES.has(name), `${name} is a configuration variable`);
    }
    assert.ok(service.get('ReadWritePaths')!.includes(service.get('Environment')!.find((e) => e.startsWith('PARLEY_DATA_DIR='))!.split('=')[1]!));
    assert.ok(production.includes('deploy/parley.service'));
    assert.ok(production.includes('systemctl reload parley'));
  });
});
