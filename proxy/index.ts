/** knet's kube-proxy: the entry point the CLI and `knet up` use, and the pure core for tools. */
export { startProxy, type ProxyHandle, type ProxyNode, type ProxyOptions, type ListenerInfo, type BindErrorInfo } from './proxier.js';
export { buildServiceTable, skipReason, type ServicePortInfo, type EndpointInfo, type ServiceTable } from './service-table.js';
export { categorizeEndpoints } from './topology.js';
export { EndpointChooser, type Route, type Frontend } from './endpoint-choice.js';
export { desiredListeners, announcingNode, type ListenerSpec } from './frontends.js';
export { classifySource, type NodeAddress, type TrafficSource } from './traffic-source.js';
export { describeBindError } from './bind-error.js';
