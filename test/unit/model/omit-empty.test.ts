import { describe, expect, it } from 'vitest';
import { omitEmpty } from '../../../dataplane/base/model/omit-empty.js';

describe('omitEmpty (Go omitempty)', () => {
  it('drops zero, empty and false values of the listed fields only, leaving the argument alone', () => {
    const status = { replicas: 0, readyReplicas: 0, availableReplicas: 2, note: '', ok: false };
    expect(omitEmpty(status, ['readyReplicas', 'availableReplicas', 'note', 'ok'])).toEqual({ replicas: 0, availableReplicas: 2 });
    expect(status.readyReplicas).toBe(0);
  });
});
