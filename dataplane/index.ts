/**
 * The knet package: a typed API to run a cluster from tests (startCluster) and the building
 * blocks the command line is made of.
 */
export { startCluster, KnetCluster, type StartClusterOptions, type ManifestInput, type Address } from './cluster-api.js';
export { clusterConfig, type ClusterConfig } from './cluster-config.js';
export type { ApplyResult } from './api/apply.js';
export type { KObject, Kind } from './model/object.js';
export type { Informer, InformerHandler } from './informer-types.js';
