// Limits on the HTTP(S) listeners (REST and XMPP over WebSocket at /ws): a per-address cap on
// concurrent connections, and timeouts so that slow or half-open clients are dropped in seconds
// (Node's defaults hold a request whose headers never finish for 60–90 s, a TLS handshake for 120 s).
import { BlockList, isIP, type Socket } from 'node:net';
import type http from 'node:http';

export interface HttpLimits {
  maxConnectionsPerIp: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Peers exempt from the per-address cap (a reverse proxy carries many clients). */
  trustedProxies: BlockList | null;
}

/** How often Node looks for requests past their header or request timeout. */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1000;

/** A BlockList of `10.0.0.0/8, ::1`-style entries, or null for none; throws on a malformed entry. */
export function parseAddressList(setting: string | null): BlockList | null {
  const entries = (setting ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits))) throw new Error(`not an address or CIDR: ${entry}`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

export function isListed(list: BlockList | null, address: string | undefined): boolean {
  if (!list || !address) return false;
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  return list.check(plain, isIP(plain) === 6 ? 'ipv6' : 'ipv4');
}

/** Applies the timeouts and the per-address connection cap to an http or https server. */
export function applyHttpLimits(server: http.Server, limits: HttpLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  const open = new Map<string, number>();
  // 'connection' fires for the TCP socket, before any TLS handshake, so half-open TLS counts too.
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    if (isListed(limits.trustedProxies, address)) return;
    const count = (open.get(address) ?? 0) + 1;
    if (count > limits.maxConnectionsPerIp) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
