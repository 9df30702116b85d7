// Request parameters the QuickBlox way: the query string and the body (JSON, form with bracket
// keys, or multipart fields) merged into one record, the body winning.
import qs from 'qs';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../chat/errors.js';

export type Params = Record<string, unknown>;

const QS_OPTIONS: qs.IParseOptions = { depth: 6, arrayLimit: 1000, parameterLimit: 5000, allowPrototypes: false };

/** Parses a query string or form body with Rails-style brackets (`user[login]=a`, `ids[]=1`). */
export const parseForm = (text: string): Params => qs.parse(text, QS_OPTIONS) as Params;

export function requestParams(req: FastifyRequest): Params {
  const query = (req.query ?? {}) as Params;
  const body = req.body;
  if (body === undefined || body === null || typeof body === 'string') return query;
  if (typeof body !== 'object' || Array.isArray(body)) throw new ApiError('badRequest', 'The request body must be an object');
  return { ...query, ...(body as Params) };
}

/** A nested object parameter (`user[...]`), or an empty object when absent. */
export function objectParam(params: Params, key: string): Params {
  const value = params[key];
  if (value === undefined || value === null || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ApiError('badRequest', `Incorrect format for parameter "${key}".`, key);
  return value as Params;
}

/** A scalar parameter as a string; undefined when absent, an error when it is an object or list. */
export function stringParam(params: Params, key: string): string | undefined {
  const value = params[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ApiError('badRequest', `Incorrect format for parameter "${key}".`, key);
}

/** A non-negative integer parameter (`"10"`, `10`, `"10.0"`), the fallback when absent. */
export function intParam(params: Params, key: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const text = stringParam(params, key);
  if (text === undefined || text.trim() === '') return fallback;
  const n = text.length <= 32 ? Number(text) : NaN;
  if (!Number.isFinite(n) || n < 0 || !Number.isInteger(n)) throw new ApiError('badRequest', `Incorrect format for parameter "${key}".`, key);
  return Math.min(n, max);
}

/** A path id that must be a positive integer (user and blob ids); a malformed one is a 404 like an unknown one. */
export function positiveId(text: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) throw new ApiError('notFound');
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new ApiError('notFound');
  return n;
}
