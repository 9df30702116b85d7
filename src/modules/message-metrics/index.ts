// Counts the messages clients send that are not kept in the history (parley_messages_total
// stored="false"); stored ones are counted where they are stored (ChatService's message event, in
// the composition root), whatever their way in. First in the outbound phase and for rooms (the
// catalogue's `metrics` slots); it never handles anything itself.
import type { ModuleApi, RouteContext } from '../../core/api.js';
import { metrics } from '../../metrics/index.js';
import { getExtraParams, savesToHistory } from '../../qb/index.js';

export function messageMetricsModule(core: ModuleApi): void {
  const count = ({ stanza, origin }: RouteContext): undefined => {
    if (origin && stanza.getChild('body') && !savesToHistory(getExtraParams(stanza))) metrics.messages.add('false');
    return undefined;
  };
  core.on('message/outbound', 'metrics', count);
  core.on('message/muc', 'metrics', count);
}
