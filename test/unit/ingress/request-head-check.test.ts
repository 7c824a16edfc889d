/**
 * requestHeadError: nginx's head rules, as nginx 1.22.1 answered each row on this machine
 * (raw sockets; 400 and Connection: close wherever a code is expected).
 */
import { describe, expect, it } from 'vitest';
import { requestHeadError } from '../../../ingress/request-head-check.js';

describe('requestHeadError', () => {
  it.each([
    ['HTTP/1.1 with one Host', 1, 1, ['Host', 'a'], undefined],
    ['two Host lines', 1, 1, ['Host', 'a', 'Host', 'b'], 'KNET_DUPLICATE_HOST'],
    ['two Host lines, same value', 1, 1, ['Host', 'a', 'Host', 'a'], 'KNET_DUPLICATE_HOST'],
    ['two Host lines, any case', 1, 1, ['Host', 'a', 'hOST', 'a'], 'KNET_DUPLICATE_HOST'],
    ['a second, empty Host', 1, 1, ['Host', 'a', 'Host', ''], 'KNET_DUPLICATE_HOST'],
    ['two Host lines in HTTP/1.0', 1, 0, ['Host', 'a', 'Host', 'b'], 'KNET_DUPLICATE_HOST'],
    ['HTTP/1.1 without Host', 1, 1, ['Accept', '*/*'], 'KNET_MISSING_HOST'],
    ['HTTP/1.0 without Host', 1, 0, [], undefined],
    ['HTTP/1.0 with Transfer-Encoding: chunked', 1, 0, ['Host', 'a', 'Transfer-Encoding', 'chunked'], 'KNET_HTTP10_TRANSFER_ENCODING'],
    ['HTTP/1.0 with Transfer-Encoding: identity, no Host', 1, 0, ['transfer-encoding', 'identity'], 'KNET_HTTP10_TRANSFER_ENCODING'],
    ['HTTP/1.0 with Transfer-Encoding: gzip, chunked', 1, 0, ['TRANSFER-ENCODING', 'gzip, chunked'], 'KNET_HTTP10_TRANSFER_ENCODING'],
    ['HTTP/1.1 with Transfer-Encoding: chunked', 1, 1, ['Host', 'a', 'Transfer-Encoding', 'chunked'], undefined],
    ['a header whose name only starts like Host', 1, 1, ['Host', 'a', 'Hostname', 'b', 'X-Host', 'c'], undefined],
    ['a header named like Transfer-Encoding but longer', 1, 0, ['Transfer-Encodings', 'chunked'], undefined],
  ])('%s', (_name, major, minor, raw, code) => {
    expect(requestHeadError(major, minor, raw)?.code).toBe(code);
  });

  it('a repeated Host wins over the other rules, as nginx checks it while reading the headers', () => {
    expect(requestHeadError(1, 0, ['Transfer-Encoding', 'chunked', 'Host', 'a', 'Host', 'a'])?.code).toBe('KNET_DUPLICATE_HOST');
  });

  it("names nginx's reason in the message", () => {
    expect(requestHeadError(1, 1, ['Host', 'a', 'Host', 'a'])?.message).toBe('client sent duplicate host header');
    expect(requestHeadError(1, 0, ['Transfer-Encoding', 'chunked'])?.message).toBe('client sent HTTP/1.0 request with "Transfer-Encoding" header');
  });
});
