// The issue-14 probe for quadratic parsing: one request whose field is N digits and a letter
// (dialog `type`) or an e-mail made of dots, timed end to end.   node dist/bench/regex-stall-probe.js [--chars 30000]
import { parseArgs } from 'node:util';
import { restHarness, PASSWORD } from '../src/rest/harness.js';
import { chatRoutes } from '../src/rest/chat.js';

const { values } = parseArgs({ options: { chars: { type: 'string', default: '30000' } } });
const n = Number(values.chars);
const h = await restHarness({}, { plugins: [chatRoutes] });
const ann = await h.newUser();
const userToken = await h.session({ login: ann.login, password: PASSWORD });
const appToken = await h.session();
const timed = async (name: string, token: string, url: string, payload: unknown) => {
  const start = performance.now();
  const res = await h.request({ method: 'POST', url, headers: { 'qb-token': token, 'content-type': 'application/json' }, payload: payload as Record<string, unknown> });
  console.log(`${name} (${n} characters): ${res.statusCode} in ${(performance.now() - start).toFixed(0)} ms`);
};
await timed('dialog type', userToken, '/chat/Dialog.json', { type: '1'.repeat(n) + 'x', name: 'x', occupants_ids: '2' });
await timed('sign-up e-mail', appToken, '/users.json', { user: { login: 'probe_user', password: 'longenough', email: `a@${'.'.repeat(n)}@` } });
await h.close();
