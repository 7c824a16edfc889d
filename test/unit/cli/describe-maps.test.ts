import { describe, expect, it } from 'vitest';
import { annotationsText, labelsText } from '../../../dataplane/cli/commands/describe-maps.js';

describe("describe's labels and annotations, as kubectl prints them", () => {
  it('sorts labels as k=v under one another', () => {
    expect(labelsText({ tier: 'fe', app: 'web' }, 4)).toBe('app=web\n    tier=fe');
    expect(labelsText(undefined, 4)).toBe('<none>');
  });

  it("prints annotations as k: v without kubectl's last-applied configuration", () => {
    expect(annotationsText({ 'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Pod"}\n' }, 2)).toBe('<none>');
    expect(annotationsText({ b: '2', a: '1', 'kubectl.kubernetes.io/last-applied-configuration': '{}' }, 2)).toBe('a: 1\n  b: 2');
  });

  it('puts a long or multi-line value under its key, each line cut at 140 characters', () => {
    const long = 'x'.repeat(150);
    expect(annotationsText({ k: long }, 2)).toBe(`k:\n    ${'x'.repeat(140)}...`);
    expect(annotationsText({ k: 'one\ntwo\n' }, 2)).toBe('k:\n    one\n    two');
  });
});
