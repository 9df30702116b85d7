// The accounts schema both drivers share: column names of users and applications, the user fields
// queries may name, and how an application row becomes an Application.
import type { Application, UserCondition, UserField } from './types.js';

export const USER_COLUMNS =
  'id, app_id, login, email, full_name, phone, website, external_user_id, facebook_id, twitter_id, blob_id, custom_data, tags, last_request_at, created_at, updated_at';

export const USER_FIELD_COLUMN: Record<UserField, string> = {
  id: 'id',
  login: 'login',
  email: 'email',
  fullName: 'full_name',
  phone: 'phone',
  website: 'website',
  externalUserId: 'external_user_id',
  facebookId: 'facebook_id',
  twitterId: 'twitter_id',
  blobId: 'blob_id',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  lastRequestAt: 'last_request_at',
};

export const COMPARISON_SQL: Record<Exclude<UserCondition['op'], 'between' | 'in' | 'contains'>, string> = {
  eq: '=', ne: '!=', gt: '>', lt: '<', ge: '>=', le: '<=',
};

export interface AppRow {
  id: number;
  name: string;
  auth_key: string;
  auth_secret: string;
  account_key: string;
  created_at: number;
}

export const toApplication = (r: AppRow): Application => ({
  id: r.id,
  name: r.name,
  authKey: r.auth_key,
  authSecret: r.auth_secret,
  accountKey: r.account_key,
  createdAt: new Date(r.created_at),
});
