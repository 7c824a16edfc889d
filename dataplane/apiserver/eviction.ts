/**
 * POST pods/NAME/eviction (policy/v1 Eviction), as kube-apiserver's EvictionREST
 * (pkg/registry/core/pod/storage/eviction.go) in 1.32, without the DisruptionTarget condition:
 *
 * - a pod Pending, Succeeded, Failed or already being deleted is deleted without a look at
 *   budgets (it is no disruption);
 * - more than one PodDisruptionBudget covering the pod: a 500 Status, as upstream;
 * - a pod not Ready is deleted when its budget is healthy (currentHealthy ≥ desiredHealthy > 0,
 *   the IfHealthyBudget default) or its `unhealthyPodEvictionPolicy` is AlwaysAllow, against its
 *   resourceVersion (it may have become Ready meanwhile: then 429);
 * - otherwise the budget is checked and decremented: 429 TooManyRequests while its status is
 *   of an older generation or it allows no disruption; else `disruptionsAllowed` goes down by one
 *   and the pod goes into `disruptedPods`, written against the budget's resourceVersion (retried
 *   on conflict), and only then is the pod deleted.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { ApiResource } from '../base/model/api-resources.js';
import { deleteObject } from '../base/admission/writes.js';
import { budgetCoversPod, withDisruptionAllowedCondition } from '../base/model/disruption-budget.js';
import { metaTime } from '../base/model/meta-time.js';
import { StoreError } from '../base/store/errors.js';
import { jsonReply, type ApiContext, type ApiRequest, type Reply } from './api-request.js';
import { decodeBody, writeQuery } from './request-body.js';
import { ApiError, apiError, badRequest, failure, notFound, toApiError } from './status.js';

interface Eviction {
  metadata?: { name?: string };
  deleteOptions?: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: string[] };
}

/** MaxDisruptedPodSize: evictions approved but not yet seen by the disruption controller. */
const MAX_DISRUPTED_PODS = 2000;
const VIOLATES = "Cannot evict pod as it would violate the pod's disruption budget.";

const success = () => jsonReply(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });

export async function evict(ctx: ApiContext, req: ApiRequest, r: ApiResource, namespace: string | undefined, name: string): Promise<Reply> {
  const body = decodeBody(req, r) as Eviction;
  if (typeof body !== 'object' || body === null) throw badRequest('the body must be an Eviction object');
  if (body.metadata?.name !== undefined && body.metadata.name !== name) throw badRequest(`name in URL does not match name in Eviction object`);
  const o = body.deleteOptions ?? {};
  const dryRun = (o.dryRun?.length ?? 0) > 0 || writeQuery(req, 'CreateOptions').dryRun;
  const ns = namespace ?? 'default';
  const remove = async (resourceVersion?: string) => {
    const preconditions = resourceVersion && !o.preconditions?.resourceVersion ? { ...o.preconditions, resourceVersion } : o.preconditions;
    await deleteObject(ctx.store, 'Pod', ns, name, { gracePeriodSeconds: o.gracePeriodSeconds, preconditions, dryRun });
  };
  try {
    const pod = await ctx.store.get<Pod>('Pod', ns, name);
    if (!pod) throw notFound(r, name);
    const plan = planEviction(pod, ctx.cache.list('PodDisruptionBudget', ns) as PodDisruptionBudget[]);
    switch (plan.action) {
      case 'refuse':
        return jsonReply(500, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: plan.message, code: 500 });
      case 'delete':
        try {
          await remove(plan.againstResourceVersion ? pod.metadata?.resourceVersion : undefined);
        } catch (err) {
          // An unready pod that changed since it was read (it may be Ready now): the client is to ask again.
          if (plan.budget && err instanceof StoreError && err.reason === 'Conflict' && !o.preconditions?.resourceVersion) throw stillProcessing(plan.budget);
          throw err;
        }
        return success();
      case 'decrement':
        await decrementBudget(ctx, ns, plan.budget, name, dryRun);
        await remove();
        return success();
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw toApiError(err, r, r.kind, name);
  }
}

