// The issue-14 probe for response size: 1,000 stored messages of ~200 KB each (written straight to
// the store, as older data or another writer could have left them), then one short
// GET /chat/Message.json?limit=1000. Prints the request's length, the response's size and the
// process's peak RSS.   node dist/bench/page-size-probe.js [--messages 1000] [--kb 200]
import { parseArgs } from 'node:util';
import { restHarness, PASSWORD } from '../src/rest/harness.js';
import { chatRoutes } from '../src/rest/chat.js';
import { newObjectId } from '../src/chat/objectid.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '1000' }, kb: { type: 'string', default: '200' } } });
const count = Number(values.messages);
const text = 'x'.repeat(Number(values.kb) * 1024);

const h = await restHarness({}, { plugins: [chatRoutes] });
const [ann, bob] = [await h.newUser(), await h.newUser()];
const token = await h.session({ login: ann.login, password: PASSWORD });
const dialog = (await h.request({ method: 'POST', url: '/chat/Dialog.json', headers: { 'qb-token': token, 'content-type': 'application/json' }, payload: { type: 3, occupants_ids: [bob.id] } })).json();
for (let i = 0; i < count; i++) {
  const now = new Date(Date.now() + i);
  await h.store.chat.insertMessage({
    id: newObjectId(now.getTime()), appId: h.application.id, dialogId: dialog._id, senderId: ann.id, recipientId: bob.id, body: text,
    dateSent: Math.floor(now.getTime() / 1000), attachments: [], customParams: {}, markable: false, readIds: [ann.id], deliveredIds: [ann.id],
    createdAt: now, updatedAt: now,
  }, { unreadFor: [bob.id], unhideFor: [ann.id] });
}
const rssBefore = process.memoryUsage().rss;
let peak = rssBefore;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
const url = `/chat/Message.json?chat_dialog_id=${dialog._id}&limit=1000`;
const start = performance.now();
const res = await h.request({ method: 'GET', url, headers: { 'qb-token': token } });
const ms = performance.now() - start;
peak = Math.max(peak, process.memoryUsage().rss);
clearInterval(sampler);
const request = `GET ${url} HTTP/1.1\r\nQB-Token: ${token}\r\n\r\n`;
console.log(`request ${request.length} bytes → ${res.statusCode}, ${(res.rawPayload.length / 1e6).toFixed(2)} MB, ${JSON.parse(res.body).items.length} items, ${ms.toFixed(0)} ms; RSS ${(rssBefore / 1e6).toFixed(0)} → peak ${(peak / 1e6).toFixed(0)} MB`);
await h.close();
