/** The kube-proxy component: one entry, startProxy. */
export { startProxy, type ProxyOptions, type ProxyHandle, type ProxyNode, type ListenerInfo, type BindErrorInfo } from './proxier.js';
