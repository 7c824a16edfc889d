/**
 * A Prometheus counter whose value a component already keeps as a plain number (the DNS server's
 * DnsStats, the apiserver's request counts): read at scrape time instead of incremented on the
 * hot path, so a query or request costs no prom-client call.
 */
import { Counter, type Registry } from 'prom-client';

/** Registers `name` on `registry`; each scrape reports what `read()` returns then. */
export function scrapedCounter(registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
