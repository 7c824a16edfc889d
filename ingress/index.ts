/** The ingress controller component (ingress-nginx analog): one entry, startIngress. */
export { startIngress, type IngressOptions, type IngressHandle, type ListenerSpec, type BoundListener } from './server.js';
