// A renewed certificate is served without a restart: reloadTls (SIGHUP) reads tls_cert_file and
// tls_key_file again and new connections on the STARTTLS, direct-TLS and HTTPS ports get it; a pair
// that does not load leaves the previous one in use.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { generateSelfSigned } from '../src/util/tls.js';
import { freePort, startTestServer, waitForPort, type TestServer } from './support/server.js';
import { STREAM_HEADER } from './support/raw.js';
import { sleep } from './support/wait.js';

const BIN = fileURLToPath(new URL('../../bin/parley.js', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'parley-tls-reload-'));
const certFile = path.join(dir, 'cert.pem');
const keyFile = path.join(dir, 'key.pem');
const install = (pair: { cert: string; key: string }) => {
  writeFileSync(certFile, pair.cert);
  writeFileSync(keyFile, pair.key);
};

function fingerprintOf(socket: tls.TLSSocket): string {
  const fp = socket.getPeerCertificate().fingerprint256;
  socket.destroy();
  return fp;
}

function directTls(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => resolve(fingerprintOf(socket)));
    socket.once('error', reject);
  });
}

/** RFC 6120 STARTTLS on the c2s port, then the certificate of the upgraded connection. */
function startTls(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const plain = net.connect(port, '127.0.0.1', () => plain.write(STREAM_HEADER()));
    let seen = '';
    let asked = false;
    plain.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (!asked && seen.includes('</stream:features>')) {
        asked = true;
        plain.write('<starttls xmlns="urn:ietf:params:xml:ns:xmpp-tls"/>');
      }
      if (seen.includes('<proceed')) {
        plain.removeAllListeners('data');
        const secure = tls.connect({ socket: plain, servername: 'localhost', rejectUnauthorized: false }, () => resolve(fingerprintOf(secure)));
        secure.once('error', reject);
      }
    });
    plain.once('error', reject);
  });
}

const fingerprintOfPem = (cert: string): string => new X509Certificate(cert).fingerprint256;

describe('TLS certificate reload', () => {
  let a: { cert: string; key: string };
  let b: { cert: string; key: string };
  let t: TestServer;

  before(async () => {
    [a, b] = await Promise.all([generateSelfSigned('localhost'), generateSelfSigned('localhost')]);
    install(a);
    t = await startTestServer({ tls_cert_file: certFile, tls_key_file: keyFile, https_port: await freePort() });
  });
  after(() => t.stop());

  const served = async () => {
    const { c2s, c2sTls, https } = t.server.ports;
    return [await startTls(c2s), await directTls(c2sTls), await directTls(https)];
  };

  it('serves the new pair on STARTTLS, direct TLS and HTTPS after reloadTls, and keeps it when a bad pair is installed', async () => {
    const [fpA, fpB] = [fingerprintOfPem(a.cert), fingerprintOfPem(b.cert)];
    assert.notEqual(fpA, fpB);
    assert.deepEqual(await served(), [fpA, fpA, fpA]);
    install(b);
    assert.deepEqual(await served(), [fpA, fpA, fpA], 'nothing changes before the reload');
    await t.server.reloadTls();
    assert.deepEqual(await served(), [fpB, fpB, fpB]);

    install({ cert: a.cert, key: b.key }); // a certificate with somebody else's key
    await assert.rejects(t.server.reloadTls());
    assert.deepEqual(await served(), [fpB, fpB, fpB], 'the previous pair stays in use');
  });

  it('reloads on SIGHUP to the server process', async () => {
    install(a);
    const port = await freePort();
    const env = {
      ...process.env, PARLEY_DATA_DIR: dir, PARLEY_TLS_CERT_FILE: certFile, PARLEY_TLS_KEY_FILE: keyFile, PARLEY_C2S_TLS_PORT: String(port),
      PARLEY_C2S_PORT: '0', PARLEY_WS_PORT: '0', PARLEY_HTTP_PORT: '0', PARLEY_HTTPS_PORT: '0', PARLEY_LOG_LEVEL: 'warn',
    };
    const child = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      await waitForPort(port);
      assert.equal(await directTls(port), fingerprintOfPem(a.cert));
      install(b);
      child.kill('SIGHUP');
      let fp = '';
      for (let i = 0; i < 100 && fp !== fingerprintOfPem(b.cert); i++) {
        await sleep(100);
        fp = await directTls(port);
      }
      assert.equal(fp, fingerprintOfPem(b.cert));
      assert.equal(child.exitCode, null, 'SIGHUP does not stop the server');
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    }
  });
});
