// The QuickBlox stanza codec: extraParams in (extra-params.ts) and out (payloads.ts), the names it
// treats specially (fields.ts), chat errors as stanza errors (errors.ts).
export * from './fields.js';
export * from './extra-params.js';
export * from './payloads.js';
export * from './errors.js';
