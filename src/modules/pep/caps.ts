// Which PEP nodes a client wants notifications for (XEP-0163 "+notify" through XEP-0115 caps): the
// server asks a resource's disco#info once per caps `ver` and remembers the answer (bounded).
import type { ModuleApi as Core, RouteContext } from '../../core/api.js';
import type { C2sSession } from '../../core/api.js';
import { xml, type Element } from '../../xml/element.js';
import { NS_DISCO_INFO } from '../../xmpp/ns.js';

export const NS_CAPS = 'http://jabber.org/protocol/caps';
const CACHE_LIMIT = 5000;
const PENDING_LIMIT = 5000;
const NOTIFY = Symbol('pep-notify');

export class NotifyInterests {
  private readonly byVer = new Map<string, Set<string>>();
  private readonly pending = new Map<string, { session: C2sSession; ver: string }>();
  private counter = 0;

  constructor(private readonly core: Core, private readonly onKnown: (session: C2sSession, nodes: Set<string>) => void) {
    core.on('presence/broadcast', 'pep-caps', ({ stanza, origin }: RouteContext) => {
      if (!origin?.jid || stanza.attrs.type !== undefined) return undefined;
      const caps = stanza.getChild('c', NS_CAPS);
      if (!caps?.attrs.ver || !caps.attrs.node || caps.attrs.ver.length > 128 || caps.attrs.node.length > 512) return undefined;
      const known = this.byVer.get(caps.attrs.ver);
      if (known) {
        const first = origin.data.get(NOTIFY) === undefined;
        origin.data.set(NOTIFY, known);
        if (first) this.onKnown(origin, known);
        return undefined;
      }
      if (this.pending.size >= PENDING_LIMIT) return undefined;
      const id = `pep-caps-${(++this.counter).toString(36)}`;
      this.pending.set(id, { session: origin, ver: caps.attrs.ver });
      origin.send(xml('iq', { type: 'get', id, from: core.domain, to: origin.jid.toString() },
        xml('query', { xmlns: NS_DISCO_INFO, node: `${caps.attrs.node}#${caps.attrs.ver}` })));
      return undefined;
    });

    core.on('iq/response', 'pep-caps', ({ stanza }: RouteContext) => {
      const id = stanza.attrs.id;
      const asked = id ? this.pending.get(id) : undefined;
      if (!asked) return undefined;
      this.pending.delete(id!);
      const query = stanza.attrs.type === 'result' ? stanza.getChild('query', NS_DISCO_INFO) : undefined;
      const nodes = new Set<string>();
      for (const f of query?.getChildren('feature') ?? []) {
        const v = f.attrs.var;
        if (v && v.endsWith('+notify') && v.length < 600) nodes.add(v.slice(0, -'+notify'.length));
      }
      // Only a real answer is cached; an error leaves the ver to be asked again by the next client.
      if (query) {
        if (this.byVer.size >= CACHE_LIMIT) this.byVer.clear();
        this.byVer.set(asked.ver, nodes);
      }
      asked.session.data.set(NOTIFY, nodes);
      this.onKnown(asked.session, nodes);
      return true;
    });
  }

  wants(session: C2sSession, node: string): boolean {
    return (session.data.get(NOTIFY) as Set<string> | undefined)?.has(node) ?? false;
  }

  /** Builds the query stanza's payload (exposed for tests of what clients receive). */
  static featureOf(el: Element): string | undefined {
    return el.attrs.var;
  }
}
