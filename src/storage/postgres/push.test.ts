import { after, it } from 'node:test';
import { pushStoreContract } from '../push-contract.js';
import { openPostgresStore } from './index.js';
import { createTestSchema } from './test-schema.js';

const baseUrl = process.env.PARLEY_TEST_DATABASE_URL;

if (!baseUrl) {
  it('PostgreSQL push store', { skip: 'PARLEY_TEST_DATABASE_URL is not set; .ci/run sets it' }, () => {});
} else {
  const schema = await createTestSchema(baseUrl);
  after(() => schema.drop());
  pushStoreContract('postgres', () => openPostgresStore(schema.url));
}
