import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { SCRYPT_PARAMS, deriveScramCredential, hashPassword, verifyPasswordHash } from './password.js';
import { ScramServer } from './scram.js';

describe('hashPassword / verifyPasswordHash', () => {
  it('produces a self-describing scrypt string with a random salt', async () => {
    const a = await hashPassword('secret');
    const b = await hashPassword('secret');
    assert.match(a, new RegExp(`^scrypt\\$${SCRYPT_PARAMS.N}\\$${SCRYPT_PARAMS.r}\\$${SCRYPT_PARAMS.p}\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$`));
    assert.equal(Buffer.from(a.split('$')[4], 'base64').length, 16);
    assert.equal(Buffer.from(a.split('$')[5], 'base64').length, 32);
    assert.notEqual(a, b);
  });

  it("hashes with OWASP's scrypt parameters (N=2^14, r=8, p=5) unless the test suite's fast setting is on", () => {
    const env = { ...process.env };
    delete env.PARLEY_INSECURE_FAST_PASSWORD_HASH;
    const script = `import('${new URL('./password.js', import.meta.url).href}').then((m) => m.hashPassword('x')).then((h) => console.log(h))`;
    const hash = execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' }).trim();
    assert.match(hash, /^scrypt\$16384\$8\$5\$/);
  });

  it('accepts the right password and rejects others', async () => {
    const encoded = await hashPassword('correct horse');
    assert.equal(await verifyPasswordHash('correct horse', encoded), true);
    assert.equal(await verifyPasswordHash('correct horsE', encoded), false);
    assert.equal(await verifyPasswordHash('', encoded), false);
  });

  it('treats canonically equivalent passwords alike', async () => {
    const encoded = await hashPassword('\u00C5ngstr\u00F6m');
    assert.equal(await verifyPasswordHash('A\u030Angstro\u0308m', encoded), true);
  });

  it('returns false for strings it cannot parse', async () => {
    const encoded = await hashPassword('x');
    for (const bad of ['', 'x', encoded.replace('scrypt', 'bcrypt'), encoded.replace('$16384$', '$1000$'),
      encoded.replace('$16384$', '$1073741824$'), encoded.split('$').slice(0, 5).join('$')]) {
      assert.equal(await verifyPasswordHash('x', bad), false, bad);
    }
  });
});

describe('deriveScramCredential', () => {
  it('is deterministic for a given salt and iteration count', () => {
    const salt = Buffer.from('0123456789abcdef');
    const a = deriveScramCredential('pw', 'sha256', salt, 1000);
    const b = deriveScramCredential('pw', 'sha256', salt, 1000);
    assert.deepEqual(a, b);
    assert.equal(a.iterations, 1000);
    assert.equal(a.storedKey.length, 32);
    assert.notDeepEqual(deriveScramCredential('pw2', 'sha256', salt, 1000).storedKey, a.storedKey);
  });

  it('defaults to a random 16-byte salt and 4096 iterations', () => {
    const a = deriveScramCredential('pw', 'sha1');
    const b = deriveScramCredential('pw', 'sha1');
    assert.equal(a.salt.length, 16);
    assert.equal(a.iterations, 4096);
    assert.equal(a.storedKey.length, 20);
    assert.equal(a.serverKey.length, 20);
    assert.notDeepEqual(a.salt, b.salt);
  });

  const vectors = [
    {
      rfc: 'RFC 5802 (SCRAM-SHA-1)', hash: 'sha1' as const, salt: 'QSXCR+Q6sek8bf92',
      clientNonce: 'fyko+d2lbbFgONRv9qkxdawL', serverNonce: '3rfcNHYJY1ZVvWVs7j',
      proof: 'v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=', verifier: 'rmF9pqV8S7suAoZWja4dJRkFsKQ=',
    },
    {
      rfc: 'RFC 7677 (SCRAM-SHA-256)', hash: 'sha256' as const, salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
      clientNonce: 'rOprNGfwEbeRWgbNEkqO', serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
      proof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', verifier: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
    },
  ];
  for (const v of vectors) {
    it(`matches the ${v.rfc} test vector`, async () => {
      const credential = deriveScramCredential('pencil', v.hash, Buffer.from(v.salt, 'base64'), 4096);
      const server = new ScramServer(v.hash, async () => [credential], { nonce: v.serverNonce });
      const nonce = v.clientNonce + v.serverNonce;
      const serverFirst = await server.start(Buffer.from(`n,,n=user,r=${v.clientNonce}`));
      assert.equal(serverFirst.toString(), `r=${nonce},s=${v.salt},i=4096`);
      const result = await server.finish(Buffer.from(`c=biws,r=${nonce},p=${v.proof}`));
      assert.equal(result.serverFinal.toString(), `v=${v.verifier}`);
      assert.equal(result.username, 'user');
    });
  }
});