/** What an eviction does to a pod, given its namespace's budgets. */
export type EvictionPlan =
  /** Delete it (against its resourceVersion when asked); `budget`: the one whose health let an unready pod go. */
  | { action: 'delete'; againstResourceVersion: boolean; budget?: string }
  /** Decrement this budget first (checkAndDecrement), then delete. */
  | { action: 'decrement'; budget: string }
  | { action: 'refuse'; message: string };

export function planEviction(pod: Pod, budgets: readonly PodDisruptionBudget[]): EvictionPlan {
  // canIgnorePDB: a pod not yet running, finished, or already being deleted disrupts nothing more;
  // a Pending one is deleted against its resourceVersion (it may be becoming Ready).
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp) return { action: 'delete', againstResourceVersion: false };
  if (phase === 'Pending') return { action: 'delete', againstResourceVersion: true };
  const covering = budgets.filter((b) => budgetCoversPod(b, pod));
  if (covering.length > 1) return { action: 'refuse', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' };
  const budget = covering[0];
  if (!budget) return { action: 'delete', againstResourceVersion: false };
  const name = budget.metadata?.name ?? '';
  if (!isReady(pod) && unhealthyMayGo(budget)) return { action: 'delete', againstResourceVersion: true, budget: name };
  return { action: 'decrement', budget: name };
}

const isReady = (pod: Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** An unready pod may go without using the budget: AlwaysAllow, or (IfHealthyBudget, the default) while the budget is healthy. */
function unhealthyMayGo(pdb: PodDisruptionBudget): boolean {
  if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return true;
  const s = pdb.status;
  return !!s && s.currentHealthy >= s.desiredHealthy && s.desiredHealthy > 0;
}

function stillProcessing(budget: string): ApiError {
  const status = failure('TooManyRequests', VIOLATES, { retryAfterSeconds: 10, causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${budget} is still being processed by the server.` }] });
  return new ApiError(status, { 'Retry-After': '10' });
}

/**
 * checkAndDecrement: the budget with one disruption fewer and the pod in `disruptedPods` (at
 * `now`), or the ApiError refusing the eviction.
 */
export function checkAndDecrement(pdb: PodDisruptionBudget, pod: string, now: string): PodDisruptionBudget {
  const budget = pdb.metadata?.name ?? '';
  const s = pdb.status ?? { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0 };
  if ((s.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0)) throw stillProcessing(budget);
  if (s.disruptionsAllowed < 0) throw forbidden(budget, 'pdb disruptions allowed is negative');
  if (Object.keys(s.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) throw forbidden(budget, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  if (s.disruptionsAllowed === 0) {
    throw apiError('TooManyRequests', VIOLATES, { causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${budget} needs ${s.desiredHealthy} healthy pods and has ${s.currentHealthy} currently` }] });
  }
  let next = { ...s, disruptionsAllowed: s.disruptionsAllowed - 1 };
  if (next.disruptionsAllowed === 0) next = withDisruptionAllowedCondition(next, now);
  return { ...pdb, status: { ...next, disruptedPods: { ...s.disruptedPods, [pod]: now } } };
}

/** Read fresh and written against what was read (the store's mutate retries a conflict with a new read); a dry run only checks. */
async function decrementBudget(ctx: ApiContext, ns: string, budget: string, pod: string, dryRun: boolean): Promise<void> {
  if (dryRun) {
    const pdb = await ctx.store.get<PodDisruptionBudget>('PodDisruptionBudget', ns, budget);
    if (pdb) checkAndDecrement(pdb, pod, metaTime());
    return;
  }
  await ctx.store.mutate<PodDisruptionBudget>('PodDisruptionBudget', ns, budget, (cur) => checkAndDecrement(cur, pod, metaTime()), { status: true });
}

function forbidden(budget: string, why: string): ApiError {
  return apiError('Forbidden', `poddisruptionbudget.policy "${budget}" is forbidden: ${why}`, { name: budget, group: 'policy', kind: 'poddisruptionbudget' });
}
