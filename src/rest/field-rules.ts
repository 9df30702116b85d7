// Checks on user-supplied profile text that run in one pass over input whose length is bounded
// first: no backtracking pattern ever sees an unbounded string.

/** RFC 5321's longest forward path, less the angle brackets. */
export const EMAIL_MAX = 254;
/** Phone, website, external ids and the like. */
export const PROFILE_TEXT_MAX = 255;
/** custom_data, as stored (JSON text). */
export const CUSTOM_DATA_MAX = 16 * 1024;
/** Tags per user and characters per tag. */
export const TAGS_MAX = 100;
export const TAG_MAX = 64;
/** A `filter[]` or `order` expression; `in` lists of ids fit easily. */
export const FILTER_TEXT_MAX = 16 * 1024;

/**
 * C0 and C1 controls (NUL included), and the Unicode directional marks, embeddings, overrides and
 * isolates that make one login display as another.
 */
const CONTROL_OR_BIDI = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

export const hasControlOrBidi = (text: string): boolean => CONTROL_OR_BIDI.test(text);

const isSpaceOrAt = (c: string): boolean => c === '@' || c.trim() === '';

/**
 * `local@domain.tld` as the old pattern `^[^@\s]+@[^@\s]+\.[^@\s]+$` accepted it (one `@`, no
 * whitespace, a dot inside the domain), read in one pass.
 */
export function isPlausibleEmail(text: string): boolean {
  if (text.length > EMAIL_MAX || hasControlOrBidi(text)) return false;
  const at = text.indexOf('@');
  if (at <= 0) return false;
  for (let i = 0; i < text.length; i++) if (i !== at && isSpaceOrAt(text[i])) return false;
  const domain = text.slice(at + 1);
  const dot = domain.indexOf('.', 1);
  return dot > 0 && dot < domain.length - 1;
}
