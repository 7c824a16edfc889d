/**
 * Telling "the store could not be reached" (said in one line: storeNotAnswering) from an
 * answer of the store (a Redis error reply, a StoreError), which a command prints as it is.
 */
import { describe, expect, it } from 'vitest';
import { isConnectionError, storeNotAnswering, StoreError, notFound } from '../../../dataplane/base/store/errors.js';

const errno = (message: string, code: string) => Object.assign(new Error(message), { code });
const named = (message: string, name: string) => Object.assign(new Error(message), { name });

describe('isConnectionError', () => {
  it.each([
    ['no connection for the retries a command may wait', named('Reached the max retries per request limit (which is 2). Refer to "maxRetriesPerRequest" option for details.', 'MaxRetriesPerRequestError')],
    ['the connection was closed under the command', new Error('Connection is closed.')],
    ['no offline queue', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['refused', errno('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED')],
    ['reset', errno('read ECONNRESET', 'ECONNRESET')],
    ['no route', errno('connect EHOSTUNREACH 10.0.0.1:6379', 'EHOSTUNREACH')],
    ['a Redis Cluster with no node answering', named('Failed to refresh slots cache.', 'ClusterAllFailedError')],
  ])('%s: yes', (_why, err) => expect(isConnectionError(err)).toBe(true));

  it.each([
    ['an answer: wrong password', named('WRONGPASS invalid username-password pair or user is disabled.', 'ReplyError')],
    ['an answer: a store error', notFound('Pod', 'web')],
    ['a store error that wraps a code', Object.assign(new StoreError('Conflict', 'x'), { code: 'ECONNRESET' })],
    ['not an error', 'ECONNREFUSED'],
    ['a plain error', new Error('boom')],
  ])('%s: no', (_why, err) => expect(isConnectionError(err)).toBe(false));
});

describe('storeNotAnswering', () => {
  it('names the cluster, the address and the cause, and says who restarts the store', () => {
    expect(storeNotAnswering({ cluster: 'default', address: '127.0.0.1:41234', embedded: true }, 'connect ECONNREFUSED 127.0.0.1:41234').message).toBe(
      'the state store of cluster "default" at 127.0.0.1:41234 is not answering (knet up restarts it); connect ECONNREFUSED 127.0.0.1:41234',
    );
    const given = storeNotAnswering({ cluster: 'shared', address: 'db1:26379,db2:26379', embedded: false }, 'no answer within 2 s');
    expect(given.message).toBe('the state store of cluster "shared" at db1:26379,db2:26379 is not answering (knet does not run it: check that it is up); no answer within 2 s');
    expect(given.reason).toBe('Unavailable');
  });
});
