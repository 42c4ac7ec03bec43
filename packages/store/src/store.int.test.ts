import { describeStoreContract } from './store-contract.js';
import { openTestPostgres } from './testing.js';

describeStoreContract('PostgreSQL', openTestPostgres);
