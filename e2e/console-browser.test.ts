// The operator console in a real browser (playwright-core driving Debian's chromium) against a
// real server on loopback: sign in, create an application, create and find a user, read a dialog
// whose history was written over XMPP (@xmpp/client), disconnect a live session, watch a chart move
// as messages flow, read the log. Writes a screenshot of every page to docs/screenshots/.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { chromium, type Browser, type Page } from 'playwright-core';
import { BlobFiles } from '../src/storage/blob-files.js';
import { LogRing } from '../src/admin/log-ring.js';
import { useServer } from './support/fixture.js';
import { xml, type Conn } from './support/clients.js';
import { waitFor } from './support/console.js';
import { withTimeout } from './support/wait.js';

const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const EMAIL = 'operator@example.org';
const PASSWORD = 'console password';

/** Debian's binary (its /usr/bin/chromium is a shell wrapper), or PARLEY_CHROMIUM. */
function findChromium(): string | null {
  for (const candidate of [process.env.PARLEY_CHROMIUM, '/usr/lib/chromium/chromium']) if (candidate && existsSync(candidate)) return candidate;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const executablePath = findChromium();

const chat = (to: string, body: string, stored: boolean, extra: ReturnType<typeof xml>[] = []) =>
  xml('message', { to, type: 'chat' }, xml('body', {}, body),
    xml('extraParams', { xmlns: 'jabber:client' }, ...(stored ? [xml('save_to_history', {}, '1')] : []), ...extra));

if (!executablePath) {
  it('operator console in a real browser', { skip: 'chromium is not installed (apt-get install chromium); .ci/run installs it' }, () => {});
} else {
  describe('operator console in a real browser', () => {
    const logRing = new LogRing();
    const fx = useServer({ logRing });

    it('signs in, manages apps and users, reads XMPP history, disconnects a session, and charts traffic', { timeout: 90_000 }, async () => {
      mkdirSync(SHOTS, { recursive: true });
      await fx.t.store.operators.createOperator({ email: EMAIL, password: PASSWORD, appIds: null });
      const base = `http://127.0.0.1:${fx.t.server.ports.http}`;
      const browser: Browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
      const conns: Conn[] = [];
      try {
        const page: Page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
        const pageErrors: string[] = [];
        page.on('pageerror', (err) => pageErrors.push(String(err)));
        page.setDefaultTimeout(15_000);
        const shot = (name: string) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
        const nav = async (name: string) => {
          await page.click(`nav a[href="#/${name}"]`);
          await page.waitForSelector(`body[data-page="${name}"]`);
        };

        // Sign-in: a wrong password is refused on the page (and logged as a warning).
        await page.goto(`${base}/admin`);
        await page.fill('input[name=email]', EMAIL);
        await page.fill('input[name=password]', 'wrong password');
        await page.click('button[type=submit]');
        await page.waitForSelector('#signin-error:has-text("wrong email or password")');
        await page.fill('input[name=password]', PASSWORD);
        await page.click('button[type=submit]');
        await page.waitForSelector('header.top:not([hidden]) #operator:has-text("operator@example.org")');
        await page.waitForSelector('.card[data-chart=connections] canvas');

        // Applications: create one; its keys are shown.
        await nav('apps');
        await page.fill('input[name=name]', 'Browser app');
        await page.click('button:has-text("Create")');
        const card = page.locator('section.card', { hasText: 'Browser app' });
        await card.waitFor();
        const newAppId = Number(await card.getAttribute('data-app'));
        const created = await fx.t.store.accounts.getApplication(newAppId);
        assert.equal(created?.name, 'Browser app');
        assert.equal(await card.locator('[data-field=auth_secret]').textContent(), created.authSecret);
        await shot('applications');

        // Users: create one in the new application, then find it by a part of its login.
        await nav('users');
        await page.selectOption('select[name=app]', String(newAppId));
        await page.fill('input[name=login]', 'carol');
        await page.fill('input[name=password]', 'carol password');
        await page.fill('input[name=email]', 'carol@example.org');
        await page.click('button:has-text("Create user")');
        await page.waitForSelector('tr[data-login=carol]');
        const carol = await fx.t.store.accounts.getUserByLogin(newAppId, 'carol');
        assert.equal(carol?.email, 'carol@example.org');
        assert.equal(await fx.t.store.accounts.verifyPassword(newAppId, carol.id, 'carol password'), true);
        await page.fill('input[name=q]', 'aro');
        await page.click('button:has-text("Search")');
        await page.waitForSelector(`tr[data-user="${carol.id}"]`);
        assert.equal(await page.locator('tbody tr').count(), 1);
        await page.click(`tr[data-user="${carol.id}"] button:has-text("Edit")`);
        await page.fill('dialog.form-dialog input[name=full_name]', 'Carol Jones');
        await page.fill('dialog.form-dialog input[name=tags]', 'vip, beta');
        await page.click('dialog.form-dialog button[value=ok]');
        await page.waitForSelector(`tr[data-user="${carol.id}"] td.full-name:has-text("Carol Jones")`);
        const edited = await fx.t.store.accounts.getUser(newAppId, carol.id);
        assert.deepEqual([edited?.fullName, edited?.tags], ['Carol Jones', ['vip', 'beta']]);
        await shot('users');

        // A dialog whose history was written over XMPP, with an attachment.
        const alice = await fx.pool.connect(await fx.t.createUser('alice'));
        const bobUser = await fx.t.createUser('bob');
        const bob = await fx.pool.connect(bobUser, { transport: 'ws' });
        conns.push(alice, bob);
        const photo = xml('attachment', { type: 'image', id: '7', name: 'harbour.png', url: 'https://files.example.test/harbour.png', 'content-type': 'image/png', size: '48213' });
        // A private file in the store, attached by its uid: the console opens it without a QuickBlox token.
        const uid = randomBytes(16).toString('hex');
        const files = new BlobFiles(join(fx.t.config.data_dir, 'blobs'));
        const stored = await fx.t.store.blobs.createBlob({
          appId: fx.t.app.id, userId: 1, uid, name: 'notes.txt', contentType: 'text/plain', public: false, tags: [],
          uploadKeyHash: randomBytes(16).toString('hex'), uploadExpiresAt: new Date(Date.now() + 60_000),
        });
        const size = await files.put(uid, Readable.from([Buffer.from('private notes')]), 1000);
        await fx.t.store.blobs.completeBlob(fx.t.app.id, stored.id, size, new Date());
        const notes = xml('attachment', { type: 'file', id: uid, name: 'notes.txt' });
        await alice.send(chat(bobUser.jid, 'Hello Bob, written over XMPP', true));
        await bob.take((el) => el.name === 'message' && el.getChildText('body') === 'Hello Bob, written over XMPP', 5000);
        await alice.send(chat(bobUser.jid, 'The harbour this morning', true, [photo, notes]));
        await bob.take((el) => el.name === 'message' && el.getChildText('body') === 'The harbour this morning', 5000);
        await bob.send(chat(alice.jid.split('/')[0], 'Lovely!', true));
        await alice.take((el) => el.name === 'message' && el.getChildText('body') === 'Lovely!', 5000);

        await nav('dialogs');
        await page.selectOption('select[name=app]', String(fx.t.app.id));
        const row = page.locator('tr[data-dialog]', { hasText: 'Lovely!' });
        await row.waitFor();
        await shot('dialogs');
        await row.click();
        await page.waitForSelector('#history .message:has-text("Hello Bob, written over XMPP")');
        const bodies = await page.locator('#history .message .body').allTextContents();
        assert.deepEqual(bodies, ['Hello Bob, written over XMPP', 'The harbour this morning', 'Lovely!']);
        const links = page.locator('#history .attachment a');
        assert.deepEqual(await links.allTextContents(), ['harbour.png', 'notes.txt']);
        assert.equal(await links.nth(0).getAttribute('href'), 'https://files.example.test/harbour.png');
        const file = await page.request.get(`${base}${await links.nth(1).getAttribute('href')}`);
        assert.equal(file.status(), 200);
        assert.equal(await file.text(), 'private notes');
        assert.equal((await fetch(`${base}/blobs/${uid}`)).status, 401, 'outside the console the file needs a QuickBlox session');
        await shot('dialog');

        // Sessions: both are listed with their transports; disconnect Alice and see her gone.
        await nav('sessions');
        const aliceRow = page.locator(`tr[data-jid="${alice.jid}"]`);
        await aliceRow.waitFor();
        assert.match((await page.locator(`tr[data-jid="${bob.jid}"]`).textContent()) ?? '', /websocket/);
        await shot('sessions');
        await aliceRow.locator('button:has-text("Disconnect")').click();
        await page.click('#ask-ok');
        await aliceRow.waitFor({ state: 'detached' });
        await waitFor(() => alice.errors.some((e) => e.condition === 'policy-violation'), 5000, 'policy-violation at the client');
        assert.equal(fx.t.server.core.sessions.resources(alice.jid.split('/')[0]).length, 0);

        // Overview: the messages chart moves when messages flow.
        await nav('overview');
        const messages = page.locator('.card[data-chart=messages]');
        await page.waitForFunction(() => document.querySelector('.card[data-chart=connections]')?.getAttribute('data-max') !== '0');
        assert.equal(await messages.getAttribute('data-max'), '0', 'no messages since the page opened');
        const dave = await fx.pool.connect(await fx.t.createUser('dave'));
        conns.push(dave);
        for (let i = 0; i < 12; i++) await bob.send(chat(dave.jid.split('/')[0], `flow ${i}`, i % 3 !== 0));
        for (let i = 0; i < 12; i++) await dave.take((el) => el.getChildText('body') === `flow ${i}`, 5000);
        for (const chart of ['messages', 'latency']) {
          await page.waitForFunction((id) => Number(document.querySelector(`.card[data-chart=${id}]`)?.getAttribute('data-max')) > 0, chart, { timeout: 10_000 });
        }
        await page.waitForTimeout(2500);
        await shot('overview');

        // Log: the failed sign-in is there.
        await nav('log');
        await page.waitForSelector('td:has-text("console: sign-in failed")');
        await shot('log');

        // A phone-sized screen: nothing overflows sideways.
        await page.setViewportSize({ width: 390, height: 844 });
        await nav('overview');
        await page.waitForSelector('.card[data-chart=store] canvas');
        await page.waitForTimeout(1500);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `the page is ${overflow}px wider than the phone`);
        await page.screenshot({ path: `${SHOTS}overview-phone.png` });

        assert.deepEqual(pageErrors, []);
      } finally {
        await withTimeout(browser.close(), 10_000, 'browser close').catch(() => {});
      }
    });
  });
}
