/**
 * Labels and annotations in `describe` output as kubectl prints them (kubectl/pkg/describe:
 * printLabelsMultiline, printAnnotationsMultiline): keys sorted, labels `k=v`, annotations
 * `k: v` without kubectl's own last-applied-configuration (it is the whole object again); an
 * annotation longer than 140 characters, or one with line breaks, goes under its key, each
 * line cut at 140 with "...".
 */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const MAX_ANNOTATION_LEN = 140;

export function labelsText(m: Record<string, string> | undefined, indent: number): string {
  const keys = Object.keys(m ?? {}).sort();
  if (!keys.length) return '<none>';
  return keys.map((k, i) => (i === 0 ? '' : ' '.repeat(indent)) + `${k}=${m![k]}`).join('\n');
}

export function annotationsText(m: Record<string, string> | undefined, indent: number): string {
  const keys = Object.keys(m ?? {}).filter((k) => k !== LAST_APPLIED).sort();
  if (!keys.length) return '<none>';
  const pad = ' '.repeat(indent);
  const shorten = (s: string) => (s.length <= MAX_ANNOTATION_LEN ? s : `${s.slice(0, MAX_ANNOTATION_LEN)}...`);
  const parts = keys.map((k, i) => {
    const value = m![k]!.replace(/\n$/, '');
    const lead = i === 0 ? '' : pad;
    if (value.length + k.length + 2 > MAX_ANNOTATION_LEN || value.includes('\n')) {
      return `${lead}${k}:\n` + value.split('\n').map((s) => `${pad}  ${shorten(s)}`).join('\n');
    }
    return `${lead}${k}: ${value}`;
  });
  return parts.join('\n');
}
