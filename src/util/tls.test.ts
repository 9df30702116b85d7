import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { loadConfig } from '../config/load.js';
import { loadOrCreateTlsCredentials } from './tls.js';

test('generates a self-signed certificate once, then reuses it', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-tls-'));
  const config = loadConfig({ file: null, env: {}, overrides: { data_dir: dataDir, domain: 'chat.example' } });
  const logged: unknown[] = [];
  const first = await loadOrCreateTlsCredentials(config, { info: (...a) => logged.push(a) });
  assert.equal(first.generated, true);
  assert.equal(logged.length, 1);
  const keyFile = path.join(dataDir, 'tls', 'chat.example.key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);

  const second = await loadOrCreateTlsCredentials(config);
  assert.equal(second.generated, false);
  assert.equal(second.key, first.key);
  assert.equal(second.cert, first.cert);

  createSecureContext({ key: first.key, cert: first.cert });
  const x509 = new X509Certificate(first.cert);
  assert.equal(x509.subjectAltName, 'DNS:chat.example, DNS:muc.chat.example, DNS:localhost, IP Address:127.0.0.1');
  assert.ok(x509.checkHost('muc.chat.example'));
  assert.ok(x509.checkPrivateKey(createPrivateKey(first.key)));
  const years = (Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / (365.25 * 86400_000);
  assert.ok(years > 9.9 && years < 10.1, `validity ${years} years`);
});

test('configured files are read as they are', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-tls-'));
  const keyFile = path.join(dataDir, 'k.pem');
  const certFile = path.join(dataDir, 'c.pem');
  writeFileSync(keyFile, 'KEY');
  writeFileSync(certFile, 'CERT');
  const config = loadConfig({ file: null, env: {}, overrides: { data_dir: dataDir, tls_key_file: keyFile, tls_cert_file: certFile } });
  assert.deepEqual(await loadOrCreateTlsCredentials(config), { key: 'KEY', cert: 'CERT', generated: false });
});
