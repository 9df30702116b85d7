// Stream-management resumption ids that name the node which issued them: `<random>.<node id, base64url>`.
// A node that did not issue an id learns from it whom to ask (unless the session moved since).

/** Longest `previd` looked up at all: anything longer was never issued. */
export const MAX_RESUMPTION_ID = 512;

export const resumptionId = (random: string, node: string): string => `${random}.${Buffer.from(node, 'utf8').toString('base64url')}`;

/** The node named in a resumption id, or null when it names none. */
export function nodeOfId(id: string): string | null {
  if (id.length > MAX_RESUMPTION_ID) return null;
  const dot = id.indexOf('.');
  const encoded = dot < 0 ? '' : id.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return null;
  const node = Buffer.from(encoded, 'base64url').toString('utf8');
  return node !== '' && !/[\t\n\uFFFD]/.test(node) ? node : null;
}
