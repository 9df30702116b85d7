import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ScramCredential, ScramHash } from '../storage/types.js';
import { deriveScramCredential, hmac, scramSaltedPassword } from './password.js';
import { ScramError, ScramServer } from './scram.js';

/** Minimal RFC 5802 client: returns client-final for the given exchange and the expected server-final. */
function clientFinal(hash: ScramHash, password: string, clientFirst: string, serverFirst: string) {
  const gs2 = clientFirst.slice(0, clientFirst.indexOf(',', clientFirst.indexOf(',') + 1) + 1);
  const bare = clientFirst.slice(gs2.length);
  const attrs = Object.fromEntries(serverFirst.split(',').map((p) => [p[0], p.slice(2)]));
  const salted = scramSaltedPassword(password, hash, Buffer.from(attrs.s, 'base64'), Number(attrs.i));
  const clientKey = hmac(hash, salted, 'Client Key');
  const withoutProof = `c=${Buffer.from(gs2).toString('base64')},r=${attrs.r}`;
  const authMessage = `${bare},${serverFirst},${withoutProof}`;
  const signature = hmac(hash, createHash(hash).update(clientKey).digest(), authMessage);
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
  const verifier = hmac(hash, hmac(hash, salted, 'Server Key'), authMessage);
  return { message: Buffer.from(`${withoutProof},p=${proof.toString('base64')}`), serverFinal: `v=${verifier.toString('base64')}` };
}

const SALT = Buffer.from('salt-salt-salt!!');
const creds = new Map<string, ScramCredential[]>([
  ['alice', [deriveScramCredential('wonderland', 'sha256', SALT, 4096)]],
  ['a,b=c', [deriveScramCredential('pw', 'sha256', SALT, 4096)]],
]);
const lookup = async (username: string) => creds.get(username) ?? null;

async function exchange(clientFirst: string, password: string, server = new ScramServer('sha256', lookup)) {
  const serverFirst = (await server.start(Buffer.from(clientFirst))).toString();
  const final = clientFinal('sha256', password, clientFirst, serverFirst);
  const result = await server.finish(final.message);
  assert.equal(result.serverFinal.toString(), final.serverFinal);
  return result;
}

const rejects = (promise: Promise<unknown>, condition: ScramError['condition']) =>
  assert.rejects(promise, (err: unknown) => err instanceof ScramError && err.condition === condition);

