/**
 * The knet package: a typed API to run a cluster from tests (startCluster) and the building
 * blocks the command line is made of.
 */
export { startCluster, connectCluster, KnetCluster, type ClusterRef, type StartClusterOptions, type ManifestInput, type Address, type ServiceAddressType, type WaitOptions } from './cluster-api.js';
export { NotReadyError, type Failure } from './cluster/readiness.js';
export { ApplyError, type ApplyResult } from './api/apply.js';
export { clusterConfig, type ClusterConfig } from './cluster-config.js';
export { batchedLines, createLogger, silentLogger, type Logger } from './log.js';
export type { KObject, Kind } from './model/object.js';
export type { Informer, InformerHandler } from './informer-types.js';
