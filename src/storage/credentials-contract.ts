// Driver-neutral rules for credentials at rest (issue 14): REST tokens are stored as digests with
// SCRAM keys, never as themselves; password hashes made with old scrypt parameters are replaced at
// the next successful login; one sender gets only a share of a user's offline store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeScram, tokenScram } from './account-secrets.js';
import { tokenDigest } from './token-secrets.js';
import type { Store } from './types.js';
import { scrypt } from 'node:crypto';
import { SCRYPT_PARAMS, deriveScramCredential, needsRehash, verifyPasswordHash } from '../util/password.js';

/** Reads the database directly: what an attacker with a copy of it would see. */
export type RawQuery = (store: Store, sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

export function credentialsContract(name: string, open: () => Promise<Store>, raw: RawQuery, placeholder: (n: number) => string): void {
  describe(`credentials at rest: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    const user = async (password = 'pw') => {
      const app = await store.accounts.createApplication({});
      return store.accounts.createUser(app.id, { login: `c-${randomBytes(4).toString('hex')}`, password });
    };
    const later = (ms: number) => new Date(Date.now() + ms);

    it('keeps a REST token only as its digest, and finds the session by the token', async () => {
      const u = await user();
      const token = randomBytes(20).toString('hex');
      await store.sessions.createSession({ token, appId: u.appId, userId: null, nonce: 1, ts: 1, expiresAt: later(60_000) });
      const rows = await raw(store, `SELECT token FROM api_sessions WHERE app_id = ${placeholder(1)}`, [u.appId]);
      assert.deepEqual(rows.map((r) => r.token), [tokenDigest(token)]);
      assert.notEqual(rows[0]!.token, token);
      const dump = JSON.stringify(await raw(store, `SELECT * FROM api_sessions WHERE app_id = ${placeholder(1)}`, [u.appId]));
      assert.ok(!dump.includes(token), 'the token appears in its row');
      const found = await store.sessions.getSession(token);
      assert.equal(found?.token, token);
      assert.equal(found?.userId, null);
      assert.equal(await store.sessions.getSession(tokenDigest(token)), null, 'the digest is not a token');
      assert.equal(await store.sessions.deleteSession(token), true);
    });

    it('stores SCRAM keys for a user token that a SASL proof made with the token matches', async () => {
      const u = await user('secret');
      const token = randomBytes(20).toString('hex');
      await store.sessions.createSession({ token, appId: u.appId, userId: null, nonce: 1, ts: 1, expiresAt: later(60_000) });
      const scram = await tokenScram(store, u.appId, u.id, token);
      assert.ok(scram);
      await store.sessions.setSessionUser(token, u.id, later(60_000), scram);
      const [live] = await store.sessions.userSessions(u.appId, u.id, new Date(), 5);
      assert.deepEqual(live?.scram, scram);
      assert.equal(live?.token, '', 'userSessions cannot know tokens');
      for (const hash of ['sha1', 'sha256'] as const) {
        const stored = (await store.accounts.getScramCredential(u.appId, u.id, hash))!;
        const keys = decodeScram(scram[hash]);
        assert.deepEqual(keys, deriveScramCredential(token, hash, stored.salt, stored.iterations), `${hash} keys derive from the token with the user's salt`);
      }
      // Logging out of the user drops the keys with the user.
      await store.sessions.setSessionUser(token, null, later(60_000));
      assert.equal((await store.sessions.getSession(token))?.scram, null);
    });

    it('replaces a password hash made with older scrypt parameters at the next successful login only', async () => {
      const u = await user('old-password');
      const old = await legacyHash('old-password');
      await raw(store, `UPDATE users SET password_hash = ${placeholder(1)} WHERE id = ${placeholder(2)}`, [old, u.id]);
      assert.equal(needsRehash(old), true);
      assert.equal(await store.accounts.verifyPassword(u.appId, u.id, 'wrong'), false);
      assert.equal((await raw(store, `SELECT password_hash FROM users WHERE id = ${placeholder(1)}`, [u.id]))[0]!.password_hash, old, 'a failed login changes nothing');
      assert.equal(await store.accounts.verifyPassword(u.appId, u.id, 'old-password'), true);
      const now = String((await raw(store, `SELECT password_hash FROM users WHERE id = ${placeholder(1)}`, [u.id]))[0]!.password_hash);
      assert.notEqual(now, old);
      assert.equal(needsRehash(now), false);
      assert.ok(now.startsWith(`scrypt$${SCRYPT_PARAMS.N}$${SCRYPT_PARAMS.r}$${SCRYPT_PARAMS.p}$`), now);
      assert.equal(await verifyPasswordHash('old-password', now), true);
      assert.equal(await store.accounts.verifyPassword(u.appId, u.id, 'old-password'), true);
    });

    it('gives one sender only its share of a user\'s offline store', async () => {
      const u = await user();
      const from = (who: string) => ({ id: `${who}@localhost`, limit: 3 });
      for (let i = 0; i < 3; i++) assert.equal(await store.offline.push(u.id, `<message n="${i}"/>`, 10, from('mallory')), true);
      assert.equal(await store.offline.push(u.id, '<message n="3"/>', 10, from('mallory')), false);
      assert.equal(await store.offline.push(u.id, '<message n="a"/>', 10, from('alice')), true, 'another sender still gets in');
      assert.equal(await store.offline.count(u.id), 4);
      assert.equal(await store.offline.push(u.id, '<message/>', 4), false, 'the per-user limit still holds');
    });
  });
}

/** A hash made with weaker parameters than the current ones (N=2^12, r=8, p=1). */
async function legacyHash(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, 32, { N: 4096, r: 8, p: 1 }, (err, k) => (err ? reject(err) : resolve(k))));
  return ['scrypt', 4096, 8, 1, salt.toString('base64'), key.toString('base64')].join('$');
}
