// HTTP upload (XEP-0363), vCard-temp and vCard avatars (XEP-0054/0153), private storage and
// bookmarks (XEP-0049/0048), PEP with avatars and nicknames (XEP-0163/0084/0172), software version
// (XEP-0092) and service discovery, end to end with the `stanza` client library.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { useServer } from './support/fixture.js';
import type { TestUser } from './support/server.js';
import { StanzaPool } from './support/stanza.js';
import { Inbox, withTimeout } from './support/wait.js';
import { xml } from './support/clients.js';

const QUOTA = 5000;
const MAX_FILE = 3000;

describe('account data and services with stanza.js', () => {
  let stanzas: StanzaPool;
  const fx = useServer({ overrides: { upload_quota: QUOTA, blob_max_size: MAX_FILE }, teardown: () => stanzas.disconnectAll() });
  stanzas = new StanzaPool(() => fx.t);

  /** Two users with a mutual presence subscription. */
  async function friends(): Promise<[TestUser, TestUser]> {
    const [a, b] = [await fx.t.createUser(), await fx.t.createUser()];
    await fx.t.store.roster.setItem(a.id, { jid: b.jid, name: null, subscription: 'both', ask: false, groups: [] });
    await fx.t.store.roster.setItem(b.id, { jid: a.jid, name: null, subscription: 'both', ask: false, groups: [] });
    return [a, b];
  }

  it('discovers every service and answers software version', async () => {
    const alice = await fx.t.createUser();
    const a = await stanzas.connect(alice);
    const server = await a.agent.getDiscoInfo(fx.t.domain);
    for (const feature of ['urn:xmpp:http:upload:0', 'urn:xmpp:blocking', 'vcard-temp', 'jabber:iq:version', 'jabber:iq:privacy']) {
      assert.ok(server.features.includes(feature), `server advertises ${feature}`);
    }
    const account = await a.agent.getDiscoInfo(alice.jid);
    for (const feature of ['urn:xmpp:mam:2', 'http://jabber.org/protocol/pubsub#publish', 'http://jabber.org/protocol/pubsub#publish-options']) {
      assert.ok(account.features.includes(feature), `account advertises ${feature}`);
    }
    assert.ok(account.identities.some((i) => i.category === 'pubsub' && i.type === 'pep'));
    const version = await a.agent.getSoftwareVersion(fx.t.domain);
    assert.equal(version.name, 'Parley');
    assert.match(version.version ?? '', /^\d+\.\d+\.\d+/);
  });

  it('hands out upload slots backed by the blob store, within the size limit and the quota', async () => {
    const alice = await fx.t.createUser();
    const a = await stanzas.connect(alice);
    const service = await a.agent.getUploadService();
    assert.equal(service.jid, fx.t.domain);
    assert.equal(service.maxSize, MAX_FILE);
    const bytes = randomBytes(2000);
    const slot = await a.agent.getUploadSlot(service.jid, { name: 'photo one.png', size: bytes.length, mediaType: 'image/png' });
    assert.ok(slot.upload?.url && slot.download);
    // A wrong key is refused, the right one stores the file; the GET URL serves it to anyone.
    const forged = slot.upload.url.replace(/key=[^&]+/, 'key=nope');
    assert.equal((await fetch(forged, { method: 'PUT', body: bytes })).status, 403);
    const put = await fetch(slot.upload.url, { method: 'PUT', body: bytes, headers: { 'content-type': 'image/png' } });
    assert.equal(put.status, 201);
    assert.equal((await fetch(slot.upload.url, { method: 'PUT', body: bytes })).status, 403, 'a slot takes one upload');
    const got = await fetch(slot.download);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), bytes);
    // The file is a QuickBlox blob of the user.
    const blobs = await fx.t.store.blobs.listBlobs(fx.t.app.id, alice.id, { limit: 10, offset: 0 });
    assert.deepEqual(blobs.blobs.map((b) => [b.name, b.size, b.status]), [['photo one.png', 2000, 'complete']]);

    // A body of another size than announced is refused.
    const short = await a.agent.getUploadSlot(service.jid, { name: 'b.bin', size: 100 });
    assert.equal((await fetch(short.upload!.url, { method: 'PUT', body: randomBytes(50) })).status, 400);
    // Too large for one file, then over the quota (2000 stored + 100 promised + 2900 > 5000).
    await assert.rejects(a.agent.getUploadSlot(service.jid, { name: 'big.bin', size: MAX_FILE + 1 }), (e: any) => e.error?.condition === 'not-acceptable');
    await assert.rejects(a.agent.getUploadSlot(service.jid, { name: 'c.bin', size: 2950 }), (e: any) => e.error?.condition === 'resource-constraint');
    await assert.rejects(a.agent.getUploadSlot(service.jid, { name: '', size: 10 }), (e: any) => e.error?.condition === 'bad-request');
    assert.equal((await fetch(slot.download.replace(/\/upload\/[0-9a-f]{32}/, `/upload/${'0'.repeat(32)}`))).status, 404);
  });

  it('keeps a vCard readable by others and announces its photo hash in presence (XEP-0153)', async () => {
    const [alice, bob] = await friends();
    const b = await stanzas.connect(bob);
    const a = await stanzas.connect(alice, 'writer', false);
    const photo = randomBytes(300);
    // stanza.js 12 writes a PHOTO's bytes unencoded (not well-formed): the vCard is set with @xmpp/client.
    const writer = await fx.pool.connect(alice, { presence: false });
    await writer.iq(xml('iq', { type: 'set', id: 'v1' }, xml('vCard', { xmlns: 'vcard-temp' }, xml('FN', {}, 'Alice Liddell'), xml('NICKNAME', {}, 'ally'),
      xml('PHOTO', {}, xml('TYPE', {}, 'image/png'), xml('BINVAL', {}, photo.toString('base64'))))));
    await writer.stop();
    const own = await a.agent.getVCard(alice.jid);
    assert.equal(own.fullName, 'Alice Liddell');
    const seen = await b.agent.getVCard(alice.jid);
    assert.equal(seen.fullName, 'Alice Liddell');
    const gotPhoto = seen.records?.find((r) => r.type === 'photo') as { data?: Buffer | string } | undefined;
    const photoData = gotPhoto?.data;
    assert.deepEqual(typeof photoData === 'string' ? Buffer.from(photoData, 'base64') : photoData, photo);
    assert.equal((await b.agent.getVCard(fx.t.createUser && (await fx.t.createUser()).jid)).fullName, undefined, 'no vCard yet: an empty one');
    const presences = new Inbox<any>();
    b.agent.on('presence', (p) => presences.push(p));
    await a.agent.sendPresence();
    const p = await presences.take((x) => x.from === a.jid, 4000, 'alice presence at bob');
    assert.equal(p.vcardAvatar, createHash('sha1').update(photo).digest('hex'));
    // Nobody else may write it.
    await assert.rejects(b.agent.sendIQ({ type: 'set', to: alice.jid, vcard: { fullName: 'Mallory' } } as any), (e: any) => e.error?.condition === 'forbidden');
  });

  it('stores private XML: XEP-0048 bookmarks survive to another resource', async () => {
    const alice = await fx.t.createUser();
    const a = await stanzas.connect(alice, 'one');
    assert.deepEqual(await a.agent.getBookmarks(), []);
    await a.agent.addBookmark({ jid: `1_${'a'.repeat(24)}@muc.${fx.t.domain}`, name: 'Team', autoJoin: true, nick: 'al' });
    const a2 = await stanzas.connect(alice, 'two');
    const marks = await a2.agent.getBookmarks();
    assert.equal(marks.length, 1);
    assert.equal(marks[0]!.name, 'Team');
    assert.equal(marks[0]!.autoJoin, true);
  });

  it('publishes nicknames and avatars over PEP: +notify contacts get events, the last item on login, strangers are refused', async () => {
    const [alice, bob] = await friends();
    const stranger = await fx.t.createUser();
    const b = await stanzas.connect(bob, 'desk');
    const events = new Inbox<any>();
    b.agent.on('pubsub:published', (m) => events.push(m));
    const a = await stanzas.connect(alice);
    // Bob's interest (from his caps) is known once the server has asked his client.
    await new Promise((r) => setTimeout(r, 300));

    await a.agent.publishNick('Ally');
    const nick = await events.take((m) => m.pubsub?.items?.node === 'http://jabber.org/protocol/nick', 4000, 'nick event');
    assert.equal(nick.from, alice.jid);
    assert.equal(nick.pubsub.items.published[0].content.nick, 'Ally');

    const data = randomBytes(500);
    const id = createHash('sha1').update(data).digest('hex');
    await a.agent.publishAvatar(id, data);
    await a.agent.useAvatars([{ id, bytes: data.length, mediaType: 'image/png', width: 32, height: 32 } as any]);
    const meta = await events.take((m) => m.pubsub?.items?.node === 'urn:xmpp:avatar:metadata', 4000, 'avatar metadata event');
    assert.equal(meta.pubsub.items.published[0].id, 'current');
    const avatar = await b.agent.getAvatar(alice.jid, id);
    assert.deepEqual(avatar.content?.data, data);

    // A new resource of Bob gets the last items of the nodes it wants, after its presence.
    const b2 = await stanzas.connect(bob, 'phone', false);
    const later = new Inbox<any>();
    b2.agent.on('pubsub:published', (m) => later.push(m));
    await b2.agent.sendPresence();
    const last = await later.take((m) => m.pubsub?.items?.node === 'http://jabber.org/protocol/nick', 4000, 'last nick on login');
    assert.equal(last.pubsub.items.published[0].content.nick, 'Ally');

    // Without a presence subscription the presence-access nodes are closed.
    const s = await stanzas.connect(stranger);
    await assert.rejects(s.agent.getAvatar(alice.jid, id), (e: any) => e.error?.condition === 'not-authorized');
    // Only the owner publishes.
    await assert.rejects(s.agent.publish(alice.jid, 'http://jabber.org/protocol/nick', { itemType: 'http://jabber.org/protocol/nick', nick: 'Eve' } as any),
      (e: any) => e.error?.condition === 'forbidden');
    await withTimeout(a.agent.ping(), 3000, 'still alive');
  });
});
