import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config, StoreDriver } from './types.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Kind = 'port' | 'count' | 'count0' | 'bool' | 'level' | 'store' | 'domain' | 'string' | 'string?' | 'path' | 'path?';
type Key = Exclude<keyof Config, 'config_file'>;

export interface ConfigKeyInfo {
  key: Key;
  env: string;
  default: Config[Key];
  description: string;
  kind: Kind;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const STORE_DRIVERS: readonly StoreDriver[] = ['sqlite', 'postgres'];

const key = (key: Key, def: Config[Key], kind: Kind, description: string): ConfigKeyInfo =>
  ({ key, env: `PARLEY_${key.toUpperCase()}`, default: def, kind, description });

/** Every settable key with its environment variable, default and description, in display order. */
export const CONFIG_KEYS: readonly ConfigKeyInfo[] = [
  key('data_dir', './data', 'path', 'Directory for the SQLite database, uploaded files and generated TLS certificates'),
  key('store', 'sqlite', 'store', `Storage driver: ${STORE_DRIVERS.join(' or ')} (see \`parley migrate\`)`),
  key('database_url', null, 'string?', 'PostgreSQL connection URL (postgres://user:password@host:5432/db) when store is postgres'),
  key('sqlite_read_workers', 2, 'count0', 'SQLite: worker threads, each with its own connection, that read chat history pages, dialog lists and their counts off the event loop; 0 = on the main thread'),
  key('sqlite_read_queue', 256, 'count', 'SQLite: chat reads waiting for a read worker beyond which a REST read is refused with 503 and Retry-After'),
  key('sqlite_commit_window_ms', 20, 'count0', 'SQLite: at a steady low rate, a stored write within this many milliseconds of the last commit waits for the rest of that window, so one commit and one disk flush serve several writes (longer: less CPU per message, more latency); 0 = off'),
  key('sqlite_wal_limit_mb', 64, 'count0', 'SQLite: under a steady stream of writes, once the WAL passes this many MiB the stored writes wait a few ms (1 s at most) while it is checkpointed in full, so the next commit starts it over; 0 = never, and the WAL file may grow for as long as the load lasts'),
  key('domain', 'localhost', 'domain', 'XMPP domain users live in (JIDs are <id>-<appId>@<domain>)'),
  key('bind', '127.0.0.1', 'string', 'Address the listeners bind to'),
  key('c2s_port', 5222, 'port', 'XMPP client port (STARTTLS); 0 = off'),
  key('c2s_tls_port', 5223, 'port', 'XMPP client port with direct TLS; 0 = off'),
  key('ws_port', 5291, 'port', 'XMPP over WebSocket port; 0 = off'),
  key('http_port', 8080, 'port', 'REST API HTTP port; 0 = off'),
  key('https_port', 8443, 'port', 'REST API HTTPS port; 0 = off'),
  key('log_level', 'info', 'level', `Log level: ${LOG_LEVELS.join(', ')}`),
  key('tls_cert_file', null, 'path?', 'PEM certificate; a self-signed one is generated in <data_dir>/tls if unset'),
  key('tls_key_file', null, 'path?', 'PEM private key for tls_cert_file'),
  key('require_starttls', false, 'bool', 'Refuse authentication on c2s before STARTTLS'),
  key('max_stanza_size', 65536, 'count', 'Largest accepted stanza, in characters (about bytes for ASCII)'),
  key('max_depth', 32, 'count', 'Deepest element nesting inside a stanza'),
  key('max_attributes', 64, 'count', 'Most attributes per element'),
  key('auth_timeout', 30, 'count', 'Seconds a connection may stay unauthenticated'),
  key('auth_failures_per_minute', 10, 'count', 'Failed SASL authentications allowed per account and remote address per minute (one user behind a NAT does not lock out the others)'),
  key('auth_attempts_per_minute', 30, 'count', 'SASL attempts of any outcome (success, failure, abort, restart) allowed per account and remote address per minute'),
  key('auth_attempts_per_address_per_minute', 600, 'count', 'SASL attempts of any outcome allowed per remote address per minute, whatever the account'),
  key('max_connections_per_ip', 200, 'count', 'Concurrent XMPP connections allowed per remote address (direct TLS counts from the TCP accept; a detached stream-management session keeps counting)'),
  key('max_resources_per_user', 10, 'count', 'Resources one account may have bound at once on this node (detached stream-management sessions included); past it bind fails with resource-constraint'),
  key('tls_handshake_timeout', 10, 'count', 'Seconds a TLS handshake may take: direct-TLS XMPP (c2s_tls_port) and the HTTPS listener'),
  key('proxy_protocol_from', null, 'string?', 'Comma-separated addresses or CIDR ranges of proxies trusted to send a PROXY protocol v1/v2 header on the XMPP TCP and direct-TLS listeners; unset = PROXY protocol off'),
  key('output_high_water', 262144, 'count', 'Bytes (about) of output queued for one XMPP connection above which the server stops reading its input and history replays wait'),
  key('max_output_buffer', 4194304, 'count', 'Bytes (about) of output queued for one XMPP connection above which its stream is ended with policy-violation'),
  key('keepalive_interval', 60, 'count0', 'Seconds between whitespace keep-alives; 0 = off'),
  key('offline_limit', 1000, 'count', 'Offline messages stored per user'),
  key('offline_limit_per_sender', 250, 'count', 'Offline messages one sender may leave in one user\'s offline store (so no single sender can fill it)'),
  key('session_lifetime', 7200, 'count', 'Seconds a REST session token lives after its last request'),
  key('blob_max_size', 26214400, 'count', 'Largest file a blob upload may carry, in bytes'),
  key('public_api_url', null, 'string?', 'REST base URL announced by /account_settings.json; the request\'s own host if unset'),
  key('upload_quota', 1073741824, 'count0', 'HTTP upload (XEP-0363): bytes of uploaded files one user may keep in total; 0 = no limit'),
  key('operator_jids', null, 'string?', 'Comma-separated bare JIDs of the operators allowed the ad-hoc commands announce and list online users (XEP-0050)'),
  key('registration_app_id', 0, 'count0', 'In-band registration (XEP-0077): the application new accounts are created in; 0 = off'),
  key('sm_resume_timeout', 300, 'count0', 'Stream management: seconds a dropped session can be resumed (the most granted); 0 = no resumption'),
  key('sm_ack_request_every', 5, 'count0', 'Stream management: the server requests an acknowledgement after this many unacknowledged stanzas; 0 = never by count'),
  key('sm_ack_request_seconds', 10, 'count0', 'Stream management: the server requests an acknowledgement this many seconds after an unacknowledged stanza; 0 = never by time'),
  key('sm_max_unacked', 1000, 'count', 'Stream management: unacknowledged stanzas a session may hold; past it the stream ends (resource-constraint)'),
  key('redis_url', null, 'string?', 'Redis URL (redis://host:6379/0): turns clustering on (session registry and stanza routing between nodes sharing one store)'),
  key('redis_prefix', 'parley:', 'string', 'Prefix of the Redis keys and channels the cluster uses'),
  key('cluster_node_id', null, 'string?', 'This node\'s name in the cluster (unique per live node); random when unset'),
  key('cluster_ttl', 10, 'count', 'Cluster: seconds after its last heartbeat (sent every third of it) a node counts as dead and its sessions leave the registry'),
  key('cluster_secret', null, 'string?', 'Cluster: a secret shared by every node; turns on direct node-to-node links (stanzas between nodes travel over TCP instead of Redis pub/sub; peers prove the secret with an HMAC challenge). Unset = everything through Redis'),
  key('cluster_link_bind', '127.0.0.1', 'string', 'Cluster: address the node-to-node link listener binds to (with cluster_secret)'),
  key('cluster_link_port', 0, 'port', 'Cluster: port of the node-to-node link listener; 0 = a free port (each node advertises its own in Redis)'),
  key('cluster_link_advertise', null, 'string?', 'Cluster: host or address other nodes dial for this node\'s link; cluster_link_bind when unset (set it when binding 0.0.0.0 or ::)'),
  key('message_max_length', 32768, 'count', 'Longest message text, in characters (REST and XMPP history); longer is refused with 422 / not-acceptable'),
  key('message_custom_max_bytes', 16384, 'count', 'Largest custom parameters plus attachments of one message, and data of one dialog, in bytes of JSON'),
  key('rest_page_max_bytes', 4194304, 'count', 'Largest page of messages or dialogs, in bytes; a page stops early (its limit then says how many it holds)'),
  key('login_failures_per_account', 10, 'count', 'Failed REST sign-ins (POST /session.json with a user, POST /login.json) per account per login_failure_window; then 429'),
  key('login_failures_per_ip', 50, 'count', 'Failed REST sign-ins per client address per login_failure_window; then 429'),
  key('login_failure_window', 900, 'count', 'Seconds over which failed REST sign-ins are counted'),
  key('trusted_proxies', null, 'string?', 'Comma list of proxy addresses or CIDRs (10.0.0.0/8, ::1) whose X-Forwarded-For names the client; unset = the header is ignored'),
  key('http_max_connections_per_ip', 64, 'count', 'Concurrent HTTP(S) connections per client address; more are closed at once'),
  key('http_headers_timeout', 10, 'count', 'Seconds an HTTP(S) client has to send a request\'s headers'),
  key('http_request_timeout', 120, 'count', 'Seconds an HTTP(S) client has to send a whole request (a blob upload included)'),
  key('http_keepalive_timeout', 5, 'count', 'Seconds an idle HTTP(S) keep-alive connection stays open'),
  key('shutdown_drain', 0, 'count0', 'Seconds between /ready turning 503 and the listeners closing when the server stops, so that load balancers move new clients elsewhere first; 0 = none'),
  key('metrics_port', 0, 'port', 'Port of a listener serving only GET /metrics (Prometheus text format); 0 = off'),
  key('metrics_bind', '127.0.0.1', 'string', 'Address the metrics listener binds to (keep it private: the figures describe your traffic)'),
  key('metrics_token', null, 'string?', 'Bearer token that opens GET /metrics on the HTTP(S) ports (Authorization: Bearer …); unset = not served there'),
  key('admin_console', true, 'bool', 'Serve the operator console at /admin on the HTTP(S) ports (operators: `parley admins create`)'),
  key('admin_session_lifetime', 28800, 'count', 'Seconds a console sign-in lasts after its last request'),
  key('admin_signins_per_minute', 10, 'count', 'Console sign-in attempts allowed per remote address per minute'),
  key('smtp_url', null, 'string?', 'SMTP server for password reset mail (smtp://user:password@host:587, smtps://… for TLS); unset = no reset mail'),
  key('mail_from', null, 'string?', 'From address of the mail Parley sends; no-reply@<domain> if unset'),
  key('password_reset_ttl', 3600, 'count', 'Seconds a password reset link works (once)'),
  key('turn_secret', null, 'string?', 'Shared secret of a coturn server (static-auth-secret): turns on GET /turn/credentials.json'),
  key('turn_ttl', 3600, 'count', 'Seconds the TURN credentials Parley mints stay valid'),
  key('turn_uris', null, 'string?', 'TURN/STUN URIs given out with the credentials, comma separated (turn:turn.example.com:3478?transport=udp,…)'),
  key('push_alert_interval', 10, 'count0', 'Push: seconds between two chat alerts to one user; alerts in between wait and collapse into one; 0 = no limit'),
  key('push_max_attempts', 10, 'count', 'Push: delivery attempts before a push the provider keeps refusing for a retryable reason (429, 5xx, unreachable) is given up'),
  key('push_retry_seconds', 2, 'count', 'Push: delay before the first retry, doubled per attempt up to 5 minutes'),
];

const BY_KEY = new Map(CONFIG_KEYS.map((k) => [k.key as string, k]));

const show = (v: unknown) => (typeof v === 'string' || typeof v === 'object' ? JSON.stringify(v) : String(v));
const DNS_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Checks and normalizes one value; `fromEnv` values are strings and get parsed. */
function parseValue(info: ConfigKeyInfo, raw: unknown, where: string, fromEnv: boolean): unknown {
  const fail = (expected: string): never => {
    throw new ConfigError(`${where}: expected ${expected}, got ${show(raw)}`);
  };
  const integer = (): number | undefined => {
    if (typeof raw === 'number') return Number.isInteger(raw) ? raw : undefined;
    if (fromEnv && typeof raw === 'string' && /^\s*\d+\s*$/.test(raw)) return Number(raw);
    return undefined;
  };
  switch (info.kind) {
    case 'port': {
      const n = integer();
      return n !== undefined && n >= 0 && n <= 65535 ? n : fail('a port number 0-65535');
    }
    case 'count': {
      const n = integer();
      return n !== undefined && n >= 1 && Number.isSafeInteger(n) ? n : fail('a positive integer');
    }
    case 'count0': {
      const n = integer();
      return n !== undefined && n >= 0 && Number.isSafeInteger(n) ? n : fail('a non-negative integer');
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      if (fromEnv && typeof raw === 'string') {
        const s = raw.trim().toLowerCase();
        if (['true', '1', 'yes'].includes(s)) return true;
        if (['false', '0', 'no'].includes(s)) return false;
      }
      return fail(fromEnv ? 'true/false/1/0/yes/no' : 'true or false');
    }
    case 'level':
      return (LOG_LEVELS as readonly unknown[]).includes(raw) ? raw : fail(`one of ${LOG_LEVELS.join(', ')}`);
    case 'store':
      return (STORE_DRIVERS as readonly unknown[]).includes(raw) ? raw : fail(`one of ${STORE_DRIVERS.join(', ')}`);
    case 'domain': {
      const d = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
      const ok = d.length > 0 && d.length <= 253 && d.split('.').every((l) => DNS_LABEL.test(l));
      return ok ? d : fail('a DNS name such as chat.example.com');
    }
    case 'string':
    case 'string?':
      if (raw === null && info.kind === 'string?') return null;
      return typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : fail('a non-empty string');
    case 'path':
    case 'path?':
      if (raw === null && info.kind === 'path?') return null;
      return typeof raw === 'string' && raw.trim() !== '' ? path.resolve(raw.trim()) : fail('a file path');
  }
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file}: invalid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`config file ${file}: expected a JSON object`);
  }
  return data as Record<string, unknown>;
}

