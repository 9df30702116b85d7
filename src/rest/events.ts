// QuickBlox push events: POST/GET /events.json, GET/PUT/DELETE /events/{id}.json and
// GET /events/{id}/status.json. The logic lives in push/service.ts.
import type { FastifyInstance } from 'fastify';
import { eventView, type PushService } from '../push/service.js';
import { callerOf } from './context.js';
import { positiveId, requestParams } from './params.js';

type IdParams = { Params: { id: string } };

export function eventRoutes(push: PushService) {
  return (app: FastifyInstance): void => {
    app.post('/events.json', async (req, reply) => reply.code(201).send(eventView(await push.createEvent(callerOf(req), requestParams(req)))));
    app.get('/events.json', async (req) => push.listEvents(callerOf(req), requestParams(req)));
    app.get<IdParams>('/events/:id.json', async (req) => eventView(await push.getEvent(callerOf(req), positiveId(req.params.id))));
    app.put<IdParams>('/events/:id.json', async (req) => eventView(await push.updateEvent(callerOf(req), positiveId(req.params.id), requestParams(req))));
    app.delete<IdParams>('/events/:id.json', async (req, reply) => {
      await push.deleteEvent(callerOf(req), positiveId(req.params.id));
      return reply.code(200).send();
    });
    app.get<IdParams>('/events/:id/status.json', async (req) => push.eventStatus(callerOf(req), positiveId(req.params.id)));
  };
}
