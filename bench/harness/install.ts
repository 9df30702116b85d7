// Installs the Debian packages the comparison needs when they are missing (as root), without letting
// their services start: a temporary /usr/sbin/policy-rc.d answers 101 during the install.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

const PACKAGES: Record<string, string> = {
  tsung: '/usr/bin/tsung',
  ejabberd: '/usr/sbin/ejabberdctl',
  prosody: '/usr/bin/prosody',
  'erlang-dev': '/usr/bin/erlc', // erlc compiles the patched ts_jabber module
  patch: '/usr/bin/patch',
};

export function installed(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed') && existsSync(PACKAGES[pkg] ?? '/');
}

export function ensurePackages(wanted: string[]): void {
  const missing = wanted.filter((p) => !installed(p));
  if (!missing.length) return;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages ${missing.join(', ')}; run as root to install them`);
  console.error(`installing ${missing.join(' ')} from Debian (services kept from starting)…`);
  const policy = '/usr/sbin/policy-rc.d';
  const saved = existsSync(policy) ? readFileSync(policy) : null;
  const backup = `${policy}.parley-bench`;
  if (saved) renameSync(policy, backup);
  writeFileSync(policy, '#!/bin/sh\n# parley bench: no service starts during the install\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env, timeout: 600_000 });
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env, timeout: 1_200_000 });
  } finally {
    rmSync(policy, { force: true });
    if (saved) renameSync(backup, policy);
  }
  // Debian's units may still have been enabled; make sure none of them runs now.
  // (PostgreSQL's only when this install brought it: a cluster already in use is not ours to stop.)
  const units = ['ejabberd', 'prosody', ...(missing.includes('postgresql') ? ['postgresql'] : [])];
  for (const unit of units) spawnSync('systemctl', ['stop', unit], { stdio: 'ignore' });
  const still = missing.filter((p) => !installed(p));
  if (still.length) throw new Error(`could not install ${still.join(', ')}`);
}

export const PEER_PACKAGES = {
  parley: [],
  'parley-pg': ['postgresql'], // the harness runs a throwaway cluster of its own (or --pg-url)
  ejabberd: ['ejabberd'],
  'ejabberd-mam-sql': ['ejabberd', 'erlang-p1-sqlite3'], // ejabberd's sqlite driver
  'ejabberd-mam-mnesia': ['ejabberd'],
  prosody: ['prosody'],
} as const;
export const TSUNG_PACKAGES = ['tsung', 'erlang-dev', 'patch'];
