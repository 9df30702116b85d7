import { ApiError } from '../chat/errors.js';
import { StanzaError } from '../xmpp/errors.js';

/** The stanza error for a failed chat operation: QuickBlox API errors by status, anything else internal. */
export function stanzaErrorFor(err: unknown): StanzaError {
  if (err instanceof ApiError) {
    if (err.status === 403) return new StanzaError('forbidden', err.message);
    if (err.status === 404) return new StanzaError('item-not-found', err.message);
    if (err.status < 500) return new StanzaError('not-acceptable', err.message);
  }
  return new StanzaError('internal-server-error', 'the message could not be stored');
}
