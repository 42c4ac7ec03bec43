export { BusError, RefCounts, type Bus } from './bus.js';
export { MemoryBus, MemoryBusHub } from './memory-bus.js';
export { RedisBus, type RedisBusOptions } from './redis-bus.js';
export { escapeGlob, globOfPattern } from './topic-glob.js';
