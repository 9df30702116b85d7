// Which parameters of a message mean something to the server: every other parameter a client
// sends with a message is one of its custom parameters, stored and shown to every reader.

/** Fields of a message with a meaning of their own. */
export const MESSAGE_FIELDS = [
  '_id', 'chat_dialog_id', 'dialog_id', 'message', 'attachments', 'markable', 'send_to_chat', 'system', 'save_to_history',
  'date_sent', 'created_at', 'updated_at',
] as const;

/** Fields the server owns: a client's values are never stored, nor passed on (they would forge history). */
export const FORGEABLE_FIELDS = ['sender_id', 'recipient_id', 'read', 'read_ids', 'delivered_ids'] as const;

/**
 * Parameters the API reads on requests (authentication, signatures, paging, flags). Never custom
 * parameters: a token sent as `?token=` must not be stored and shown to the dialog (tokens are
 * XMPP passwords too).
 */
export const API_PARAMETERS = [
  'token', 'application_id', 'auth_key', 'nonce', 'timestamp', 'signature', 'user', 'keys', 'provider', 'login', 'password',
  'force', 'skip', 'limit', 'count', 'sort_asc', 'sort_desc', 'mark_as_read', 'include_reactions',
] as const;

/** Names that are never a message's custom parameters. */
export const RESERVED_MESSAGE_PARAMETERS: ReadonlySet<string> = new Set<string>([...MESSAGE_FIELDS, ...FORGEABLE_FIELDS, ...API_PARAMETERS]);
