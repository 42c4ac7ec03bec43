export { BusError, RefCounts, type Bus, type TopicHandler } from './bus.js';
export {
  compareOffsets,
  domainOf,
  formatOffset,
  parseOffset,
  type Appended,
  type HistoryEntry,
  type HistoryFailure,
  type HistoryQuery,
  type HistoryRead,
  type Offset,
  type Position,
  type Retention,
} from './history.js';
export { FabricBus } from './fabric-bus.js';
export { LocalFabric } from './local-fabric.js';
export { MemoryBus, MemoryBusHub } from './memory-bus.js';
export { RedisBus, type RedisBusOptions } from './redis-bus.js';
export {
  RedisClusterBus,
  type ClusterBusStats,
  type RedisClusterBusOptions,
} from './redis-cluster-bus.js';
export { clusterNodes } from './cluster-nodes.js';
export { escapeGlob, globOfPattern } from './topic-glob.js';
export { MemoryPresence } from './memory-presence.js';
export {
  DEFAULT_MAX_DEVICES_PER_TENANT,
  deviceRefKey,
  parseDeviceRef,
  type DevicePage,
  type DeviceRef,
  type ForgetResult,
  type NodeLoad,
  type HeldDevice,
  type ReapedDevice,
  type OnlineResult,
  type PageQuery,
  type PresenceLimits,
  type PresenceRecord,
  type PresenceStore,
  type RenewResult,
} from './presence.js';
export { RedisPresence, type RedisPresenceOptions } from './redis-presence.js';
