// Password reset mail against a real SMTP server (smtp-server on 127.0.0.1, with AUTH), the mail
// parsed as a client would (mailparser), then the link's page driven through the REST app: one use,
// expiry, validation, and the new password working for sign-in.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { User } from '../storage/types.js';
import { passwordResetRoutes } from './password-reset.js';
import { PASSWORD, restHarness, type RestHarness } from './harness.js';

interface Received {
  from: string;
  to: string[];
  mail: ParsedMail;
}

describe('password reset mail', () => {
  let smtp: SMTPServer;
  let h: RestHarness;
  let user: User;
  let appToken: string;
  const inbox: Received[] = [];
  const waiters: (() => void)[] = [];
  let clock = Date.now();

  before(async () => {
    smtp = new SMTPServer({
      secure: false,
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth(auth, _session, cb) {
        if (auth.username === 'mailer' && auth.password === 's3cret') cb(null, { user: 'mailer' });
        else cb(new Error('Invalid username or password'));
      },
      onData(stream, session, cb) {
        simpleParser(stream).then((mail) => {
          inbox.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), mail });
          waiters.splice(0).forEach((w) => w());
          cb();
        }, cb);
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    h = await restHarness(
      { smtp_url: `smtp://mailer:s3cret@127.0.0.1:${port}`, mail_from: 'Parley <reset@chat.test>', password_reset_ttl: 600, public_api_url: 'https://api.chat.test' },
      { plugins: [(app, deps) => passwordResetRoutes(app, deps)] },
    );
    h.deps.now = () => new Date(clock);
    user = await h.newUser();
    await h.store.accounts.updateUser(h.application.id, user.id, { email: 'ann@example.com' });
    appToken = await h.session();
  });
  after(async () => {
    await h?.close();
    await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  });

  const nextMail = async (count: number) => {
    while (inbox.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    return inbox[count - 1];
  };
  const ask = (email: string, token = appToken) =>
    h.request({ method: 'GET', url: `/users/password/reset.json?email=${encodeURIComponent(email)}`, headers: { 'qb-token': token } });
  const linkPath = (mail: ParsedMail) => {
    const match = /https:\/\/api\.chat\.test(\/users\/password\/reset\/[A-Za-z0-9_-]+)/.exec(mail.text ?? '');
    assert.ok(match, 'the mail carries the link');
    return match[1];
  };
  const submit = (path: string, password: string, confirmation = password) => h.request({
    method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ password, password_confirmation: confirmation }).toString(),
  });
  const canSignIn = async (password: string) => {
    try {
      await h.session({ login: user.login, password });
      return true;
    } catch {
      return false;
    }
  };

  it('mails a one-time link whose page sets the new password', async () => {
    const res = await ask('ann@example.com');
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
    const { from, to, mail } = await nextMail(1);
    assert.equal(from, 'reset@chat.test');
    assert.deepEqual(to, ['ann@example.com']);
    assert.match(mail.subject ?? '', /Reset your test password/);
    assert.ok(mail.html && mail.html.includes('Choose a new password'));
    const path = linkPath(mail);

    const shown = await h.request({ method: 'GET', url: path });
    assert.equal(shown.statusCode, 200);
    assert.match(shown.headers['content-type'] as string, /text\/html/);
    assert.equal(shown.headers['cache-control'], 'no-store');
    assert.equal(shown.headers['referrer-policy'], 'no-referrer');
    assert.match(shown.body, /<form method="post">/);

    assert.equal((await submit(path, 'short')).statusCode, 422);
    const differ = await submit(path, 'new-password-1', 'new-password-2');
    assert.equal(differ.statusCode, 422);
    assert.match(differ.body, /differ/);
    assert.equal(await canSignIn(PASSWORD), true, 'refused submissions change nothing');

    const done = await submit(path, 'new-password-1');
    assert.equal(done.statusCode, 200);
    assert.match(done.body, /Password changed/);
    assert.equal(await canSignIn('new-password-1'), true);
    assert.equal(await canSignIn(PASSWORD), false);

    const reused = await submit(path, 'another-password');
    assert.equal(reused.statusCode, 404, 'a link works once');
    assert.equal((await h.request({ method: 'GET', url: path })).statusCode, 404);
    assert.equal(await canSignIn('new-password-1'), true);
  });

  it('expires links after password_reset_ttl', async () => {
    assert.equal((await ask('ann@example.com')).statusCode, 200);
    const path = linkPath((await nextMail(2)).mail);
    clock += 601_000;
    assert.equal((await submit(path, 'late-password-1')).statusCode, 404);
    assert.equal(await canSignIn('late-password-1'), false);
    clock = Date.now();
  });

  it('answers QuickBlox errors for bad requests and sends nothing', async () => {
    const before = inbox.length;
    const unknown = await ask('nobody@example.com');
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(unknown.json(), { errors: ["The resource wasn't found"] });
    const blank = await ask('');
    assert.deepEqual(blank.json(), { errors: { email: ["can't be blank"] } });
    assert.equal((await ask('x'.repeat(300))).statusCode, 422);
    assert.equal((await h.request({ method: 'GET', url: '/users/password/reset.json?email=ann@example.com' })).statusCode, 401);
    for (const bad of ['short', '../../etc', 'A'.repeat(43)]) {
      assert.equal((await h.request({ method: 'GET', url: `/users/password/reset/${bad}` })).statusCode, 404, bad);
    }
    assert.equal(inbox.length, before);
  });

  it('answers 422 when no SMTP server is configured, and 500 when it refuses', async () => {
    const plain = await restHarness({}, { plugins: [(app, deps) => passwordResetRoutes(app, deps)] });
    try {
      const u = await plain.newUser();
      await plain.store.accounts.updateUser(plain.application.id, u.id, { email: 'b@example.com' });
      const res = await plain.request({ method: 'GET', url: '/users/password/reset.json?email=b@example.com', headers: { 'qb-token': await plain.session() } });
      assert.equal(res.statusCode, 422);
      assert.deepEqual(res.json(), { errors: ['Password reset by mail is not enabled on this server'] });
    } finally {
      await plain.close();
    }
    const port = (smtp.server.address() as AddressInfo).port;
    const badAuth = await restHarness({ smtp_url: `smtp://mailer:wrong@127.0.0.1:${port}` }, { plugins: [(app, deps) => passwordResetRoutes(app, deps)] });
    try {
      const u = await badAuth.newUser();
      await badAuth.store.accounts.updateUser(badAuth.application.id, u.id, { email: 'c@example.com' });
      const res = await badAuth.request({ method: 'GET', url: '/users/password/reset.json?email=c@example.com', headers: { 'qb-token': await badAuth.session() } });
      assert.equal(res.statusCode, 500);
      assert.ok(!res.body.includes('wrong'), 'nothing secret is echoed');
    } finally {
      await badAuth.close();
    }
  });
});
