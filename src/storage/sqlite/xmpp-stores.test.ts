// The stores behind the standard XMPP features (archive queries, key-value data, PEP) on SQLite.
import { accountDataContract } from '../account-data-contract.js';
import { archiveContract } from '../archive-contract.js';
import { openSqliteStore } from './index.js';

archiveContract('sqlite :memory:', () => openSqliteStore(':memory:'));
accountDataContract('sqlite :memory:', () => openSqliteStore(':memory:'));
