import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CONFIG_KEYS, ConfigError, configKeysMarkdown, loadConfig, redactedConfig } from './load.js';

const dir = mkdtempSync(path.join(tmpdir(), 'parley-config-'));
const writeJson = (name: string, data: unknown) => {
  const file = path.join(dir, name);
  writeFileSync(file, typeof data === 'string' ? data : JSON.stringify(data));
  return file;
};
const throws = (fn: () => unknown, re: RegExp) =>
  assert.throws(fn, (err: unknown) => err instanceof ConfigError && re.test(err.message));

test('clustering: PARLEY_REDIS_URL turns it on; node id and TTL are checked', () => {
  const c = loadConfig({ file: null, env: { PARLEY_REDIS_URL: 'redis://10.0.0.5:6379/1', PARLEY_CLUSTER_NODE_ID: 'a', PARLEY_CLUSTER_TTL: '5' } });
  assert.equal(c.redis_url, 'redis://10.0.0.5:6379/1');
  assert.equal(c.cluster_node_id, 'a');
  assert.equal(c.cluster_ttl, 5);
  throws(() => loadConfig({ file: null, env: { PARLEY_CLUSTER_TTL: '0' } }), /PARLEY_CLUSTER_TTL: expected a positive integer/);
});

test('defaults', () => {
  const c = loadConfig({ file: null, env: {} });
  assert.deepEqual(c, {
    config_file: null,
    data_dir: path.resolve('data'),
    store: 'sqlite',
    database_url: null,
    sqlite_read_workers: 2,
    sqlite_read_queue: 256,
    sqlite_commit_window_ms: 20,
    sqlite_wal_limit_mb: 64,
    domain: 'localhost',
    bind: '127.0.0.1',
    c2s_port: 5222,
    c2s_tls_port: 5223,
    ws_port: 5291,
    http_port: 8080,
    https_port: 8443,
    log_level: 'info',
    tls_cert_file: null,
    tls_key_file: null,
    require_starttls: false,
    max_stanza_size: 65536,
    max_depth: 32,
    max_attributes: 64,
    auth_timeout: 30,
    auth_failures_per_minute: 10,
    auth_attempts_per_minute: 30,
    auth_attempts_per_address_per_minute: 600,
    max_connections_per_ip: 200,
    max_resources_per_user: 10,
    tls_handshake_timeout: 10,
    proxy_protocol_from: null,
    output_high_water: 262144,
    max_output_buffer: 4194304,
    keepalive_interval: 60,
    offline_limit: 1000,
    offline_limit_per_sender: 250,
    session_lifetime: 7200,
    blob_max_size: 26214400,
    public_api_url: null,
    upload_quota: 1073741824,
    operator_jids: null,
    registration_app_id: 0,
    sm_resume_timeout: 300,
    sm_ack_request_every: 5,
    sm_ack_request_seconds: 10,
    sm_max_unacked: 1000,
    redis_url: null,
    redis_prefix: 'parley:',
    cluster_node_id: null,
    cluster_ttl: 10,
    cluster_secret: null,
    cluster_link_bind: '127.0.0.1',
    cluster_link_port: 0,
    cluster_link_advertise: null,
    message_max_length: 32768,
    message_custom_max_bytes: 16384,
    rest_page_max_bytes: 4194304,
    login_failures_per_account: 10,
    login_failures_per_ip: 50,
    login_failure_window: 900,
    trusted_proxies: null,
    http_max_connections_per_ip: 64,
    http_headers_timeout: 10,
    http_request_timeout: 120,
    http_keepalive_timeout: 5,
    shutdown_drain: 0,
    metrics_port: 0,
    metrics_bind: '127.0.0.1',
    metrics_token: null,
    admin_console: true,
    admin_session_lifetime: 28800,
    admin_signins_per_minute: 10,
    smtp_url: null,
    mail_from: null,
    password_reset_ttl: 3600,
    turn_secret: null,
    turn_ttl: 3600,
    turn_uris: null,
    push_alert_interval: 10,
    push_max_attempts: 10,
    push_retry_seconds: 2,
  });
});

test('smtp_url is redacted like database_url', () => {
  const c = loadConfig({ file: null, env: { PARLEY_SMTP_URL: 'smtp://mailer:s3cret@mail.example.com:587' } });
  assert.equal(redactedConfig(c).smtp_url, 'smtp://mailer:***@mail.example.com:587');
  assert.equal(redactedConfig(c).database_url, null);
  assert.equal(redactedConfig(loadConfig({ file: null, env: { PARLEY_TURN_SECRET: 'coturn-secret' } })).turn_secret, '***');
  assert.equal(redactedConfig(loadConfig({ file: null, env: { PARLEY_CLUSTER_SECRET: 'between-nodes' } })).cluster_secret, '***');
});

