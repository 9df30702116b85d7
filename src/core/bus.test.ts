import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from './bus.js';
import { EVENTS } from './events.js';

const payload = () => ({ stanza: null, from: null, to: null, origin: null }) as never;

test('handlers run in the order of their slots in the catalogue, registration order within a slot', async () => {
  const bus = new EventBus();
  const ran: string[] = [];
  bus.on('message/bare', 'offline', () => void ran.push('offline'));
  bus.on('message/bare', 'local', () => void ran.push('local-1'));
  bus.on('message/bare', 'settling', () => void ran.push('settling'));
  bus.on('message/bare', 'local', () => void ran.push('local-2'));
  await bus.run('message/bare', payload());
  assert.deepEqual(ran, ['settling', 'local-1', 'local-2', 'offline']);
});

test('the first handler to return a value ends the run', async () => {
  const bus = new EventBus();
  let later = false;
  bus.on('message/outbound', 'privacy', async () => 'blocked');
  bus.on('message/outbound', 'history', () => void (later = true));
  assert.equal(await bus.run('message/outbound', payload()), 'blocked');
  assert.equal(later, false);
});

test('a throwing handler stops a routing event with its error (fail closed)', async () => {
  const bus = new EventBus();
  let delivered = false;
  bus.on('message/outbound', 'privacy', () => {
    throw new Error('privacy store down');
  });
  bus.on('message/bare', 'local', () => void (delivered = true));
  await assert.rejects(bus.run('message/outbound', payload()), /privacy store down/);
  assert.equal(EVENTS['message/outbound'].onError, 'stop');
  assert.equal(delivered, false);
});

test('a throwing handler of an isolated event is logged and the next one runs', async () => {
  const logged: object[] = [];
  const bus = new EventBus({ error: (obj) => void logged.push(obj) });
  let ran = false;
  bus.on('session/closed', 'stream-management', () => {
    throw new Error('boom');
  });
  bus.on('session/closed', 'offline', () => void (ran = true));
  await bus.run('session/closed', { session: null as never });
  assert.equal(ran, true);
  assert.equal(logged.length, 1);
});

test('a slot the catalogue does not list is refused', () => {
  const bus = new EventBus();
  assert.throws(() => bus.on('message/bare', 'nowhere' as never, () => undefined), /no slot nowhere/);
});

test('dispatch answers without a promise while every handler is synchronous, and goes on in order after one that is not', async () => {
  const bus = new EventBus({ error: () => undefined });
  const ran: string[] = [];
  bus.on('message/bare', 'settling', () => void ran.push('settling'));
  bus.on('message/bare', 'local', () => void ran.push('local'));
  assert.equal(bus.dispatch('message/bare', payload()), undefined);
  assert.deepEqual(ran, ['settling', 'local']);

  ran.length = 0;
  bus.on('message/bare', 'local', async () => {
    ran.push('local-async');
    throw new Error('isolated');
  });
  bus.on('message/bare', 'offline', () => (ran.push('offline'), 'kept'));
  const pending = bus.dispatch('message/bare', payload());
  assert.ok(pending instanceof Promise);
  assert.equal(await pending, 'kept');
  assert.deepEqual(ran, ['settling', 'local', 'local-async', 'offline']);
});

test('dispatch throws at once when a handler of a stop event throws synchronously', () => {
  const bus = new EventBus();
  bus.on('message/outbound', 'privacy', () => {
    throw new Error('privacy store down');
  });
  assert.throws(() => bus.dispatch('message/outbound', payload()), /privacy store down/);
});
