// A 1 MB body built to make a backtracking pattern slowest, sent to each REST endpoint whose
// parameters used to reach one: it is refused quickly, and a request sent meanwhile by someone
// else is answered without waiting for it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/fixture.js';
import { restSession, restUrl } from './support/rest.js';
import http from 'node:http';

const MB = 1_000_000;
const digits = (n: number) => '1'.repeat(n) + 'x';

/** node:http, because fetch refuses a GET with a body (QuickBlox reads GET parameters from bodies too). */
function send(method: string, url: string, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = method === 'GET' ? { 'qb-token': token } : { 'content-type': 'application/json', 'qb-token': token, 'content-length': Buffer.byteLength(body) };
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : body);
  });
}

describe('hostile 1 MB bodies do not stall the server', () => {
  let appToken = '';
  let userToken = '';
  const fx = useServer({
    setup: async () => {
      const user = await fx.t.createUser();
      appToken = await restSession(fx.t);
      userToken = await restSession(fx.t, { login: user.login, password: user.password });
    },
  });

  const hostile: [string, string, () => string, () => Record<string, unknown>][] = [
    ['POST', '/users.json', () => appToken, () => ({ user: { login: 'victim_x', password: 'longenough', email: `a@${'.'.repeat(MB)}@` } })],
    // GET parameters travel in the URL, which Node caps at 16 KB with the headers.
    ['GET', `/users.json?filter[]=number+id+in+${'1,'.repeat(7000)}`, () => appToken, () => ({})],
    ['GET', `/users.json?filter[]=number+id+gt+${digits(14_000)}`, () => appToken, () => ({})],
    ['POST', '/chat/Dialog.json', () => userToken, () => ({ type: digits(MB), occupants_ids: digits(100) })],
    ['POST', '/chat/Message.json', () => userToken, () => ({ recipient_id: digits(MB), message: 'x' })],
    ['GET', `/chat/Dialog.json?limit=${digits(7000)}&skip=${digits(7000)}`, () => userToken, () => ({})],
    ['GET', `/chat/Dialog.json?last_message_date_sent[gt]=${digits(14_000)}`, () => userToken, () => ({})],
    ['POST', '/chat/Message.json', () => userToken, () => ({ recipient_id: '2', message: 'x', date_sent: digits(MB - 100) })],
  ];

  for (const [method, path, token, body] of hostile) {
    it(`${method} ${path.slice(0, 40)}: refused or answered quickly, a concurrent request is not held`, async () => {
      const started = performance.now();
      const attack = send(method, restUrl(fx.t, path), token(), JSON.stringify(body())).then((res) => ({ ...res, ms: performance.now() - started }));
      await new Promise((r) => setTimeout(r, 30));
      const bystanderStart = performance.now();
      const health = await fetch(restUrl(fx.t, '/health'));
      const bystanderMs = performance.now() - bystanderStart;
      assert.equal(health.status, 200);
      const result = await attack;
      assert.ok(bystanderMs < 1000, `a concurrent /health waited ${bystanderMs.toFixed(0)} ms`);
      assert.ok(result.ms < 5000, `the hostile request took ${result.ms.toFixed(0)} ms`);
      assert.ok(result.status < 500, `${result.status} ${result.text.slice(0, 200)}`);
      assert.match(result.text, /^(\{"errors":|\{)/);
    });
  }
});
