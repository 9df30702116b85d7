// Message reactions (QuickBlox 2.24): POST/DELETE/GET /chat/Message/{id}/reactions.json, and
// `include_reactions=1` on message reads. The rules live in chat/reactions.ts.
import type { FastifyInstance } from 'fastify';
import { parseBoolean, type Params } from '../chat/params.js';
import type { ChatService } from '../chat/service.js';
import { callerOf, type RestDeps } from './context.js';
import { requestParams } from './params.js';

type IdParams = { Params: { ids: string } };

/** A message read's answer with each message's `reactions` when the request asks for them. */
export async function withReactions<T>(chat: ChatService, params: Params, answer: T): Promise<T> {
  if (parseBoolean(params.include_reactions) !== true || answer === null || typeof answer !== 'object') return answer;
  const a = answer as { _id?: unknown; items?: unknown };
  if (typeof a._id === 'string') return (await chat.reactions.attach([a as { _id: string }]))[0] as T;
  if (Array.isArray(a.items)) return { ...a, items: await chat.reactions.attach(a.items as { _id: string }[]) } as T;
  return answer;
}

export function reactionRoutes(app: FastifyInstance, deps: RestDeps): void {
  const chat = deps.chat ?? (() => { throw new Error('reactionRoutes needs deps.chat'); })();
  app.post<IdParams>('/chat/Message/:ids/reactions.json', async (req, reply) => {
    await chat.reactions.add(callerOf(req), req.params.ids, requestParams(req));
    return reply.code(201).send();
  });
  app.delete<IdParams>('/chat/Message/:ids/reactions.json', async (req, reply) => {
    await chat.reactions.remove(callerOf(req), req.params.ids, requestParams(req));
    return reply.code(200).send();
  });
  app.get<IdParams>('/chat/Message/:ids/reactions.json', async (req) => chat.reactions.list(callerOf(req), req.params.ids));
}
