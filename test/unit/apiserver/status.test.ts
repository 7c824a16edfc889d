import { describe, expect, it } from 'vitest';
import { alreadyExists, conflict, invalid, notFound, toApiError } from '../../../dataplane/apiserver/status.js';
import { StoreError, namespaceNotFound } from '../../../dataplane/base/store/errors.js';
import { required, notSupported } from '../../../dataplane/base/model/validate/field-error.js';
import { isNamespaceTerminating, namespaceTerminating } from '../../../dataplane/base/admission/write-plan.js';

describe('Status errors as the apiserver words them', () => {
  it('names the plural (and group) for NotFound, AlreadyExists and Conflict', () => {
    expect(notFound({ group: '', plural: 'pods' }, 'x').status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "x" not found',
      reason: 'NotFound',
      details: { name: 'x', kind: 'pods' },
      code: 404,
    });
    expect(alreadyExists({ group: 'apps', plural: 'deployments' }, 'web').status).toMatchObject({ message: 'deployments.apps "web" already exists', code: 409, details: { group: 'apps', kind: 'deployments' } });
    expect(conflict({ group: '', plural: 'configmaps' }, 'c').status.message).toBe(
      'Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  it('names the Kind for Invalid, with one cause per field error', () => {
    const one = invalid('Pod', '', 'x', [required('spec.containers[0].image')]).status;
    expect(one).toMatchObject({ code: 422, reason: 'Invalid', message: 'Pod "x" is invalid: spec.containers[0].image: Required value', details: { kind: 'Pod', name: 'x' } });
    expect(one.details!.causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[0].image' }]);
    const two = invalid('Deployment', 'apps', 'web', [required('spec.selector'), notSupported('spec.strategy.type', 'Blue', ['Recreate', 'RollingUpdate'])]).status;
    expect(two.message).toBe('Deployment.apps "web" is invalid: [spec.selector: Required value, spec.strategy.type: Unsupported value: "Blue": supported values: "Recreate", "RollingUpdate"]');
    expect(two.details!.causes![1]).toMatchObject({ reason: 'FieldValueNotSupported', field: 'spec.strategy.type' });
  });

  it('turns the write path\'s StoreErrors into Statuses, a missing namespace into namespaces "x" not found', () => {
    expect(toApiError(namespaceNotFound('nowhere'), { group: '', plural: 'pods' }, 'Pod', 'p').status).toMatchObject({ code: 404, message: 'namespaces "nowhere" not found', details: { kind: 'namespaces', name: 'nowhere' } });
    expect(toApiError(new StoreError('BadRequest', 'strict decoding error'), { group: '', plural: 'pods' }).status).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(toApiError(new Error('boom')).status).toMatchObject({ code: 500, reason: 'InternalError', message: 'Internal error occurred: boom' });
    expect(toApiError(new Error('connect ECONNREFUSED 127.0.0.1:6379'))).toMatchObject({ code: 503, headers: { 'Retry-After': '1' } });
  });

  it('a create into a Terminating namespace is Forbidden with NamespaceLifecycle\'s NamespaceTerminating cause; other refusals carry none', () => {
    const err = namespaceTerminating('Pod', 'web-1', 'shop');
    expect(isNamespaceTerminating(err)).toBe(true);
    expect(isNamespaceTerminating(new StoreError('Forbidden', 'pods "x" is forbidden: error looking up service account shop/robot'))).toBe(false);
    expect(isNamespaceTerminating(namespaceNotFound('shop'))).toBe(false);
    expect(toApiError(err, { group: '', plural: 'pods' }, 'Pod', 'web-1').status).toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message: 'pods "web-1" is forbidden: unable to create new content in namespace shop because it is being terminated',
      details: { name: 'web-1', kind: 'pods', causes: [{ reason: 'NamespaceTerminating', message: 'namespace shop is being terminated', field: 'metadata.namespace' }] },
    });
    expect(toApiError(new StoreError('Forbidden', 'no'), { group: '', plural: 'pods' }, 'Pod', 'x').status.details).not.toHaveProperty('causes');
  });
});
