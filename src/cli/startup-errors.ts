// Start-up failures an operator can fix, said in terms of what to change: the configuration key of
// a port that is taken, the path of a database that cannot be written.
import type { Config } from '../config/types.js';
import { CONFIG_KEYS } from '../config/load.js';
import { sqliteFile } from '../storage/sqlite/index.js';

const PORT_KEYS = ['c2s_port', 'c2s_tls_port', 'ws_port', 'http_port', 'https_port', 'metrics_port'] as const;

const keyAndEnv = (key: string): string => `${key} (${CONFIG_KEYS.find((k) => k.key === key)?.env ?? key.toUpperCase()})`;

/** A sentence naming what to change, or null when the error is not one of these. */
export function explainStartupError(err: unknown, config: Config): string | null {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if ((e?.code === 'EADDRINUSE' || e?.code === 'EACCES' || e?.code === 'EADDRNOTAVAIL') && e.syscall === 'listen') {
    const keys = PORT_KEYS.filter((k) => config[k] === e.port);
    const key = keys.length > 0 ? keys.map(keyAndEnv).join(' and ') : 'a port setting';
    const bindKey = keys.includes('metrics_port' as never) && keys.length === 1 ? 'metrics_bind' : 'bind';
    if (e.code === 'EADDRINUSE') return `port ${e.port} on ${e.address ?? config.bind} is already in use: stop what holds it or change ${key} (0 turns the listener off)`;
    if (e.code === 'EACCES') return `not allowed to listen on port ${e.port} (ports below 1024 need privileges): change ${key}`;
    return `cannot listen on ${e.address}:${e.port}: the address is not on this machine; change ${keyAndEnv(bindKey)}`;
  }
  const denied = e?.code === 'EACCES' || e?.code === 'EPERM' || e?.code === 'EROFS';
  if (denied && typeof e.path === 'string' && e.path.startsWith(config.data_dir)) {
    return `cannot write ${e.path} (${e.syscall ?? 'access'}: ${e.code}): make the data directory writable by this user (uid ${process.getuid?.() ?? '?'}), or change ${keyAndEnv('data_dir')}`;
  }
  if (config.store === 'sqlite') {
    const file = sqliteFile(config.data_dir);
    if (e?.code === 'SQLITE_READONLY' || e?.code === 'SQLITE_READONLY_DIRECTORY' || e?.code === 'SQLITE_CANTOPEN' || (e?.code === 'EACCES' && e.syscall === 'mkdir')) {
      return `cannot write the database ${file}: make it and its directory writable by this user (uid ${process.getuid?.() ?? '?'}), or change ${keyAndEnv('data_dir')} (${e.message})`;
    }
  }
  return null;
}
