import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushStoreContract } from '../push-contract.js';
import { openSqliteStore } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-sqlite-push-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A file, not :memory:: the contract opens two stores on one database to race them.
pushStoreContract('sqlite file', () => openSqliteStore(join(dir, 'push.db')));
