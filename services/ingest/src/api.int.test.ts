import { openTestPostgres } from '@fleetwire/store/testing';

import { describeReadApi } from './api-contract.js';

describeReadApi('PostgreSQL', openTestPostgres);
