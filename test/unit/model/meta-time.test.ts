import { describe, expect, it } from 'vitest';
import { metaTime } from '../../../dataplane/base/model/meta-time.js';

describe('metaTime', () => {
  it('writes RFC 3339 UTC to the whole second, as metav1.Time serializes', () => {
    expect(metaTime(Date.UTC(2026, 11, 7, 9, 59, 44, 998))).toBe('2026-12-07T09:59:44Z');
    expect(metaTime(new Date(Date.UTC(2026, 0, 1)))).toBe('2026-01-01T00:00:00Z');
    expect(metaTime()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});
