/**
 * PodLogOptions from a pods/log query, checked as kube-apiserver's ValidatePodLogOptions checks
 * them: 422 Invalid with the field errors, 400 for what does not parse.
 */
import { describe, expect, it } from 'vitest';
import { podLogOptions } from '../../../dataplane/apiserver/pod-log.js';
import type { ApiError } from '../../../dataplane/apiserver/status.js';

const NOW = Date.parse('2024-01-01T00:01:00Z');
const parse = (q: string) => podLogOptions(new URLSearchParams(q), 'web-1', NOW);
const failure = (q: string) => {
  try {
    parse(q);
  } catch (err) {
    return (err as ApiError).status;
  }
  throw new Error('no error');
};

describe('pods/log options', () => {
  it('reads what kubectl sends', () => {
    expect(parse('container=web&follow=true&tailLines=10&timestamps=true&previous=1&limitBytes=500')).toEqual({
      container: 'web',
      follow: true,
      previous: true,
      timestamps: true,
      tailLines: 10,
      limitBytes: 500,
    });
    expect(parse('')).toEqual({ follow: false, previous: false, timestamps: false });
  });

  it('turns sinceSeconds and sinceTime into a time in nanoseconds', () => {
    expect(parse('sinceSeconds=60').since).toBe(BigInt(Date.parse('2024-01-01T00:00:00Z')) * 1_000_000n);
    expect(parse('sinceTime=2024-01-01T00:00:30Z').since).toBe(BigInt(Date.parse('2024-01-01T00:00:30Z')) * 1_000_000n);
  });

  it('refuses what ValidatePodLogOptions refuses, as 422 Invalid', () => {
    expect(failure('tailLines=-1')).toMatchObject({ code: 422, reason: 'Invalid', message: 'PodLogOptions "web-1" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0' });
    expect(failure('limitBytes=0')).toMatchObject({ code: 422, message: 'PodLogOptions "web-1" is invalid: limitBytes: Invalid value: 0: must be greater than 0' });
    expect(failure('sinceSeconds=0')).toMatchObject({ code: 422, message: 'PodLogOptions "web-1" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0' });
    expect(failure('sinceSeconds=5&sinceTime=2024-01-01T00:00:30Z')).toMatchObject({ code: 422, message: expect.stringContaining('at most one of `sinceTime` or `sinceSeconds` may be specified') });
  });

  it('refuses what does not parse, as 400', () => {
    expect(failure('tailLines=ten')).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(failure('sinceTime=yesterday')).toMatchObject({ code: 400, reason: 'BadRequest' });
  });
});
