import { describe, expect, it } from 'vitest';
import { parseProcAddress, parseProcNet } from '../../../dataplane/base/net/bound-sockets.js';

const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const row = (local: string, st: string, inode: string) => `   0: ${local} 00000000:0000 ${st} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;

describe('parseProcAddress', () => {
  it('reads host-order words: little and big endian', () => {
    expect(parseProcAddress('0300767F', true)).toBe('127.118.0.3');
    expect(parseProcAddress('7F760003', false)).toBe('127.118.0.3');
  });
  it('IPv4-mapped IPv6 gives the IPv4 address; other IPv6 addresses none', () => {
    expect(parseProcAddress('0000000000000000FFFF00000301767F', true)).toBe('127.118.1.3');
    expect(parseProcAddress('00000000000000000000000001000000', true)).toBeUndefined();
  });
});

describe('parseProcNet', () => {
  it('TCP: listeners only (LISTEN = 0A), not connections or TIME_WAIT', () => {
    const text = header + row('0301767F:1F90', '0A', '111') + row('0301767F:1F91', '01', '222') + row('0301767F:1F92', '06', '0');
    expect(parseProcNet(text, 'tcp', true)).toEqual([{ proto: 'tcp', address: '127.118.1.3', port: 8080, inode: '111' }]);
  });
  it('UDP: every bound socket, whatever its state', () => {
    const text = header + row('0A00607F:0035', '07', '333') + row('0A00607F:0000', '07', '444');
    expect(parseProcNet(text, 'udp', true)).toEqual([{ proto: 'udp', address: '127.96.0.10', port: 53, inode: '333' }]);
  });
  it('ignores lines that are not rows', () => {
    expect(parseProcNet(header + 'garbage\n\n', 'tcp', true)).toEqual([]);
  });
});
