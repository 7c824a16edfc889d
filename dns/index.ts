/** The cluster DNS component (CoreDNS's kubernetes plugin analog): one entry, startDns. */
export { startDns, type DnsServerOptions, type DnsServerHandle } from './server.js';
