// For tests against a real PostgreSQL (PARLEY_TEST_DATABASE_URL): a schema of their own per run, so
// that parallel test processes and repeated runs never see each other's tables.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestSchema {
  name: string;
  /** The database URL with the schema as the connections' search_path. */
  url: string;
  /** Drops the schema with everything in it. */
  drop(): Promise<void>;
}

/** The URL of `base` with connections confined to `schema` (which must be a plain identifier). */
export function urlWithSchema(base: string, schema: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a plain schema name: ${schema}`);
  const url = new URL(base);
  const options = url.searchParams.get('options');
  url.searchParams.set('options', `${options ? `${options} ` : ''}-c search_path=${schema}`);
  return url.toString();
}

export async function createTestSchema(baseUrl: string, prefix = 'parley_test'): Promise<TestSchema> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: urlWithSchema(baseUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
