// The error registry renders every code in the QuickBlox shape it declares, and the REST error
// handler sends exactly that body with that status.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API_ERRORS, ApiError, type ApiErrorCode } from '../chat/errors.js';
import { StoreBusyError } from '../storage/busy.js';
import { restHarness, type RestHarness } from './harness.js';

describe('QuickBlox error registry', () => {
  it('renders each code with its status and shape', () => {
    for (const [code, spec] of Object.entries(API_ERRORS) as [ApiErrorCode, (typeof API_ERRORS)[ApiErrorCode]][]) {
      const err = new ApiError(code);
      assert.equal(err.status, spec.status, code);
      const body = err.body();
      if (spec.shape === 'list') assert.deepEqual(body, { errors: [spec.text] }, code);
      else if (spec.shape === 'base') assert.deepEqual(body, { errors: { base: [spec.text] } }, code);
      else assert.deepEqual(body, { errors: { base: [spec.text] } }, `${code} without a field falls back to base`);
    }
  });

  it('keeps the texts clients match on', () => {
    assert.equal(JSON.stringify(new ApiError('noSession').body()), '{"errors":{"base":["Required session does not exist"]}}');
    assert.equal(JSON.stringify(new ApiError('needUser').body()), '{"errors":{"base":["Forbidden. Need user."]}}');
    assert.equal(JSON.stringify(new ApiError('notFound').body()).length, 40);
    assert.equal(JSON.stringify(new ApiError('forbidden').body()).length, 79);
    assert.equal(JSON.stringify(new ApiError('unauthorized').body()).length, 27);
    assert.deepEqual(new ApiError('invalidField', 'has already been taken', 'login').body(), { errors: { login: ['has already been taken'] } });
  });
});

describe('REST error handler', () => {
  let h: RestHarness;
  before(async () => {
    h = await restHarness({}, {
      plugins: [(app) => {
        app.get('/boom/:code.json', { config: { auth: 'none' } }, async (req) => {
          throw new ApiError((req.params as { code: ApiErrorCode }).code);
        });
        app.get('/crash.json', { config: { auth: 'none' } }, async () => {
          throw new Error('unexpected');
        });
        app.get('/busy.json', { config: { auth: 'none' } }, async () => {
          throw new StoreBusyError(2);
        });
      }],
    });
  });
  after(() => h.close());

  it('sends each registered error as JSON with its status', async () => {
    for (const code of Object.keys(API_ERRORS) as ApiErrorCode[]) {
      const res = await h.request({ method: 'GET', url: `/boom/${code}.json` });
      assert.equal(res.statusCode, API_ERRORS[code].status, code);
      assert.match(String(res.headers['content-type']), /^application\/json; charset=utf-8/);
      assert.deepEqual(res.json(), new ApiError(code).body());
    }
  });

  it('answers a store that refuses work with 503 and Retry-After', async () => {
    const res = await h.request({ method: 'GET', url: '/busy.json' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '2');
    assert.deepEqual(res.json(), { errors: { base: ['Service is busy, try again later'] } });
  });

  it('turns an unexpected failure into a QuickBlox 500 without details', async () => {
    const res = await h.request({ method: 'GET', url: '/crash.json' });
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), { errors: { base: ['Internal server error'] } });
  });
});
