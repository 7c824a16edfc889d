/**
 * Two sockets joined both ways after an HTTP upgrade: exec, attach and port-forward through the
 * apiserver to a node, WebSockets through the ingress to a pod.
 *
 * A side that ends has the other ended once what is still queued for it is written (pipe()
 * does that); only a side that closes without ending (destroyed, reset) or fails destroys the
 * other at once. Destroying on 'close' alone, as both callers once did, threw away the last
 * bytes still queued to a slow reader: under load a `kubectl cp` out of a pod got an empty tar
 * and exited 0 (seen in CI).
 */
import type { Duplex } from 'node:stream';

export function tunnel(a: Duplex, b: Duplex): void {
  join(a, b);
  join(b, a);
}

function join(from: Duplex, to: Duplex): void {
  from.pipe(to);
  from.on('error', () => to.destroy());
  from.on('close', () => {
    if (!from.readableEnded) to.destroy();
  });
}
