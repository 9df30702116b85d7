// What REST plugins receive, and the per-request session they read.
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { ApiSession, Store } from '../storage/types.js';
import { ApiError } from '../chat/errors.js';
import type { ChatService } from '../chat/service.js';
import type { AccountService } from '../accounts/service.js';

export interface RestDeps {
  store: Store;
  /** Dialogs and history; the chat routes need it. */
  chat?: ChatService;
  /** Account changes the XMPP side acts on (deletion, password change); one on the store when absent. */
  accounts?: AccountService;
  config: Config;
  log: Logger;
  /** The clock; tests move it. */
  now?: () => Date;
}

/** Who may call a route: anyone, any session (application or user), or a user session only. */
export type RouteAuth = 'none' | 'session' | 'user';

declare module 'fastify' {
  interface FastifyRequest {
    qbSession: ApiSession | null;
    /** The request authenticated with `Authorization: ApiKey` (qbSession is then made up for it). */
    viaApiKey: boolean;
  }
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /** `unrestricted`: an API key without On-Behalf-Of may call the route as the whole application. */
    apiKey?: 'unrestricted';
  }
}

export interface Caller {
  appId: number;
  userId: number;
}

/** The signed-in user of a request on a `user` route. */
export function callerOf(req: FastifyRequest): Caller {
  const session = req.qbSession;
  if (!session) throw new ApiError('noSession');
  if (session.userId === null) throw new ApiError('needUser');
  return { appId: session.appId, userId: session.userId };
}

export function sessionOf(req: FastifyRequest): ApiSession {
  if (!req.qbSession) throw new ApiError('noSession');
  return req.qbSession;
}
