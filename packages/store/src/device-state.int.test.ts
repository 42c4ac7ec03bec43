import { describeDeviceStateContract } from './device-state-contract.js';
import { openTestPostgres } from './testing.js';

describeDeviceStateContract('PostgreSQL', openTestPostgres);
