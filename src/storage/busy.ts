// Thrown by a store that refuses work instead of queueing it without bound (the SQLite read pool
// when its queue is full). The REST layer answers it with 503 and Retry-After.
export class StoreBusyError extends Error {
  constructor(readonly retryAfterSeconds = 1) {
    super('the store is busy: too many reads waiting');
    this.name = 'StoreBusyError';
  }
}