test('CONFIG_KEYS covers every key with env name and description', () => {
  const c = loadConfig({ file: null, env: {} });
  const keys = Object.keys(c).filter((k) => k !== 'config_file').sort();
  assert.deepEqual(CONFIG_KEYS.map((k) => k.key).sort(), keys);
  for (const k of CONFIG_KEYS) {
    assert.equal(k.env, `PARLEY_${k.key.toUpperCase()}`);
    assert.ok(k.description.length > 0);
  }
  assert.match(configKeysMarkdown(), /\| `c2s_port` \| `PARLEY_C2S_PORT` \| `5222` \|/);
});

test('docs/configuration.md holds the key table the code generates', () => {
  const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
  assert.ok(doc.includes(`${configKeysMarkdown()}\n`), 'regenerate the table with `parley config --markdown`');
});

test('file values, then env, then overrides', () => {
  const file = writeJson('a.json', { domain: 'Chat.Example.COM', c2s_port: 6222, ws_port: 0, require_starttls: true, data_dir: 'x' });
  const c = loadConfig({ file, env: { PARLEY_C2S_PORT: '7222', PARLEY_HTTP_PORT: '9000' }, overrides: { http_port: 9001 } });
  assert.equal(c.config_file, file);
  assert.equal(c.domain, 'chat.example.com');
  assert.equal(c.c2s_port, 7222);
  assert.equal(c.ws_port, 0);
  assert.equal(c.http_port, 9001);
  assert.equal(c.require_starttls, true);
  assert.equal(c.data_dir, path.resolve('x'));
});

test('PARLEY_CONFIG names the file; explicit file wins; null disables', () => {
  const a = writeJson('b.json', { domain: 'a.example' });
  const b = writeJson('c.json', { domain: 'b.example' });
  assert.equal(loadConfig({ env: { PARLEY_CONFIG: a } }).domain, 'a.example');
  assert.equal(loadConfig({ file: b, env: { PARLEY_CONFIG: a } }).domain, 'b.example');
  assert.equal(loadConfig({ file: null, env: { PARLEY_CONFIG: a } }).domain, 'localhost');
});

test('./parley.json is used when present', () => {
  const cwd = process.cwd();
  const sub = mkdtempSync(path.join(dir, 'cwd-'));
  writeFileSync(path.join(sub, 'parley.json'), JSON.stringify({ offline_limit: 5 }));
  process.chdir(sub);
  try {
    const c = loadConfig({ env: {} });
    assert.equal(c.offline_limit, 5);
    assert.equal(c.config_file, path.join(sub, 'parley.json'));
    assert.equal(c.data_dir, path.join(sub, 'data'));
  } finally {
    process.chdir(cwd);
  }
});

test('env parsing: booleans, log level, data dir, empty values', () => {
  for (const [v, b] of [['true', true], ['1', true], ['YES', true], ['false', false], ['0', false], ['no', false]] as const) {
    assert.equal(loadConfig({ file: null, env: { PARLEY_REQUIRE_STARTTLS: v } }).require_starttls, b);
  }
  const c = loadConfig({ file: null, env: { PARLEY_LOG_LEVEL: 'debug', PARLEY_DATA_DIR: '/tmp/pd', PARLEY_DOMAIN: '', PARLEY_KEEPALIVE_INTERVAL: '0' } });
  assert.equal(c.log_level, 'debug');
  assert.equal(c.data_dir, '/tmp/pd');
  assert.equal(c.domain, 'localhost');
  assert.equal(c.keepalive_interval, 0);
  const tls = loadConfig({ file: null, env: { PARLEY_TLS_CERT_FILE: 'c.pem', PARLEY_TLS_KEY_FILE: 'k.pem' } });
  assert.equal(tls.tls_cert_file, path.resolve('c.pem'));
  assert.equal(tls.tls_key_file, path.resolve('k.pem'));
});

