// The lean HTTP server's parser: found on every Node knet supports (process.binding on 20/22,
// node:http's own modules on 24+), and the two sources agree where both exist.
import { describe, expect, it } from 'vitest';
import { available, binding, fromHttpModules, llhttpMethodsByNumber } from '../../../ingress/http-parser-binding.js';

describe('http_parser binding', () => {
  it('is available on this Node', () => {
    expect(available()).toBe(true);
  });

  it("is found through node:http's modules too (the only way on Node 24+), with the same classes and method numbers", () => {
    const b = fromHttpModules();
    expect(b).toBeDefined();
    expect(b!.HTTPParser).toBe(binding()!.HTTPParser);
    expect(b!.allMethods).toEqual(binding()!.allMethods);
    expect(b!.allMethods[1]).toBe('GET');
    expect(b!.allMethods.indexOf('QUERY')).toBe(46);
  });

  it('puts llhttp’s RTSP block back between SOURCE and the methods after it', () => {
    const methods = ['DELETE', 'GET', ...Array.from({ length: 31 }, (_, i) => `M${i}`), 'SOURCE', 'QUERY'];
    const all = llhttpMethodsByNumber(methods)!;
    expect(all[33]).toBe('SOURCE');
    expect(all[34]).toBe('PRI');
    expect(all[45]).toBe('FLUSH');
    expect(all[46]).toBe('QUERY');
    expect(llhttpMethodsByNumber(['GET', 'DELETE'])).toBeUndefined();
  });
});
