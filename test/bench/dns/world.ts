/** The bench's cluster: 200 ClusterIP and 20 headless Services, and the same records for unbound. */
import type { KObject } from '../../../dataplane/base/model/object.js';
import { reverseName } from '../../../dns/reverse-name.js';
import { clusterIP, headless, slice, tcp } from '../../unit/dns/fixtures.js';
import type { Rec } from './unbound.js';

export const SERVICES = 200;
export const HEADLESS = 20;
export const Z = 'cluster.local';

export /** The cluster, and the same records written out for unbound. */
function world(): { objects: KObject[]; records: Rec[]; queries: string[] } {
  const objects: KObject[] = [];
  const records: Rec[] = [];
  const queries: string[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const ip = `10.96.${Math.floor(i / 250) + 1}.${(i % 250) + 1}`;
    const name = `svc-${i}.bench.svc.${Z}`;
    objects.push(clusterIP('bench', `svc-${i}`, [ip], [tcp('http', 80)]));
    records.push({ name, type: 'A', data: ip });
    records.push({ name: `_http._tcp.${name}`, type: 'SRV', data: `0 100 80 ${name}.` });
    records.push({ name: reverseName(ip)!, type: 'PTR', data: `${name}.` });
    queries.push(`${name} A`);
    if (i % 10 === 0) queries.push(`_http._tcp.${name} SRV`, `${reverseName(ip)} PTR`, `${name} AAAA`, `missing-${i}.bench.svc.${Z} A`);
  }
  for (let h = 0; h < HEADLESS; h++) {
    const name = `hl-${h}.bench.svc.${Z}`;
    objects.push(headless('bench', `hl-${h}`, [tcp('http', 80)]));
    const ips = [1, 2, 3].map((k) => `10.244.${h}.${k}`);
    objects.push(slice('bench', `hl-${h}`, ips.map((ip) => ({ ip })), [tcp('http', 80)]));
    for (const ip of ips) records.push({ name, type: 'A', data: ip });
    queries.push(`${name} A`);
  }
  objects.push(headless('bench', 'changing', [tcp('http', 80)]));
  objects.push(slice('bench', 'changing', [{ ip: '10.245.0.1' }], [tcp('http', 80)]));
  return { objects, records, queries };
}
