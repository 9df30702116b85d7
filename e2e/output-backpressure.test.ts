// Output backpressure (issue 14, item 2): a client that stops reading makes the server buffer only
// up to max_output_buffer for it, then its stream ends; a re-join of a room it is already in does
// not replay the history again; other clients never notice.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import type { TestUser } from './support/server.js';
import { sleep } from './support/wait.js';

const NS_MUC = 'http://jabber.org/protocol/muc';
const HIGH_WATER = 65_536;
const HARD_LIMIT = 1_048_576;
const BODY = 'h'.repeat(1000);

describe('output backpressure', () => {
  const fx = useServer({ overrides: { output_high_water: HIGH_WATER, max_output_buffer: HARD_LIMIT } });

  /** Pending output the server holds for the user's connection (bytes the client has not read yet, beyond the kernel's buffers). */
  const buffered = (user: TestUser): number | null => {
    const session = fx.t.server.core.sessions.resources(user.jid)[0];
    if (!session || session.detached) return null;
    const conn = session.connection as unknown as { bufferedBytes?: number; socket: { writableLength: number } };
    return conn.bufferedBytes ?? conn.socket.writableLength;
  };

  const roomWithHistory = async (owner: TestUser, others: TestUser[]): Promise<string> => {
    const dialog = await fx.t.server.chat.createDialog({ appId: owner.appId, userId: owner.id }, { type: 2, name: 'busy', occupants_ids: others.map((u) => u.id) });
    for (let i = 0; i < 100; i++) await fx.t.server.chat.createMessage({ appId: owner.appId, userId: owner.id }, { chat_dialog_id: dialog._id, message: `${i} ${BODY}` });
    return dialog.xmpp_room_jid!;
  };

  it('a client re-joining with <history maxstanzas="100"/> while not reading: bounded buffer, then its stream ends', async () => {
    const [reader, flooder] = [await fx.t.createUser(), await fx.t.createUser()];
    const room = await roomWithHistory(flooder, [reader]);
    const a = await fx.raws.connect(fx.t.server.ports.c2s);
    await a.login(reader.username, reader.password, 'slow');
    const join = (n: number) => `<presence to="${room}/${reader.id}" id="j${n}"><x xmlns="${NS_MUC}"><history maxstanzas="100"/></x></presence>`;
    a.send(join(0));
    await a.expect(/id="j0"/);
    await a.expect(`99 ${BODY}`, 5000);

    // From now on the client reads nothing and asks for the history again and again (142 bytes each).
    a.socket.pause();
    a.send(Array.from({ length: 300 }, (_, i) => join(i + 1)).join(''));

    const b = await fx.raws.connect(fx.t.server.ports.c2s);
    await b.login(flooder.username, flooder.password, 'loud');
    b.send(`<presence to="${room}/${flooder.id}" id="bj"><x xmlns="${NS_MUC}"><history maxstanzas="0"/></x></presence>`);
    await b.expect(/id="bj"/);

    let peak = 0;
    let ended = false;
    const deadline = Date.now() + 30_000;
    for (let round = 0; Date.now() < deadline; round++) {
      const now = buffered(reader);
      if (now === null) {
        ended = true;
        break;
      }
      peak = Math.max(peak, now);
      if (peak > HARD_LIMIT * 4) break; // unbounded: no point waiting for the deadline
      // Someone keeps talking in the room: output for the silent reader keeps coming.
      if (round % 5 === 0) b.send(Array.from({ length: 50 }, (_, i) => `<message to="${room}" type="groupchat" id="m${round}-${i}"><body>${BODY}</body></message>`).join(''));
      await sleep(10);
    }
    assert.ok(peak <= HARD_LIMIT + 65_536, `the server buffered ${peak} bytes for a client that reads nothing (limit ${HARD_LIMIT})`);
    assert.ok(ended, `the silent client's stream was still open after 30 s (peak buffer ${peak})`);
    console.log(`# peak buffered for the silent client: ${peak} bytes (max_output_buffer ${HARD_LIMIT})`);

    // The flooder's own stream is unaffected.
    b.send('<iq type="get" id="still"><ping xmlns="urn:xmpp:ping"/></iq>');
    await b.expect(/id="still"/, 10_000);
    a.destroy();
    b.destroy();
  });

  it('a repeated join of an occupant already in the room does not replay the history', async () => {
    const [reader, owner] = [await fx.t.createUser(), await fx.t.createUser()];
    const room = await roomWithHistory(owner, [reader]);
    const a = await fx.raws.connect(fx.t.server.ports.c2s);
    await a.login(reader.username, reader.password, 'r');
    const join = (id: string) => `<presence to="${room}/${reader.id}" id="${id}"><x xmlns="${NS_MUC}"><history maxstanzas="100"/></x></presence>`;
    a.send(join('first'));
    await a.expect(`99 ${BODY}`, 5000);
    const before = a.received.length;
    a.send(join('again'));
    await a.expect(/id="again"/);
    a.send('<iq type="get" id="after"><ping xmlns="urn:xmpp:ping"/></iq>');
    await a.expect(/id="after"/);
    const since = a.received.slice(before);
    assert.ok(!since.includes(`0 ${BODY}`), `the history came again (${since.length} characters after the re-join)`);
    assert.ok(since.length < 5000, `a re-join answered with ${since.length} characters`);
    a.destroy();
  });
});
