/**
 * The listen backlog for knet's TCP listeners that stand in for a kernel path or a Go program
 * (the proxy's service listeners, emulated pods): the kernel's maximum, as Go's net package
 * (which agnhost and most pods are written in) and ingress-nginx use, instead of Node's
 * default of 511.
 *
 * Why it matters: when more connections arrive at once than the backlog holds, Linux answers
 * the overflow with SYN cookies, keeping no state for them. A client that writes its request
 * and then shuts down its write side sends the FIN in a second segment; if the first one
 * arrived while the accept queue was still full, the FIN no longer matches the cookie (its
 * sequence number is past the first byte) and the kernel answers it with a reset
 * (SyncookiesFailed in /proc/net/netstat). 2,000 such clients at once: up to 19 % of them
 * reset through the proxy with a backlog of 511, none with the kernel's maximum.
 */
import { readFileSync } from 'node:fs';

/** Linux's default net.core.somaxconn since 5.4; what a larger value would be capped to anyway. */
const FALLBACK = 4096;
/** listen(2) takes an int, but the kernel kept the backlog in 16 bits before 4.1. */
const MAX = 65535;

/** net.core.somaxconn, read once, as Go's maxListenerBacklog does; 4096 where it cannot be read. */
export function listenBacklog(): number {
  return (cached ??= readSomaxconn());
}

let cached: number | undefined;

function readSomaxconn(): number {
  try {
    const n = Number.parseInt(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? Math.min(n, MAX) : FALLBACK;
  } catch {
    return FALLBACK;
  }
}
