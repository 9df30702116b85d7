// A stream-management session on its way to another node (resumption there): what the new node
// needs to continue it, in a form that crosses the network as JSON. What arrives is checked field
// by field; anything malformed is refused as a whole.
export interface MovedStanza {
  stanza: string;
  queuedAt: number;
}

export interface MovedSession {
  resource: string;
  /** Seconds it may stay detached. */
  max: number;
  /** Stanzas received from the client (mod 2^32). */
  inbound: number;
  /** The outbound count the client acknowledged; `pending` follow it in order. */
  acked: number;
  pending: MovedStanza[];
  available: boolean;
  priority: number;
  presence: string | null;
  /** What each module carries (Core.saveSessionState). */
  carried: Record<string, unknown>;
}

const u32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function readStanza(v: unknown): MovedStanza | null {
  if (!isRecord(v) || typeof v.stanza !== 'string' || typeof v.queuedAt !== 'number') return null;
  return { stanza: v.stanza, queuedAt: v.queuedAt };
}

export function readMovedSession(v: unknown): MovedSession | null {
  if (!isRecord(v)) return null;
  const { resource, max, inbound, acked, pending, available, priority, presence, carried } = v;
  if (typeof resource !== 'string' || resource === '' || !u32(max) || !u32(inbound) || !u32(acked)) return null;
  if (!Array.isArray(pending) || typeof available !== 'boolean' || !Number.isInteger(priority)) return null;
  if (presence !== null && typeof presence !== 'string') return null;
  if (!isRecord(carried)) return null;
  const stanzas = pending.map(readStanza);
  if (stanzas.some((s) => s === null)) return null;
  return { resource, max, inbound, acked, pending: stanzas as MovedStanza[], available, priority: priority as number, presence, carried };
}
