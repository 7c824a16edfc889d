/**
 * Many HTTP clients at once that each write one request and then shut down their write side
 * (`socket.end()` after the write, i.e. shutdown(SHUT_WR), as `nc -N`, many HTTP/1.0 clients
 * and scripts do), each reading its answer to the end. Used to prove that no burst of them is
 * reset on its way through the proxy (issue #18).
 */
import { OutcomeTally, rawRequest, type Outcome } from './raw-http.js';

export interface StormResult {
  /** Outcome → number of clients. */
  outcomes: Record<Outcome, number>;
  /** A few examples of outcomes other than 'ok', with what was read. */
  samples: string[];
}

/**
 * Opens `clients` connections to host:port at once, each sending `GET path` with
 * `Connection: close` and then a FIN; resolves once every one has closed.
 */
export async function halfClosedStorm(host: string, port: number, clients: number, path = '/hostname', timeoutMs = 20_000): Promise<StormResult> {
  const tally = new OutcomeTally();
  const results = await Promise.all(Array.from({ length: clients }, () => rawRequest(host, port, { path, halfClose: true, timeoutMs })));
  for (const r of results) tally.add(r);
  return { outcomes: tally.outcomes, samples: tally.samples };
}
