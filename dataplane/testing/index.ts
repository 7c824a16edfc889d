/** The Node test API: startCluster / connectCluster and the KnetCluster handle they return. */
export { startCluster, connectCluster, type StartClusterOptions } from './start-cluster.js';
export { KnetCluster, type ClusterRef, type ManifestInput } from './knet-cluster.js';
export type { Address, ServiceAddressType } from './addressing.js';
export type { WaitOptions } from './waits.js';
export type { ExecOptions, ExecResult } from './pod-exec.js';
