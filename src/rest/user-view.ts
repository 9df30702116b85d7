import type { User } from '../storage/types.js';
import { isoSeconds } from './time.js';

/** A user as QuickBlox returns it (never with a password). */
export const userView = (u: User) => ({
  id: u.id,
  full_name: u.fullName,
  email: u.email,
  login: u.login,
  phone: u.phone,
  website: u.website,
  created_at: isoSeconds(u.createdAt),
  updated_at: isoSeconds(u.updatedAt),
  last_request_at: u.lastRequestAt ? isoSeconds(u.lastRequestAt) : null,
  external_user_id: u.externalUserId === null ? null : Number.isSafeInteger(Number(u.externalUserId)) ? Number(u.externalUserId) : u.externalUserId,
  facebook_id: u.facebookId,
  twitter_id: u.twitterId,
  blob_id: u.blobId,
  custom_data: u.customData,
  user_tags: u.tags.length ? u.tags.join(',') : null,
});
