/**
 * The DefaultIngressClass admission plugin, case by case against the upstream plugin's code
 * (plugin/pkg/admission/network/defaultingressclass/admission.go).
 */
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import { describe, expect, it } from 'vitest';
import { admitDefaultIngressClass, defaultIngressClass, wantsDefaultClass } from '../../../dataplane/base/admission/default-ingress-class.js';

const cls = (name: string, isDefault: string | undefined, created = '2026-01-01T00:00:00Z'): IngressClass => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name, creationTimestamp: created, ...(isDefault === undefined ? {} : { annotations: { 'ingressclass.kubernetes.io/is-default-class': isDefault } }) },
  spec: { controller: `example.com/${name}` },
});
const ing = (spec: Ingress['spec'] = {}, annotations?: Record<string, string>): Ingress => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'web', namespace: 'default', ...(annotations ? { annotations } : {}) },
  spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } }, ...spec },
});

describe('defaultIngressClass', () => {
  it.each([
    ['none marked', [cls('a', undefined), cls('b', 'false')], undefined],
    ['exactly "true" only', [cls('a', 'True'), cls('b', 'yes'), cls('c', '1')], undefined],
    ['one default', [cls('a', undefined), cls('b', 'true')], 'b'],
    ['two defaults: the newest', [cls('old', 'true', '2026-01-01T00:00:00Z'), cls('new', 'true', '2026-01-02T00:00:00Z')], 'new'],
    ['two defaults created in the same second: by name', [cls('zeta', 'true', '2026-01-01T00:00:00.900Z'), cls('alpha', 'true', '2026-01-01T00:00:00.100Z')], 'alpha'],
    ['no classes', [], undefined],
  ])('%s', (_name, classes, expected) => {
    expect(defaultIngressClass(classes)?.metadata?.name).toBe(expected);
  });
});

describe('admitDefaultIngressClass (on create)', () => {
  const classes = [cls('nginx', 'true'), cls('other', undefined)];

  it('fills spec.ingressClassName of an Ingress without a class, keeping the rest', () => {
    const out = admitDefaultIngressClass(ing(), classes);
    expect(out.spec).toEqual({ defaultBackend: { service: { name: 'web', port: { number: 80 } } }, ingressClassName: 'nginx' });
    expect(out.metadata).toEqual(ing().metadata);
  });

  it('leaves an Ingress that names a class alone, whatever classes exist', () => {
    expect(admitDefaultIngressClass(ing({ ingressClassName: 'other' }), classes).spec?.ingressClassName).toBe('other');
    expect(admitDefaultIngressClass(ing({ ingressClassName: 'missing' }), classes).spec?.ingressClassName).toBe('missing');
  });

  it.each([['nginx'], ['traefik'], ['']])('leaves one with the deprecated kubernetes.io/ingress.class annotation alone (value %j)', (value) => {
    const i = ing({}, { 'kubernetes.io/ingress.class': value });
    expect(wantsDefaultClass(i)).toBe(false);
    expect(admitDefaultIngressClass(i, classes)).toBe(i);
  });

  it('other annotations do not count', () => {
    expect(admitDefaultIngressClass(ing({}, { 'nginx.ingress.kubernetes.io/rewrite-target': '/' }), classes).spec?.ingressClassName).toBe('nginx');
  });

  it('no default class: unchanged', () => {
    const i = ing();
    expect(admitDefaultIngressClass(i, [cls('other', undefined)])).toBe(i);
  });

  it('an Ingress without spec gets one with the class', () => {
    const bare: Ingress = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'x' } };
    expect(admitDefaultIngressClass(bare, classes).spec).toEqual({ ingressClassName: 'nginx' });
  });
});
