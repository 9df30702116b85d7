// QuickBlox push subscriptions: POST/GET /subscriptions.json, DELETE /subscriptions/{id}.json.
// The logic lives in push/service.ts; this file maps HTTP onto it.
import type { FastifyInstance } from 'fastify';
import type { PushService } from '../push/service.js';
import { subscriptionView } from '../push/service.js';
import { callerOf } from './context.js';
import { positiveId, requestParams } from './params.js';

export function subscriptionRoutes(push: PushService) {
  return (app: FastifyInstance): void => {
    // 201 with every subscription of the user, the new one included (SDK samples pick theirs by udid).
    app.post('/subscriptions.json', async (req, reply) =>
      reply.code(201).send((await push.createSubscription(callerOf(req), requestParams(req))).map(subscriptionView)));
    app.get('/subscriptions.json', async (req) => (await push.listSubscriptions(callerOf(req))).map(subscriptionView));
    app.delete<{ Params: { id: string } }>('/subscriptions/:id.json', async (req, reply) => {
      await push.deleteSubscription(callerOf(req), positiveId(req.params.id));
      return reply.code(200).send();
    });
  };
}
