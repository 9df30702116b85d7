// HTTP pipelining without unbounded buffering: Node's HTTP server stops reading a socket whose
// responses pile up, but every request it already read (a client can pipeline dozens in one
// packet) is handled at once and its response held in memory until the client reads. Here a
// request on a connection waits until the previous response on it has been written out, and the
// socket has flushed under the high-water mark; a client that never reads therefore costs one
// response. A connection with too many requests waiting, or too much output unread, is closed.
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/types.js';

/** Requests one connection may have waiting behind its unread responses. */
const MAX_WAITING = 32;

interface Lane {
  tail: Promise<void>;
  waiting: number;
  /** Releases of the requests in the lane, run when the connection closes. */
  onClose: Set<() => void>;
}

export function registerPipelining(app: FastifyInstance, config: Pick<Config, 'output_high_water' | 'max_output_buffer'>): void {
  const lanes = new WeakMap<Socket, Lane>();

  const laneOf = (socket: Socket): Lane => {
    let lane = lanes.get(socket);
    if (!lane) {
      const created: Lane = { tail: Promise.resolve(), waiting: 0, onClose: new Set() };
      socket.once('close', () => {
        for (const release of [...created.onClose]) release();
      });
      lanes.set(socket, (lane = created));
    }
    return lane;
  };

  app.addHook('onRequest', (req, reply, done) => {
    const socket = req.raw.socket as Socket | undefined;
    // inject() has no real socket: nothing to wait for.
    if (!socket || typeof socket.writableLength !== 'number') return done();
    const lane = laneOf(socket);
    if (lane.waiting >= MAX_WAITING) {
      socket.destroy();
      return;
    }
    const previous = lane.tail;
    let release!: () => void;
    lane.tail = new Promise<void>((resolve) => (release = resolve));
    lane.waiting++;
    let released = false;
    const finish = (): void => {
      if (released) return;
      released = true;
      lane.waiting--;
      lane.onClose.delete(finish);
      socket.off('drain', flushed);
      release();
    };
    // The next request may run once this response is out of the process's hands (or the connection is gone).
    function flushed(): void {
      if (released) return;
      if (socket!.destroyed || socket!.writableLength <= config.output_high_water) return finish();
      if (socket!.writableLength > config.max_output_buffer) {
        socket!.destroy();
        return finish();
      }
      socket!.off('drain', flushed);
      socket!.once('drain', flushed);
    }
    reply.raw.once('finish', flushed);
    reply.raw.once('close', flushed);
    lane.onClose.add(finish);
    // A request queued behind a connection that is gone is never handled.
    void previous.then(() => {
      if (socket.destroyed) return finish();
      done();
    });
  });
}
