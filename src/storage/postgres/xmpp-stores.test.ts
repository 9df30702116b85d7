// The stores behind the standard XMPP features (archive queries, key-value data, PEP) on PostgreSQL.
import { after, it } from 'node:test';
import { accountDataContract } from '../account-data-contract.js';
import { archiveContract } from '../archive-contract.js';
import { openPostgresStore } from './index.js';
import { createTestSchema } from './test-schema.js';

const baseUrl = process.env.PARLEY_TEST_DATABASE_URL;

if (!baseUrl) {
  it('PostgreSQL XMPP stores', { skip: 'PARLEY_TEST_DATABASE_URL is not set; .ci/run sets it' }, () => {});
} else {
  const schema = await createTestSchema(baseUrl, 'parley_test_xmpp');
  after(() => schema.drop());
  archiveContract('postgres', () => openPostgresStore(schema.url));
  accountDataContract('postgres', () => openPostgresStore(schema.url));
}