test('invalid env values name the variable', () => {
  const env = (e: NodeJS.ProcessEnv) => () => loadConfig({ file: null, env: e });
  throws(env({ PARLEY_C2S_PORT: 'abc' }), /^PARLEY_C2S_PORT: expected a port number 0-65535, got "abc"$/);
  throws(env({ PARLEY_WS_PORT: '65536' }), /^PARLEY_WS_PORT: expected a port number/);
  throws(env({ PARLEY_HTTP_PORT: '-1' }), /^PARLEY_HTTP_PORT: expected a port number/);
  throws(env({ PARLEY_HTTPS_PORT: '80.5' }), /^PARLEY_HTTPS_PORT: expected a port number/);
  throws(env({ PARLEY_MAX_DEPTH: '0' }), /^PARLEY_MAX_DEPTH: expected a positive integer, got "0"$/);
  throws(env({ PARLEY_OFFLINE_LIMIT: '1e3' }), /^PARLEY_OFFLINE_LIMIT: expected a positive integer/);
  throws(env({ PARLEY_KEEPALIVE_INTERVAL: '-5' }), /^PARLEY_KEEPALIVE_INTERVAL: expected a non-negative integer/);
  throws(env({ PARLEY_REQUIRE_STARTTLS: 'maybe' }), /^PARLEY_REQUIRE_STARTTLS: expected true\/false\/1\/0\/yes\/no, got "maybe"$/);
  throws(env({ PARLEY_LOG_LEVEL: 'verbose' }), /^PARLEY_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/);
  throws(env({ PARLEY_DOMAIN: 'bad domain' }), /^PARLEY_DOMAIN: expected a DNS name/);
  throws(env({ PARLEY_DOMAIN: '-x.example' }), /^PARLEY_DOMAIN: expected a DNS name/);
  throws(env({ PARLEY_DOMAIN: 'a..b' }), /^PARLEY_DOMAIN: expected a DNS name/);
  throws(env({ PARLEY_DOMAIN: `${'a'.repeat(64)}.com` }), /^PARLEY_DOMAIN: expected a DNS name/);
  throws(env({ PARLEY_TLS_CERT_FILE: 'c.pem' }), /^tls_cert_file is set \(by PARLEY_TLS_CERT_FILE\) but tls_key_file is not/);
  throws(() => loadConfig({ env: { PARLEY_CONFIG: path.join(dir, 'missing.json') } }), /missing\.json: not found/);
});

test('invalid file values name the file and key', () => {
  const bad = (data: unknown, re: RegExp) => throws(() => loadConfig({ file: writeJson('bad.json', data), env: {} }), re);
  bad({ c2s_port: '5222' }, /bad\.json: c2s_port: expected a port number 0-65535, got "5222"$/);
  bad({ c2s_port: 70000 }, /bad\.json: c2s_port: expected a port number 0-65535, got 70000$/);
  bad({ require_starttls: 'yes' }, /bad\.json: require_starttls: expected true or false, got "yes"$/);
  bad({ max_connections_per_ip: 0 }, /bad\.json: max_connections_per_ip: expected a positive integer, got 0$/);
  bad({ bind: '' }, /bad\.json: bind: expected a non-empty string/);
  bad({ data_dir: 5 }, /bad\.json: data_dir: expected a file path, got 5$/);
  bad({ tls_key_file: 'k.pem' }, /tls_key_file is set \(by config file .*bad\.json\) but tls_cert_file is not/);
  bad({ c2s_prot: 1 }, /bad\.json: c2s_prot: unknown configuration key$/);
  bad({ config_file: 'x' }, /bad\.json: config_file: unknown configuration key$/);
  bad('{ nope', /bad\.json: invalid JSON/);
  bad([1], /bad\.json: expected a JSON object/);
});

test('invalid overrides are rejected too', () => {
  throws(() => loadConfig({ file: null, env: {}, overrides: { c2s_port: 1.5 } }), /^c2s_port: expected a port number/);
  assert.equal(loadConfig({ file: null, env: {}, overrides: { c2s_port: undefined } }).c2s_port, 5222);
});

test('store and database_url: postgres needs a URL, printing masks its password', () => {
  const pg = loadConfig({ file: null, env: { PARLEY_STORE: 'postgres', PARLEY_DATABASE_URL: 'postgres://parley:s3cret@db:5432/chat' } });
  assert.equal(pg.store, 'postgres');
  assert.equal(pg.database_url, 'postgres://parley:s3cret@db:5432/chat');
  assert.equal(redactedConfig(pg).database_url, 'postgres://parley:***@db:5432/chat');
  assert.equal(redactedConfig(loadConfig({ file: null, env: {} })).database_url, null);
  throws(() => loadConfig({ file: null, env: { PARLEY_STORE: 'mysql' } }), /^PARLEY_STORE: expected one of sqlite, postgres, got "mysql"$/);
  throws(() => loadConfig({ file: null, env: { PARLEY_STORE: 'postgres' } }), /^store is postgres \(set by PARLEY_STORE\) but database_url is not set$/);
});
