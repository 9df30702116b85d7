// The PROXY protocol (HAProxy, v1 text and v2 binary) on the XMPP listeners: a load balancer in
// front of Parley tells it the client's real address in a header before the client's own bytes,
// so that connection limits, SASL limits and logs see clients rather than the proxy. Only peers
// configured as trusted may (and must) send the header; from anyone else it is not looked for.
import net from 'node:net';
import { ProxyProtocolIdentifier, ProxyProtocolVersion, V1ProxyProtocol, V2ProxyProtocol, Command, IPv4ProxyAddress, IPv6ProxyAddress } from 'proxy-protocol-js';

const V1_MAX = 107; // "PROXY TCP6 <39> <39> 65535 65535\r\n"
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_MAX = 16 + 1024; // addresses plus a reasonable amount of TLVs

export class ProxyProtocolError extends Error {}

/** The proxies whose PROXY headers are believed: addresses and CIDR ranges, comma-separated. */
export class TrustedProxies {
  private readonly list = new net.BlockList();

  constructor(spec: string) {
    for (const raw of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
      const [address, bits] = raw.split('/') as [string, string | undefined];
      const family = net.isIPv6(address) ? 'ipv6' : net.isIPv4(address) ? 'ipv4' : null;
      if (!family) throw new ProxyProtocolError(`proxy_protocol_from: "${raw}" is not an IP address or CIDR range`);
      if (bits === undefined) this.list.addAddress(address, family);
      else {
        const prefix = Number(bits);
        if (!/^\d+$/.test(bits) || prefix > (family === 'ipv4' ? 32 : 128)) throw new ProxyProtocolError(`proxy_protocol_from: "${raw}" has a bad prefix length`);
        this.list.addSubnet(address, prefix, family);
      }
    }
  }

  trusts(address: string | undefined): boolean {
    if (!address) return false;
    const plain = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
    return this.list.check(plain, net.isIPv6(plain) ? 'ipv6' : 'ipv4');
  }
}

/**
 * Reads the PROXY header a trusted proxy sends first, and puts back whatever followed it. Resolves
 * with the client's address, or null when the header names none (v1 UNKNOWN, v2 LOCAL: the proxy's
 * own health checks); rejects on a malformed or missing header, or after `timeoutMs`.
 */
export function readProxyHeader(socket: net.Socket, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const done = (err: Error | null, address: string | null = null, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      if (err) return reject(err);
      socket.pause();
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(address);
    };
    const onClose = (): void => done(new ProxyProtocolError('closed before the PROXY header'));
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      try {
        const found = parseHeader(buffered);
        if (found) done(null, found.address, buffered.subarray(found.length));
      } catch (err) {
        done(err as Error);
      }
    };
    const timer = setTimeout(() => done(new ProxyProtocolError('no PROXY header in time')), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

/** The header at the start of `data` and its length; null when more bytes are needed. */
export function parseHeader(data: Buffer): { address: string | null; length: number } | null {
  if (data.length === 0) return null;
  if (data[0] === 0x0d) {
    if (data.length < 16) {
      if (!V2_SIGNATURE.subarray(0, data.length).equals(data.subarray(0, Math.min(data.length, 12)))) throw new ProxyProtocolError('not a PROXY header');
      return null;
    }
    const length = 16 + data.readUInt16BE(14);
    if (length > V2_MAX) throw new ProxyProtocolError('PROXY v2 header too long');
    if (data.length < length) return null;
    const header = new Uint8Array(data.subarray(0, length));
    if (ProxyProtocolIdentifier.identify(header) !== ProxyProtocolVersion.V2) throw new ProxyProtocolError('not a PROXY v2 header');
    let parsed: V2ProxyProtocol;
    try {
      parsed = V2ProxyProtocol.parse(header);
    } catch (err) {
      throw new ProxyProtocolError(`bad PROXY v2 header: ${(err as { message?: string }).message ?? err}`);
    }
    if (parsed.command === Command.LOCAL) return { address: null, length };
    const where = parsed.proxyAddress;
    if (where instanceof IPv4ProxyAddress) return { address: where.sourceAddress.address.join('.'), length };
    if (where instanceof IPv6ProxyAddress) return { address: ipv6(where.sourceAddress.address), length };
    return { address: null, length };
  }
  const end = data.indexOf('\r\n');
  if (end < 0) {
    if (data.length >= V1_MAX || !'PROXY '.startsWith(data.subarray(0, 6).toString('latin1').slice(0, Math.min(6, data.length)))) {
      throw new ProxyProtocolError('not a PROXY header');
    }
    return null;
  }
  if (end + 2 > V1_MAX) throw new ProxyProtocolError('PROXY v1 header too long');
  const line = data.subarray(0, end + 2).toString('latin1');
  if (line.startsWith('PROXY UNKNOWN')) return { address: null, length: end + 2 };
  let parsed: V1ProxyProtocol;
  try {
    parsed = V1ProxyProtocol.parse(line);
  } catch (err) {
    throw new ProxyProtocolError(`bad PROXY v1 header: ${(err as { message?: string }).message ?? err}`);
  }
  const address = parsed.source?.ipAddress;
  return { address: address && net.isIP(address) ? address : null, length: end + 2 };
}

function ipv6(bytes: readonly number[]): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // Through URL's host parser for the canonical short form (net.SocketAddress would do on Node 22).
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}