export interface LoadConfigOptions {
  /** Config file; null means none even if PARLEY_CONFIG or ./parley.json exist. */
  file?: string | null;
  env?: NodeJS.ProcessEnv;
  overrides?: Partial<Config>;
}

/** defaults < JSON config file < PARLEY_* environment < overrides; throws ConfigError. */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const values = new Map<string, unknown>(CONFIG_KEYS.map((k) => [k.key, k.default]));
  const sources = new Map<string, string>(); // key -> where its value came from, for error messages
  const set = (name: string, raw: unknown, where: string, origin: string, fromEnv = false) => {
    const info = BY_KEY.get(name);
    if (!info) throw new ConfigError(`${where}: unknown configuration key`);
    values.set(name, parseValue(info, raw, where, fromEnv));
    sources.set(name, origin);
  };

  let file: string | null = null;
  if (opts.file !== undefined) file = opts.file;
  else if (env.PARLEY_CONFIG) file = env.PARLEY_CONFIG;
  else if (existsSync('parley.json')) file = 'parley.json';
  if (file !== null) {
    file = path.resolve(file);
    for (const [name, raw] of Object.entries(readConfigFile(file))) set(name, raw, `${file}: ${name}`, `config file ${file}`);
  }

  for (const info of CONFIG_KEYS) {
    const raw = env[info.env];
    if (raw === undefined) continue;
    // An empty variable clears a nullable key and is ignored otherwise, as if unset.
    if (raw.trim() === '') {
      if (info.kind === 'path?' || info.kind === 'string?') {
        values.set(info.key, null);
        sources.set(info.key, info.env);
      }
      continue;
    }
    set(info.key, raw, info.env, info.env, true);
  }

  for (const [name, raw] of Object.entries(opts.overrides ?? {})) {
    if (raw === undefined || name === 'config_file') continue;
    set(name, raw, name, 'override');
  }

  const config = { config_file: file, ...Object.fromEntries(values) } as Config;
  config.data_dir = path.resolve(config.data_dir);
  if ((config.tls_cert_file === null) !== (config.tls_key_file === null)) {
    const [given, missing] = config.tls_cert_file !== null ? ['tls_cert_file', 'tls_key_file'] : ['tls_key_file', 'tls_cert_file'];
    throw new ConfigError(`${given} is set (by ${sources.get(given)}) but ${missing} is not; set both or neither`);
  }
  if (config.store === 'postgres' && config.database_url === null) {
    throw new ConfigError(`store is postgres (set by ${sources.get('store')}) but database_url is not set`);
  }
  return config;
}

/** The configuration with the password of database_url masked, for printing. */
export function redactedConfig(config: Config): Config {
  const mask = (value: string | null): string | null => {
    if (value === null) return null;
    try {
      const url = new URL(value);
      if (url.password) url.password = '***';
      return url.toString();
    } catch {
      return '***';
    }
  };
  return { ...config, database_url: mask(config.database_url), smtp_url: mask(config.smtp_url), turn_secret: config.turn_secret === null ? null : '***', cluster_secret: config.cluster_secret === null ? null : '***', metrics_token: config.metrics_token === null ? null : '***' };
}

/** The key table as Markdown, for docs/configuration.md. */
export function configKeysMarkdown(): string {
  const rows = CONFIG_KEYS.map((k) => `| \`${k.key}\` | \`${k.env}\` | ${k.default === null ? '—' : `\`${k.default}\``} | ${k.description} |`);
  return ['| Key | Environment | Default | Description |', '|---|---|---|---|', ...rows].join('\n');
}
