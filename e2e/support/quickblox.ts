// The official QuickBlox JS SDK (npm `quickblox`) driving a test server: REST over the HTTPS port
// (the SDK only builds https:// URLs) and chat over XMPP-over-WebSocket (its Node TCP transport is
// broken with the reconnect-core override). The SDK's config is a module singleton shared by
// every instance, so one test file talks to one server.
import { createRequire } from 'node:module';
import type { TestServer } from './server.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const QB: any = require('quickblox');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Sdk = any;

export interface SdkError {
  code: number;
  status: string;
  message: unknown;
  detail: unknown;
}

/** Calls an SDK function that takes a node-style callback; rejects with the SDK's error object. */
export function call<T = any>(fn: (cb: (err: unknown, result: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    let settled = false;
    fn((err, result) => {
      // The SDK calls back twice when a callback throws; only the first answer counts.
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(result);
    });
  });
}

/** A fresh SDK instance initialised against the test server (the server needs an HTTPS port). */
export function sdk(t: TestServer): Sdk {
  if (!t.server.ports.https) throw new Error('the QuickBlox SDK needs the HTTPS port: start the server with https_port');
  const qb = new QB.QuickBlox();
  qb.init(t.app.id, t.app.authKey, t.app.authSecret, t.app.accountKey, {
    endpoints: { api: `127.0.0.1:${t.server.ports.https}`, chat: t.domain },
    debug: { mode: 0 },
  });
  qb.chat.Client.options.websocket = { url: `ws://127.0.0.1:${t.server.ports.ws}/` };
  return qb;
}

export interface SdkUser {
  qb: Sdk;
  id: number;
  login: string;
  password: string;
  token: string;
}

let counter = 0;

/** Signs a new user up through the SDK and leaves the SDK with a user session. */
export async function sdkSignUp(t: TestServer, fields: Record<string, unknown> = {}): Promise<SdkUser> {
  const qb = sdk(t);
  const login = `sdk${++counter}_${process.pid}`;
  const password = 'sdk-password-1';
  const session = await call<{ token: string }>((cb) => qb.createSession(cb));
  const user = await call<{ id: number }>((cb) => qb.users.create({ login, password, ...fields }, cb));
  await call((cb) => qb.login({ login, password }, cb));
  return { qb, id: user.id, login, password, token: session.token };
}

/** Connects the SDK's chat with the session token as the password, as QuickBlox recommends. */
export async function sdkConnectChat(u: SdkUser): Promise<void> {
  await call((cb) => u.qb.chat.connect({ userId: u.id, password: u.token }, cb));
}

/** Disconnects chat and waits until the server has let go of the user's streams. */
export async function sdkDisconnect(u: SdkUser, t: TestServer): Promise<void> {
  if (u.qb.chat.isConnected) u.qb.chat.disconnect();
  const deadline = Date.now() + 3000;
  const open = () => [...t.server.core.sessions.connections()].some((s) => s.user?.userId === u.id);
  while (open() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  // The SDK drops its listeners on 'end'; a late stream error must not become an uncaught 'error' event.
  u.qb.chat.Client.on('error', () => {});
}
