import { describe, expect, it } from 'vitest';
import { FieldSelectorError, matchesFields, parseFieldSelector } from '../../../dataplane/apiserver/field-selector.js';
import type { KObject } from '../../../dataplane/base/model/object.js';

const pod = (name: string, node: string, phase: string): KObject => ({ kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: node }, status: { phase } });

describe('field selectors', () => {
  it.each([
    ['metadata.name=web-1', 'Pod', [{ field: 'metadata.name', operator: '=', value: 'web-1' }]],
    ['metadata.name==web-1,spec.nodeName!=node-2', 'Pod', [{ field: 'metadata.name', operator: '=', value: 'web-1' }, { field: 'spec.nodeName', operator: '!=', value: 'node-2' }]],
    ['involvedObject.name=a\\,b,involvedObject.uid=u', 'Event', [{ field: 'involvedObject.name', operator: '=', value: 'a,b' }, { field: 'involvedObject.uid', operator: '=', value: 'u' }]],
    ['metadata.name=', 'Node', [{ field: 'metadata.name', operator: '=', value: '' }]],
    ['', 'Pod', []],
  ])('parses %j for %s', (sel, kind, want) => {
    expect(parseFieldSelector(sel, kind as never)).toEqual(want);
  });

  it.each([
    ['spec.foo=bar', 'Pod', 'field label not supported: spec.foo'],
    ['metadata.namespace=default', 'Node', 'field label not supported: metadata.namespace'],
    ['status.phase=Running', 'Service', 'field label not supported: status.phase'],
    ['nonsense', 'Pod', "invalid field selector: invalid selector: 'nonsense'; can't understand 'nonsense'"],
  ])('refuses %j on %s with the apiserver message', (sel, kind, message) => {
    expect(() => parseFieldSelector(sel, kind as never)).toThrow(FieldSelectorError);
    expect(() => parseFieldSelector(sel, kind as never)).toThrow(message);
  });

  it('matches the fields kubectl and controllers use', () => {
    const reqs = parseFieldSelector('spec.nodeName=node-1,status.phase!=Failed', 'Pod');
    expect(matchesFields('Pod', reqs, pod('a', 'node-1', 'Running'))).toBe(true);
    expect(matchesFields('Pod', reqs, pod('a', 'node-2', 'Running'))).toBe(false);
    expect(matchesFields('Pod', reqs, pod('a', 'node-1', 'Failed'))).toBe(false);
    expect(matchesFields('Namespace', parseFieldSelector('status.phase=Active', 'Namespace'), { kind: 'Namespace', metadata: { name: 'x' } })).toBe(true);
  });
});
