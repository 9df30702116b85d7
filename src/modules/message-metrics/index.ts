// Counts the messages clients send that are not kept in the history (parley_messages_total
// stored="false"); stored ones are counted where they are stored (ChatService's message event, in
// the composition root), whatever their way in. Runs first and never handles anything itself.
import type { Core, RouteContext } from '../../core/core.js';
import { metrics } from '../../metrics/index.js';
import type { Element } from '../../xml/element.js';
import { parseBoolean } from '../../chat/params.js';
import { getExtraParams } from '../qb-extra-params/index.js';

export const MESSAGE_METRICS_PRIORITY = 1000;

export function messageMetricsModule(core: Core): void {
  // message/full falls back to message/bare with the same stanza: count each stanza once.
  const seen = new WeakSet<Element>();
  const count = ({ stanza, origin }: RouteContext): undefined => {
    if (!origin || seen.has(stanza) || !stanza.getChild('body')) return undefined;
    seen.add(stanza);
    if (parseBoolean(getExtraParams(stanza)?.getChildText('save_to_history')?.trim()) !== true) metrics.messages.add('false');
    return undefined;
  };
  for (const event of ['message/bare', 'message/full', 'message/muc']) core.hooks.on(event, count, MESSAGE_METRICS_PRIORITY);
}
