/** The kube-root-ca.crt ConfigMap as root-ca-cert-publisher keeps it: created, put back when changed, left alone when right. */
import { describe, expect, it } from 'vitest';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { desiredRootCA, ROOT_CA_DESCRIPTION } from '../../../dataplane/controllers/root-ca-publisher.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('root CA publisher', () => {
  it('creates the ConfigMap with ca.crt and the upstream description', () => {
    expect(desiredRootCA('shop', PEM, undefined)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-root-ca.crt', namespace: 'shop', annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION } },
      data: { 'ca.crt': PEM },
    });
  });

  it('leaves a right one alone and puts back changed data, keeping other metadata', () => {
    const right = desiredRootCA('shop', PEM, undefined)!;
    expect(desiredRootCA('shop', PEM, right)).toBeUndefined();
    const tampered: ConfigMap = { ...right, metadata: { ...right.metadata, labels: { a: 'b' }, resourceVersion: '7' }, data: { 'ca.crt': 'x', extra: 'y' } };
    const fixed = desiredRootCA('shop', PEM, tampered)!;
    expect(fixed.data).toEqual({ 'ca.crt': PEM });
    expect(fixed.metadata?.labels).toEqual({ a: 'b' });
    expect(fixed.metadata?.resourceVersion).toBe('7');
  });
});
