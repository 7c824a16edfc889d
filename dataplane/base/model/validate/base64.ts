/**
 * Secret `data` and ConfigMap `binaryData` are []byte in Go, so the apiserver base64-decodes
 * them while decoding the request, with encoding/base64's StdEncoding. This reproduces its
 * verdict and its "illegal base64 data at input byte N" position.
 */
const ALPHABET = /[A-Za-z0-9+/]/;

/** The error Go's base64.StdEncoding.DecodeString would return, or undefined when it decodes. */
export function base64Error(value: string): string | undefined {
  // Go skips \r and \n anywhere; positions count the original bytes.
  const pos: number[] = [];
  const chars: string[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\r' || c === '\n') continue;
    pos.push(i);
    chars.push(c);
  }
  const err = (i: number): string => `illegal base64 data at input byte ${i < pos.length ? pos[i] : value.length}`;
  const n = chars.length;
  for (let i = 0; i < n; i++) {
    const c = chars[i];
    if (c === '=') {
      const j = i % 4;
      if (j < 2) return err(i);
      if (j === 2) {
        if (i + 1 >= n) return err(i + 1);
        if (chars[i + 1] !== '=') return err(i + 1);
        if (i + 2 !== n) return err(i + 2);
        return undefined;
      }
      return i + 1 === n ? undefined : err(i + 1);
    }
    if (!ALPHABET.test(c)) return err(i);
  }
  const rest = n % 4;
  if (rest !== 0) return err(n - rest);
  return undefined;
}
