// The one registry of QuickBlox API errors: each code has the HTTP status and body text the real
// service answers with. Domain code (chat/, rest/) throws ApiError with a code; the REST layer
// renders it. QuickBlox uses two body shapes: a list of strings, or an object keyed by field
// (with "base" for errors that are not about one field).

export type ErrorShape = 'list' | 'base' | 'field';

export interface ErrorSpec {
  status: number;
  shape: ErrorShape;
  /** The text, or the default text when the thrower supplies its own. */
  text: string;
}

export const API_ERRORS = {
  badRequest: { status: 400, shape: 'base', text: 'Bad request' },
  unauthorized: { status: 401, shape: 'list', text: 'Unauthorized' },
  noSession: { status: 401, shape: 'base', text: 'Required session does not exist' },
  forbidden: { status: 403, shape: 'list', text: "You don't have appropriate permissions to perform this operation" },
  notFound: { status: 404, shape: 'list', text: "The resource wasn't found" },
  tooLarge: { status: 413, shape: 'base', text: 'File is too large' },
  rangeNotSatisfiable: { status: 416, shape: 'base', text: 'Requested range not satisfiable' },
  needUser: { status: 422, shape: 'base', text: 'Forbidden. Need user.' },
  badSignature: { status: 422, shape: 'base', text: 'Unexpected signature' },
  badTimestamp: { status: 422, shape: 'base', text: 'Unexpected timestamp' },
  replayedNonce: { status: 422, shape: 'base', text: 'Unexpected nonce' },
  unknownApplication: { status: 422, shape: 'base', text: 'Application not found' },
  /** A field-level validation error: `{"errors":{"<field>":["<text>"]}}`. */
  invalidField: { status: 422, shape: 'field', text: 'is invalid' },
  /** A validation error QuickBlox words as a plain list, e.g. "Too many occupants for Private Dialog.". */
  invalid: { status: 422, shape: 'list', text: 'Validation failed' },
  tooManyRequests: { status: 429, shape: 'base', text: 'Too Many Requests' },
  internal: { status: 500, shape: 'base', text: 'Internal server error' },
  /** The server refuses work rather than queue it without bound; the client retries after Retry-After. */
  busy: { status: 503, shape: 'base', text: 'Service is busy, try again later' },
  // Chat dialogs and messages.
  occupantsNotFound: { status: 404, shape: 'list', text: 'Occupants with these IDs do not exist.' },
  adminsNotFound: { status: 404, shape: 'list', text: 'Users with these IDs for "admin_ids" do not exist.' },
  adminsForbidden: { status: 403, shape: 'list', text: 'You don\'t have appropriate permissions to modify or delete "admin_ids".' },
  tooManyOccupants: { status: 422, shape: 'list', text: 'Too many occupants for Private Dialog.' },
  // Reactions (QuickBlox 2.24).
  reactionName: { status: 400, shape: 'list', text: 'Invalid or missing "name" parameter.' },
  reactionLimit: { status: 400, shape: 'list', text: 'You have reached the maximum number of reactions (20) allowed per message.' },
  reactionPublicDialog: { status: 422, shape: 'list', text: 'Reactions are not allowed in public dialogs.' },
  reactionMessageNotFound: { status: 404, shape: 'list', text: 'Message not found for the specified user and message ID.' },
  reactionNotFound: { status: 404, shape: 'list', text: 'Reaction not found' },
  // Sign-in through an application's identity provider.
  identityProviderUnavailable: { status: 503, shape: 'base', text: 'The identity provider is unavailable' },
  identityProviderBadAnswer: { status: 502, shape: 'base', text: 'The identity provider gave an answer that cannot be used' },
  // Push notifications.
  noRecipients: { status: 422, shape: 'list', text: 'No one can receive the message' },
  tooManySubscriptions: { status: 422, shape: 'list', text: 'Too many subscriptions for this user (maximum is 10)' },
} as const satisfies Record<string, ErrorSpec>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    text?: string,
    /** For `invalidField` (and `badRequest` when it is about a field): the field the text is about. */
    readonly field?: string,
  ) {
    super(text ?? API_ERRORS[code].text);
    this.name = 'ApiError';
    this.status = API_ERRORS[code].status;
  }

  /** The JSON body QuickBlox sends for this error. */
  body(): { errors: string[] | Record<string, string[]> } {
    const { shape } = API_ERRORS[this.code];
    if (shape === 'list') return { errors: [this.message] };
    if (shape === 'field' || this.field) return { errors: { [this.field ?? 'base']: [this.message] } };
    return { errors: { base: [this.message] } };
  }
}
