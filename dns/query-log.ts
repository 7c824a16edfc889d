/**
 * `--log-queries`: one line per query in CoreDNS's log plugin format, so it reads like a
 * kubeadm cluster's `kubectl logs -n kube-system coredns-…`:
 *   [INFO] 127.0.0.1:52345 - 3 "A IN web.prod.svc.cluster.local. udp 54 false 512" NOERROR qr,aa,rd 106 0.000172s
 */
import { className, fqdn, rcodeName, typeName } from './records.js';
import { parseQuery } from './wire-decode.js';

const FLAG_NAMES: Array<[number, string]> = [
  [0x8000, 'qr'],
  [0x0400, 'aa'],
  [0x0200, 'tc'],
  [0x0100, 'rd'],
  [0x0080, 'ra'],
  [0x0020, 'ad'],
  [0x0010, 'cd'],
];

export function formatQueryLog(
  request: Buffer,
  response: Buffer | null,
  transport: 'udp' | 'tcp',
  peer: { address: string; port: number } | undefined,
  durationNs: bigint,
): string {
  const who = peer ? `${peer.address.includes(':') ? `[${peer.address}]` : peer.address}:${peer.port}` : '-';
  const parsed = parseQuery(request);
  const id = request.length >= 2 ? request.readUInt16BE(0) : 0;
  let q = `? ? ? ${transport} ${request.length} false 512`;
  if (parsed.kind === 'query') {
    const { question, edns } = parsed.query;
    // The reply size limit, as CoreDNS's request.Size(): 65535 over TCP whatever EDNS says.
    const size = transport === 'tcp' ? 65535 : edns ? Math.max(512, edns.udpSize) : 512;
    q = `${typeName(question.type)} ${className(question.class)} ${fqdn(question.name)} ${transport} ${request.length} ${edns?.dnssecOk ?? false} ${size}`;
  }
  const seconds = (Number(durationNs) / 1e9).toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  if (!response || response.length < 12) return `[INFO] ${who} - ${id} "${q}" DROPPED - 0 ${seconds}s`;
  const flags = response.readUInt16BE(2);
  const rflags = FLAG_NAMES.filter(([bit]) => flags & bit).map(([, n]) => n).join(',');
  return `[INFO] ${who} - ${id} "${q}" ${rcodeName(flags & 0xf)} ${rflags} ${response.length} ${seconds}s`;
}
