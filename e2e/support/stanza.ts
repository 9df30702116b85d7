// `stanza` (stanza.js) clients for the e2e tests: connect over WebSocket, collect messages, and
// disconnect everything a test opened.
import * as XMPP from 'stanza';
import type { TestServer } from './server.js';
import { Inbox, withTimeout } from './wait.js';

export interface StanzaConn {
  agent: XMPP.Agent;
  jid: string;
  messages: Inbox<XMPP.Stanzas.ReceivedMessage>;
  iqs: Inbox<XMPP.Stanzas.ReceivedIQ>;
}

export class StanzaPool {
  private readonly agents: XMPP.Agent[] = [];
  constructor(private readonly t: () => TestServer) {}

  async connect(user: { jid: string; password: string }, resource = `r${this.agents.length + 1}`, presence = true): Promise<StanzaConn> {
    const agent = XMPP.createClient({
      jid: user.jid,
      password: user.password,
      resource,
      transports: { websocket: `ws://127.0.0.1:${this.t().server.ports.ws}/ws`, bosh: false },
      // A slow, shared CI machine: the library's default 15 s stays, but no reconnection loops.
      timeout: 10,
    });
    this.agents.push(agent);
    const messages = new Inbox<XMPP.Stanzas.ReceivedMessage>();
    const iqs = new Inbox<XMPP.Stanzas.ReceivedIQ>();
    agent.on('message', (m) => messages.push(m));
    agent.on('iq:set:blockList', (iq) => iqs.push(iq));
    const started = new Promise<void>((resolve, reject) => {
      agent.once('session:started', () => resolve());
      agent.once('auth:failed', () => reject(new Error(`stanza.js: auth failed for ${user.jid}`)));
    });
    agent.connect();
    await withTimeout(started, 10_000, 'stanza.js session');
    // Caps (XEP-0115) carry the client's +notify interests; stanza.js computes them on request.
    // An application passes them along with its presence; every presence of these clients does.
    agent.updateCaps();
    const send = agent.sendPresence.bind(agent);
    agent.sendPresence = (data = {}) => send({ legacyCapabilities: agent.disco.getCaps(), ...data });
    if (presence) await agent.sendPresence();
    return { agent, jid: agent.jid, messages, iqs };
  }

  disconnectAll(): void {
    for (const agent of this.agents) {
      try {
        agent.disconnect();
      } catch {
        // already gone
      }
    }
  }
}
