/**
 * Keeps the walkthrough in README.md true: the example's manifests on a real cluster answer
 * the names it shows.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { startCluster, type KnetCluster } from '../../dataplane/index.js';
import { dig as digAt } from '../../test/component/dns/support.js';

let cluster: KnetCluster;

beforeAll(async () => {
  // No upstream: the walkthrough's outside names depend on the machine's resolver.
  cluster = await startCluster({ manifests: 'examples/dns', components: { ingress: false }, config: { dnsUpstream: null } });
}, 120_000);

afterAll(async () => {
  await cluster?.close();
});

const dig = (...args: string[]) => digAt({ address: cluster.dnsServer.host, port: cluster.dnsServer.port }, args);
const clusterIP = async (name: string) => (await cluster.get<Service>('svc', name))!.spec!.clusterIP!;
const answers = async (...args: string[]) => (await dig(...args)).answer.map((l) => l.split(' ').slice(3).join(' ')).sort();

it('answers the walkthrough names', async () => {
  const hello = await clusterIP('hello');
  expect(await answers('hello.default.svc.cluster.local')).toEqual([`A ${hello}`]);
  expect(await answers('hello-headless.default.svc.cluster.local')).toEqual((await cluster.readyEndpoints('hello-headless')).map((ip) => `A ${ip}`));
  const web0 = (await cluster.get<Pod>('pod', 'web-0'))!.status!.podIP!;
  expect(await answers('web-0.web.default.svc.cluster.local')).toEqual([`A ${web0}`]);
  expect(await answers('_http._tcp.web.default.svc.cluster.local', 'SRV')).toEqual(['SRV 0 50 8080 web-0.web.default.svc.cluster.local.', 'SRV 0 50 8080 web-1.web.default.svc.cluster.local.']);
  expect(await answers('hello-alias.default.svc.cluster.local')).toEqual([`A ${hello}`, 'CNAME hello.default.svc.cluster.local.']);
  expect(await answers('docs.default.svc.cluster.local')).toEqual(['CNAME kubernetes.io.']);
  expect(await answers('_xmpp-client._tcp.chat.default.svc.cluster.local', 'SRV')).toEqual(['SRV 0 100 5222 chat.default.svc.cluster.local.']);
  expect(await answers('_stun._udp.chat.default.svc.cluster.local', 'SRV')).toEqual(['SRV 0 100 3478 chat.default.svc.cluster.local.']);
  expect(await answers('dns-version.cluster.local', 'TXT')).toEqual(['TXT "1.1.0"']);
});
