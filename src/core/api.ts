// Everything a module may import from the core, in one place.
export type * from './module-api.js';
export type { AccountEvent, RouteContext, SessionEvent, ElementEvent, DiscoItemsEvent, RosterRemovedEvent, DeliveryEvent } from './events.js';
export type { IqContext, IqHandler, IqHandlerSpec, IqScope } from './router.js';
export type { C2sSession, DeliveryOutcome } from './session.js';
export { isStanza } from './session.js';
