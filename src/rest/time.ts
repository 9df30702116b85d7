// Time formats QuickBlox uses on the wire.

/** `2026-11-25T15:50:11Z`: created_at / updated_at fields. */
export const isoSeconds = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `2026-11-25 15:50:11 UTC`: the QB-Token-ExpirationDate header (the SDK cannot parse ISO with a T). */
export const tokenExpiryHeader = (d: Date): string => d.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');

export const unixSeconds = (d: Date): number => Math.floor(d.getTime() / 1000);
