/**
 * A pass that runs every `intervalMs` (never overlapping itself) until closed: the node
 * lifecycle controller's heartbeat check and the pod garbage collector both run this way.
 */
import type { Logger } from '../base/log.js';

export function runPeriodically(pass: () => Promise<void>, intervalMs: number, log: Logger, what: string): { close(): Promise<void> } {
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => {
      running = pass()
        .catch((err) => log.warn(`${what} failed`, { error: err as Error }))
        .finally(schedule);
    }, intervalMs);
  };
  schedule();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
