/**
 * The knet package: a typed API to run a cluster from tests (startCluster) and the building
 * blocks the command line is made of.
 */
export { startCluster, connectCluster, KnetCluster, type ClusterRef, type StartClusterOptions, type ManifestInput, type Address, type ServiceAddressType, type WaitOptions, type ExecOptions, type ExecResult } from './testing/index.js';
export { NotReadyError, type Failure } from './cluster/readiness.js';
export { ApplyError, type ApplyResult } from './base/admission/apply.js';
export { clusterConfig, type ClusterConfig } from './base/cluster-config.js';
export { batchedLines, createLogger, silentLogger, type Logger } from './base/log.js';
export { realClock, type Clock, type ClockTimer } from './base/clock.js';
export type { KObject, Kind } from './base/model/object.js';
export type { Informer, InformerHandler } from './base/informer/informer-types.js';
