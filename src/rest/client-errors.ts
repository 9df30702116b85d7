// Errors Node's HTTP parser and Fastify's router raise before a route runs, answered in
// QuickBlox's `{"errors":…}` shape like every other REST error: malformed requests, headers too
// large (431), headers that never finish (408), undecodable URLs.
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../chat/errors.js';

function statusOf(err: NodeJS.ErrnoException): [number, string] {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'Request timeout'];
  if (err.code === 'HPE_HEADER_OVERFLOW') return [431, 'Request header fields too large'];
  return [400, 'Bad request'];
}

/** A 'clientError' listener for the http and https servers. */
export function qbClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const [status, text] = statusOf(err);
    const body = JSON.stringify({ errors: { base: [text] } });
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Fastify's `frameworkErrors`: a URL it cannot decode, a path parameter past its length. */
export function qbFrameworkError(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const apiError = err.code === 'FST_ERR_BAD_URL' ? new ApiError('badRequest', 'The URL is not valid') : new ApiError('notFound');
  reply.code(apiError.status).header('content-type', 'application/json; charset=utf-8').send(apiError.body());
}
