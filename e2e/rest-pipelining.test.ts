// REST pipelining to a client that never reads (issue 14, item 2): 40 pipelined history requests
// in one packet must not make the server build and hold 40 large responses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { useServer } from './support/fixture.js';
import { restSession, restUrl } from './support/rest.js';
import { sleep } from './support/wait.js';
import { newObjectId } from '../src/chat/objectid.js';

const BODY = 'p'.repeat(20_000);

describe('REST pipelining to a socket that never reads', () => {
  const fx = useServer();

  it('40 pipelined GET /chat/Message.json?limit=100: bounded memory, other requests still served', async () => {
    const user = await fx.t.createUser();
    const token = await restSession(fx.t, { login: user.login, password: user.password });
    const other = await fx.t.createUser();
    const dialog = await fx.t.server.chat.createDialog({ appId: user.appId, userId: user.id }, { type: 2, name: 'big', occupants_ids: [other.id] });
    // 100 messages of 20 KB each, written to the store directly: each page is about 2 MB.
    const base = Math.floor(Date.now() / 1000) - 1000;
    for (let i = 0; i < 100; i++) {
      const at = new Date((base + i) * 1000);
      await fx.t.store.chat.insertMessage({
        id: newObjectId(at.getTime()), appId: user.appId, dialogId: dialog._id, senderId: user.id, recipientId: 0, body: `${i} ${BODY}`, dateSent: base + i,
        attachments: [], customParams: {}, markable: false, readIds: [user.id], deliveredIds: [user.id], createdAt: at, updatedAt: at,
      }, { unreadFor: [], unhideFor: [user.id] });
    }
    const path = `/chat/Message.json?chat_dialog_id=${dialog._id}&limit=100`;
    const warm = await fetch(restUrl(fx.t, path), { headers: { 'QB-Token': token } });
    assert.equal(warm.status, 200);
    const pageBytes = (await warm.arrayBuffer()).byteLength;
    assert.ok(pageBytes > 1_500_000, `a page is ${pageBytes} bytes`);

    global.gc?.();
    const before = process.memoryUsage().rss;
    const socket = net.connect({ port: fx.t.server.ports.http, host: '127.0.0.1' });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause(); // never reads a byte
    const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nQB-Token: ${token}\r\n\r\n`;
    socket.write(request.repeat(40));
    let peak = before;
    for (let i = 0; i < 60; i++) {
      await sleep(100);
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    const growth = peak - before;
    console.log(`# RSS before ${(before / 1e6).toFixed(0)} MB, peak ${(peak / 1e6).toFixed(0)} MB, growth ${(growth / 1e6).toFixed(1)} MB (page ${(pageBytes / 1e6).toFixed(1)} MB)`);
    assert.ok(growth < 12 * pageBytes, `RSS grew by ${(growth / 1e6).toFixed(0)} MB for one silent client (a page is ${(pageBytes / 1e6).toFixed(1)} MB)`);

    // Meanwhile the server answers others.
    const small = await fetch(restUrl(fx.t, `/chat/Message.json?chat_dialog_id=${dialog._id}&limit=1`), { headers: { 'QB-Token': token } });
    assert.equal(small.status, 200);
    socket.destroy();
  });
});
