// REST calls against a running test server over a real socket.
import type { Application } from '../../src/storage/types.js';
import { signedSessionParams } from '../../src/rest/harness.js';
import type { TestServer } from './server.js';

export const restUrl = (t: TestServer, path: string): string => `http://127.0.0.1:${t.server.ports.http}${path}`;

/** A signed session over HTTP; with credentials it is a user session. Returns the token. */
export async function restSession(t: TestServer, user?: { login: string; password: string }, app: Application = t.app): Promise<string> {
  const res = await fetch(restUrl(t, '/session.json'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(signedSessionParams(app, user ? { user } : {})),
  });
  const body = (await res.json()) as { session?: { token: string } };
  if (res.status !== 201 || !body.session) throw new Error(`session: ${res.status} ${JSON.stringify(body)}`);
  return body.session.token;
}
