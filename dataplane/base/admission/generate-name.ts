/**
 * names.SimpleNameGenerator (k8s.io/apiserver/pkg/storage/names): a `generateName` prefix plus 5
 * characters from k8s.io/apimachinery/pkg/util/rand's vowel-free alphabet, the whole kept within
 * 63 characters. Objects created with `metadata.generateName` are named so, and so is the
 * ServiceAccount admission plugin's `kube-api-access-xxxxx` volume.
 */
import { randomInt } from 'node:crypto';

export function generateName(prefix: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let suffix = '';
  for (let i = 0; i < 5; i++) suffix += alphabet[randomInt(alphabet.length)];
  return `${prefix.slice(0, 63 - 5)}${suffix}`;
}
