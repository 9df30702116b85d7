// The operator console across two nodes sharing one store and one Redis (PARLEY_TEST_REDIS_URL), over
// real HTTP and real XMPP clients: a password reset on one node ends the user's streams on the other
// with <reset/>; the Sessions list through one node shows both nodes' streams, and names a node that
// does not answer; a disconnection through one node ends a stream on the other; an operator limited
// to some applications can neither see nor close another application's stream on any node; deleting
// an application ends its streams on every node.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { TestUser } from './support/server.js';
import { ClientPool, type Conn } from './support/clients.js';
import { REDIS_URL, useCluster, withoutRedis } from './support/cluster.js';
import { ConsoleClient, waitFor } from './support/console.js';
import { restSession, restUrl } from './support/rest.js';

const PASSWORD = 'operator password';

interface Listed {
  id: string;
  node: string;
  user_id: number;
  app_id: number;
  jid: string;
}

describe('operator console across cluster nodes', { skip: withoutRedis }, () => {
  const pools: ClientPool[] = [];
  const cluster = useCluster(['n1', 'n2'], 'redis', {}, { beforeStop: () => Promise.all(pools.map((p) => p.stopAll())).then(() => undefined) });
  const { nodes, prefix } = cluster;
  let counter = 0;

  before(() => {
    for (const node of nodes) pools.push(new ClientPool(node));
  });

  /** An operator signed in on node `at` (0: n1), for every application or only `appIds`. */
  const operator = async (appIds: number[] | null = null, at = 0): Promise<ConsoleClient> => {
    const email = `cluster-op${++counter}@example.org`;
    await nodes[0]!.store.operators.createOperator({ email, password: PASSWORD, appIds });
    const client = new ConsoleClient(`http://127.0.0.1:${nodes[at]!.server.ports.http}`);
    assert.equal((await client.signIn(email, PASSWORD)).status, 200);
    return client;
  };
  const listed = async (client: ConsoleClient, user: TestUser): Promise<Listed[]> =>
    (await client.get('/sessions')).body.items.filter((s: Listed) => s.user_id === user.id);
  const hasError = (conn: Conn, condition: string) => conn.errors.some((e) => e.condition === condition);

  it('a password reset through n1 ends the streams on both nodes with <reset/>, and the new password logs in on n2', async () => {
    const client = await operator();
    const eve = await nodes[0]!.createUser();
    const onN1 = await pools[0]!.connect(eve);
    const onN2 = await pools[1]!.connect(eve, { resource: 'n2' });
    const res = await client.post(`/apps/${nodes[0]!.app.id}/users/${eve.id}/password`, { password: 'brand new password' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.closed_sessions, 2, 'one stream here, one resource on n2');
    await waitFor(() => hasError(onN1, 'reset'), 5000, 'reset on n1');
    await waitFor(() => hasError(onN2, 'reset'), 5000, 'reset on n2');
    await waitFor(() => nodes[1]!.server.core.sessions.resources(eve.jid.split('/')[0]!).length === 0, 5000, 'no stream of eve left on n2');
    await Promise.all([onN1.stop(), onN2.stop()]);
    await assert.rejects(pools[1]!.connect(eve), 'the old password no longer logs in');
    const again = await pools[1]!.connect({ ...eve, password: 'brand new password' });
    await again.stop();
  });

  it('a password changed over REST on n2 (PUT /users/:id.json) ends the XMPP stream on n1 with <reset/>; the REST token that made it stays', async () => {
    const fay = await nodes[0]!.createUser();
    const onN1 = await pools[0]!.connect(fay);
    const token = await restSession(nodes[1]!, { login: fay.login, password: fay.password });
    const res = await fetch(restUrl(nodes[1]!, `/users/${fay.id}.json`), {
      method: 'PUT',
      headers: { 'QB-Token': token, 'content-type': 'application/json' },
      body: JSON.stringify({ user: { password: 'another new password', old_password: fay.password } }),
    });
    assert.equal(res.status, 200, await res.text());
    await waitFor(() => hasError(onN1, 'reset'), 5000, 'reset on n1');
    assert.equal((await fetch(restUrl(nodes[1]!, '/users.json'), { headers: { 'QB-Token': token } })).status, 200);
    await onN1.stop();
  });

  it("lists both nodes' streams through either node, each with the node that holds it", async () => {
    const gus = await nodes[0]!.createUser();
    const onN1 = await pools[0]!.connect(gus, { resource: 'one' });
    const onN2 = await pools[1]!.connect(gus, { resource: 'two' });
    for (const at of [0, 1]) {
      const client = await operator(null, at);
      const res = await client.get('/sessions');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.missing, []);
      assert.deepEqual(res.body.nodes.map((n: { node: string }) => n.node).sort(), ['n1', 'n2']);
      const mine = res.body.items.filter((s: Listed) => s.user_id === gus.id);
      assert.deepEqual(mine.map((s: Listed) => `${s.node} ${s.jid}`).sort(), [`n1 ${onN1.jid}`, `n2 ${onN2.jid}`]);
      assert.equal(res.body.total, res.body.nodes.reduce((sum: number, n: { total: number }) => sum + n.total, 0));
    }
    await Promise.all([onN1.stop(), onN2.stop()]);
  });

  it('disconnects a stream on n2 through n1 with <policy-violation/>; the others stay', async () => {
    const client = await operator();
    const hal = await nodes[0]!.createUser();
    const target = await pools[1]!.connect(hal, { resource: 'target' });
    const bystander = await pools[1]!.connect(hal, { resource: 'bystander' });
    const row = (await listed(client, hal)).find((s) => s.jid === target.jid)!;
    assert.equal(row.node, 'n2');
    assert.equal((await client.delete(`/sessions/${row.id}?node=n2`)).status, 204);
    await waitFor(() => hasError(target, 'policy-violation'), 5000, 'policy-violation on n2');
    await bystander.ping();
    assert.deepEqual((await listed(client, hal)).map((s) => s.jid), [bystander.jid]);
    assert.equal((await client.delete(`/sessions/${row.id}?node=n2`)).status, 404, 'already gone');
    assert.equal((await client.delete(`/sessions/${row.id}?node=nowhere`)).status, 404, 'no such node');
    const other = (await listed(client, hal))[0]!;
    assert.equal((await client.delete(`/sessions/${other.id}`)).status, 404, 'without node: this node (n1), where it is not');
    assert.equal((await client.delete(`/sessions/${other.id}?node=a%0Ab`)).status, 400);
    await Promise.all([target.stop(), bystander.stop()]);
  });

  it("an operator limited to one application neither sees nor closes another application's stream on n2", async () => {
    const otherApp = await nodes[0]!.createApp();
    const outsider = await nodes[0]!.createUser(undefined, undefined, otherApp);
    const insider = await nodes[0]!.createUser();
    const theirs = await pools[1]!.connect(outsider);
    const ours = await pools[1]!.connect(insider);
    const limited = await operator([nodes[0]!.app.id]);
    const everyone = await operator();
    assert.deepEqual(await listed(limited, outsider), []);
    assert.equal((await listed(limited, insider)).length, 1);
    const row = (await listed(everyone, outsider))[0]!;
    assert.equal(row.node, 'n2');
    assert.equal((await limited.delete(`/sessions/${row.id}?node=n2`)).status, 404);
    await theirs.ping();
    assert.equal(hasError(theirs, 'policy-violation'), false);
    // The same operator may close its own application's stream there.
    const mine = (await listed(limited, insider))[0]!;
    assert.equal((await limited.delete(`/sessions/${mine.id}?node=n2`)).status, 204);
    await waitFor(() => hasError(ours, 'policy-violation'), 5000, 'policy-violation for the insider');
    await Promise.all([theirs.stop(), ours.stop()]);
  });

  it('deleting a user through n1 ends the streams on both nodes with <not-authorized/> and counts them', async () => {
    const client = await operator();
    const joe = await nodes[0]!.createUser();
    const onN1 = await pools[0]!.connect(joe);
    const onN2 = await pools[1]!.connect(joe, { resource: 'n2' });
    const res = await client.delete(`/apps/${nodes[0]!.app.id}/users/${joe.id}`);
    assert.deepEqual(res.body, { closed_sessions: 2 });
    await waitFor(() => hasError(onN1, 'not-authorized') && hasError(onN2, 'not-authorized'), 5000, 'not-authorized on both nodes');
    await Promise.all([onN1.stop(), onN2.stop()]);
  });

  it("deleting an application through n1 ends its streams on n2 with <not-authorized/>, and only its", async () => {
    const doomed = await nodes[0]!.createApp();
    const [victim, survivor] = [await nodes[0]!.createUser(undefined, undefined, doomed), await nodes[0]!.createUser()];
    const gone = await pools[1]!.connect(victim);
    const stays = await pools[1]!.connect(survivor);
    const client = await operator();
    assert.equal((await client.delete(`/apps/${doomed.id}`, { confirm: doomed.name })).status, 204);
    await waitFor(() => hasError(gone, 'not-authorized'), 5000, 'not-authorized on n2');
    await stays.ping();
    await Promise.all([gone.stop(), stays.stop()]);
  });

  it('a node that does not answer is named, and the list comes without it after the timeout', async () => {
    // A "node" with a fresh heartbeat whose channel has a listener that never answers (a stalled node).
    const ghost = new Redis(REDIS_URL!);
    await ghost.subscribe(`${prefix}node:ghost`);
    await cluster.redis.zadd(`${prefix}nodes`, Date.now(), 'ghost');
    try {
      const ivy = await nodes[0]!.createUser();
      const onN2 = await pools[1]!.connect(ivy);
      const client = await operator();
      const started = Date.now();
      const res = await client.get('/sessions');
      const took = Date.now() - started;
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.missing, ['ghost']);
      assert.ok(took >= 1500 && took < 4000, `answered after the 2 s timeout, not later (${took} ms)`);
      assert.equal(res.body.items.filter((s: Listed) => s.user_id === ivy.id).length, 1, "n2's streams are there");
      await onN2.stop();
    } finally {
      await cluster.redis.zrem(`${prefix}nodes`, 'ghost');
      await ghost.quit();
    }
  });
});
