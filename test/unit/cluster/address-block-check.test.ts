import { describe, expect, it } from 'vitest';
import { blockInUse, socketsInBlock } from '../../../dataplane/cluster/address-block-check.js';
import type { BoundSocket } from '../../../dataplane/base/net/bound-sockets.js';

const tcp = (address: string, port: number): BoundSocket => ({ proto: 'tcp', address, port, inode: '0' });

describe('which sockets are in an address block', () => {
  it.each<[string, number, string, boolean]>([
    ['block 3 pod IP', 3, '127.118.1.3', true],
    ['block 3 node IP', 3, '127.119.18.2', true],
    ['block 3 ClusterIP', 3, '127.119.96.10', true],
    ['block 3 LoadBalancer IP', 3, '127.119.255.200', true],
    ['block 4 pod IP, not block 3', 3, '127.120.1.3', false],
    ['127.0.0.1 is in no block', 3, '127.0.0.1', false],
    ['default block pod IP', 0, '127.244.2.7', true],
    ['default block node IP', 0, '127.18.0.2', true],
    ['default block ClusterIP at the /12 edge', 0, '127.111.255.254', true],
    ['default block: the ingress LoadBalancer IP', 0, '127.18.255.200', true],
    ['default block: past the LoadBalancer pool', 0, '127.18.255.251', false],
  ])('%s', (_what, index, address, inside) => {
    expect(socketsInBlock(index, [tcp(address, 80)]).length).toBe(inside ? 1 : 0);
  });

  it('names the first address taken and how many more', () => {
    const taken = [tcp('127.118.1.3', 8080), tcp('127.118.1.4', 8080), tcp('127.0.0.1', 6379)];
    // inode 0 belongs to no process: the holder cannot be seen.
    expect(blockInUse(3, taken)).toBe("127.118.1.3:8080/tcp is held by a process this user cannot see (another user's) (and 1 more address of the block), not by a knet cluster");
    expect(blockInUse(4, taken)).toBeUndefined();
  });
});