describe('ScramServer', () => {
  it('verifies the RFC 7677 exchange with a forced nonce', async () => {
    const credential = deriveScramCredential('pencil', 'sha256', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    const server = new ScramServer('sha256', async (u) => (u === 'user' ? [credential] : null), {
      nonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
    });
    const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    assert.equal((await server.start(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'))).toString(),
      `r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`);
    const result = await server.finish(Buffer.from(`c=biws,r=${nonce},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`));
    assert.deepEqual({ ...result, serverFinal: result.serverFinal.toString() },
      { username: 'user', authzid: null, serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=' });
  });

  it('verifies the RFC 5802 SHA-1 exchange', async () => {
    const credential = deriveScramCredential('pencil', 'sha1', Buffer.from('QSXCR+Q6sek8bf92', 'base64'));
    const server = new ScramServer('sha1', async () => [credential], { nonce: '3rfcNHYJY1ZVvWVs7j' });
    await server.start(Buffer.from('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'));
    const { serverFinal } = await server.finish(Buffer.from(
      'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts='));
    assert.equal(serverFinal.toString(), 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=');
  });

  it('authenticates with a random nonce, an authzid, the y flag and escaped usernames', async () => {
    assert.deepEqual((await exchange('n,,n=alice,r=abc', 'wonderland')).authzid, null);
    assert.equal((await exchange('n,a=bob=2Cx=3D,n=alice,r=abc', 'wonderland')).authzid, 'bob,x=');
    assert.equal((await exchange('y,,n=alice,r=abc,x=ext', 'wonderland')).username, 'alice');
    assert.equal((await exchange('n,,n=a=2Cb=3Dc,r=abc', 'pw')).username, 'a,b=c');
  });

  it('accepts any candidate and signs with the key of the one that matched', async () => {
    const session = deriveScramCredential('token-123', 'sha256', SALT, 4096);
    const multi = async () => [creds.get('alice')![0], session];
    await exchange('n,,n=alice,r=abc', 'wonderland', new ScramServer('sha256', multi));
    await exchange('n,,n=alice,r=abc', 'token-123', new ScramServer('sha256', multi));
    await rejects(exchange('n,,n=alice,r=abc', 'other', new ScramServer('sha256', multi)), 'not-authorized');
  });

  it('rejects a wrong password', async () => {
    await rejects(exchange('n,,n=alice,r=abc', 'wrong'), 'not-authorized');
  });

  it('does not reveal unknown users at start and rejects them at finish', async () => {
    const first = async () => (await new ScramServer('sha256', lookup, { nonce: 'N' }).start(Buffer.from('n,,n=ghost,r=abc'))).toString();
    const a = await first();
    assert.equal(a, await first());
    assert.match(a, /^r=abcN,s=[A-Za-z0-9+/]{22}==,i=4096$/);
    await rejects(exchange('n,,n=ghost,r=abc', 'anything'), 'not-authorized');
  });

  it('rejects tampered channel binding and nonce', async () => {
    for (const tamper of [(m: string) => m.replace('c=biws', 'c=eSws'), (m: string) => m.replace(/r=([^,]*)/, 'r=$1x')]) {
      const server = new ScramServer('sha256', lookup);
      const serverFirst = (await server.start(Buffer.from('n,,n=alice,r=abc'))).toString();
      const { message } = clientFinal('sha256', 'wonderland', 'n,,n=alice,r=abc', serverFirst);
      await rejects(server.finish(Buffer.from(tamper(message.toString()))), 'not-authorized');
    }
  });

  it('rejects malformed client-first messages', async () => {
    for (const bad of ['', 'n,,', 'p=tls-unique,,n=alice,r=abc', 'x,,n=alice,r=abc', 'n,,n=,r=abc', 'n,,n=a=2Xb,r=abc',
      'n,,r=abc,n=alice', 'n,,n=alice', 'n,,n=alice,r=', 'n,,n=alice,r=a b', 'n,b=x,n=alice,r=abc', 'n,a=,n=alice,r=abc',
      'n,,m=x,n=alice,r=abc', 'n,,n=alice,r=abc,!', 'n,,n=al\0ice,r=abc']) {
      await rejects(new ScramServer('sha256', lookup).start(Buffer.from(bad)), 'malformed-request');
    }
    await rejects(new ScramServer('sha256', lookup).start(Buffer.from([0x6e, 0x2c, 0x2c, 0x6e, 0x3d, 0xff, 0x2c, 0x72, 0x3d, 0x61])),
      'malformed-request');
  });

  it('rejects malformed client-final messages and out-of-order calls', async () => {
    const proof = Buffer.alloc(32).toString('base64');
    for (const bad of ['', 'c=biws,r=abc', `r=abc,c=biws,p=${proof}`, `c=bi!s,r=abc,p=${proof}`, 'c=biws,r=abc,p=AAAA',
      `c=biws,r=abc,p=${proof},x=1`]) {
      const server = new ScramServer('sha256', lookup, { nonce: 'N' });
      await server.start(Buffer.from('n,,n=alice,r=abc'));
      await rejects(server.finish(Buffer.from(bad)), 'malformed-request');
      await rejects(server.finish(Buffer.from(bad)), 'malformed-request');
    }
    await rejects(new ScramServer('sha256', lookup).finish(Buffer.from('c=biws')), 'malformed-request');
    const server = new ScramServer('sha256', lookup);
    await server.start(Buffer.from('n,,n=alice,r=abc'));
    await rejects(server.start(Buffer.from('n,,n=alice,r=abc')), 'malformed-request');
    assert.throws(() => new ScramServer('sha256', lookup, { nonce: 'a,b' }), TypeError);
  });
});
