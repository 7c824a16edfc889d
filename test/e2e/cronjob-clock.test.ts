/**
 * CronJobs and Jobs on a test clock: the controllers' time is a fake clock the test moves, so
 * a once-a-minute schedule fires when the test advances it a minute — and activeDeadlineSeconds
 * and ttlSecondsAfterFinished pass the same way — while the pods run for real.
 *
 * The clock starts an hour behind the wall clock, so a CronJob the test creates (stamped with
 * real time) has no missed schedule to catch up on: it fires exactly when the test says.
 */
import { describe, expect, it } from 'vitest';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KnetCluster } from '../../dataplane/index.js';
import type { KObject } from '../../dataplane/base/model/object.js';
import { fakeClock } from '../support/fake-clock.js';
import { kubectlCluster } from '../support/kubectl-cluster.js';

const clock = fakeClock(Date.now() - 3_600_000);
let cluster: KnetCluster;
const { ok } = kubectlCluster({ clock, components: { ingress: false, dns: false, proxy: false } }, { started: (k) => ({ cluster } = k) });

type CJ = CronJob & KObject;
type J = Job & KObject;
const MINUTE = 60_000;

function cronJob(name: string, spec: Record<string, unknown> = {}, command = 'echo tick'): CJ {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: 'default' },
    spec: {
      schedule: '*/1 * * * *',
      // A shell as PID 1 ignores SIGTERM: a replaced Job's pod would take the whole grace period.
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', command] }] } } } },
      ...spec,
    },
  } as CJ;
}

/** Moves the clock one second past the CronJob's next minute; returns that schedule time. */
async function fireNext(name: string): Promise<number> {
  const cj = (await cluster.get<CJ>('cronjob', name))!;
  const base = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata!.creationTimestamp!);
  const at = Math.max(Math.floor(base / MINUTE) * MINUTE, Math.floor(clock.now() / MINUTE) * MINUTE) + MINUTE;
  clock.advance(at + 1000 - clock.now());
  return at;
}

const jobsOf = async (cj: string) => ((await cluster.get<J>('jobs')) as J[]).filter((j) => j.metadata?.ownerReferences?.[0]?.name === cj);
const waitJob = (name: string) => cluster.waitFor(async () => (await cluster.get<J>('job', name)) ?? undefined, `job/${name} to exist`);
const complete = (name: string) => cluster.waitForCondition<J>(`job/${name}`, 'Complete', 'True', { timeoutMs: 60_000 });

describe('a CronJob on the test clock', () => {
  it('fires each minute the clock passes, keeps successfulJobsHistoryLimit Jobs, and reports it all', async () => {
    await cluster.apply(cronJob('tick', { successfulJobsHistoryLimit: 1 }));
    const first = await fireNext('tick');
    const job1 = await waitJob(`tick-${first / MINUTE}`);
    expect(job1.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(new Date(first).toISOString().replace('.000Z', 'Z'));
    expect(job1.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'tick', controller: true });
    await complete(job1.metadata!.name!);
    expect(await cluster.logs(((await cluster.get<Pod & KObject>('pods', undefined, 'default', { labelSelector: `job-name=${job1.metadata!.name}` })) as Pod[])[0]!.metadata!.name!)).toBe('tick\n');
    const seen = await cluster.waitFor(async () => {
      const cj = await cluster.get<CJ>('cronjob', 'tick');
      return cj?.status?.lastSuccessfulTime && !cj.status.active?.length ? cj : undefined;
    }, 'cronjob/tick to record its success');
    expect(Date.parse(seen.status!.lastScheduleTime!)).toBe(first);
    expect(await ok('get', 'cronjobs', 'tick')).toMatch(/^tick\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+0\s+\S+\s+\S+$/m);

    // The next minute makes the next Job, and the first one goes (history limit 1).
    const second = await fireNext('tick');
    expect(second).toBe(first + MINUTE);
    await complete(`tick-${second / MINUTE}`);
    await cluster.waitFor(async () => ((await jobsOf('tick')).length === 1 ? true : undefined), 'only the newest Job of tick to be kept');
    expect((await jobsOf('tick')).map((j) => j.metadata!.name)).toEqual([`tick-${second / MINUTE}`]);
    const reasons = (await cluster.events({ for: 'cronjob/tick' })).map((e) => `${e.reason}: ${e.message}`);
    expect(reasons).toEqual(expect.arrayContaining([`SuccessfulCreate: Created job tick-${first / MINUTE}`, `SuccessfulCreate: Created job tick-${second / MINUTE}`, `SuccessfulDelete: Deleted job tick-${first / MINUTE}`]));

    // Suspended: the clock moves on two minutes and nothing runs; resumed, only the latest missed minute runs.
    await cluster.apply({ ...cronJob('tick', { successfulJobsHistoryLimit: 1, suspend: true }) });
    await cluster.waitFor(async () => (await cluster.get<CJ>('cronjob', 'tick'))?.spec?.suspend || undefined, 'the suspend to be stored');
    clock.advance(2 * MINUTE);
    expect(await ok('get', 'cronjobs', 'tick', '-o', 'jsonpath={.spec.suspend}')).toBe('true');
    await cluster.apply({ ...cronJob('tick', { successfulJobsHistoryLimit: 1, suspend: false }) });
    const latest = second + 2 * MINUTE;
    await complete(`tick-${latest / MINUTE}`);
    const created = (await cluster.events({ for: 'cronjob/tick' })).filter((e) => e.reason === 'SuccessfulCreate').map((e) => e.message).sort();
    expect(created).toEqual([first, second, latest].map((t) => `Created job tick-${t / MINUTE}`).sort());
  });

  it('concurrencyPolicy Forbid skips a run while one is active; Replace replaces it', async () => {
    // The clock is past real time now, so this CronJob may first catch up on a missed minute:
    // the test follows the Jobs it sees rather than predicting their names.
    await cluster.apply(cronJob('slow', { concurrencyPolicy: 'Forbid' }, 'sleep infinity'));
    await fireNext('slow');
    const [first] = await cluster.waitFor(async () => {
      const jobs = await jobsOf('slow');
      const cj = await cluster.get<CJ>('cronjob', 'slow');
      return jobs.length === 1 && cj?.status?.active?.length === 1 ? jobs : undefined;
    }, 'cronjob/slow to run one Job and list it as active');
    clock.advance(MINUTE);
    await cluster.waitFor(async () => (await cluster.events({ for: 'cronjob/slow' })).some((e) => e.reason === 'JobAlreadyActive') || undefined, 'a JobAlreadyActive event');
    expect((await jobsOf('slow')).map((j) => j.metadata!.name)).toEqual([first!.metadata!.name]);

    await cluster.apply(cronJob('slow', { concurrencyPolicy: 'Replace' }, 'sleep infinity'));
    await cluster.waitFor(async () => ((await cluster.get<CJ>('cronjob', 'slow'))?.spec?.concurrencyPolicy === 'Replace' ? true : undefined), 'the policy change');
    await fireNext('slow');
    const [next] = await cluster.waitFor(async () => {
      const jobs = await jobsOf('slow');
      return jobs.length === 1 && jobs[0]!.metadata!.name !== first!.metadata!.name ? jobs : undefined;
    }, `${first!.metadata!.name} to be replaced by a new Job`);
    const events = (await cluster.events({ for: 'cronjob/slow' })).map((e) => `${e.reason}: ${e.message}`);
    expect(events).toEqual(expect.arrayContaining([`SuccessfulDelete: Deleted job ${first!.metadata!.name}`, `SuccessfulCreate: Created job ${next!.metadata!.name}`]));
    await cluster.delete('cronjob', 'slow');
  });
});

describe('Jobs on the test clock', () => {
  it('activeDeadlineSeconds fails a Job that runs too long, and deletes its pods', async () => {
    await cluster.apply(`apiVersion: batch/v1
kind: Job
metadata: { name: forever }
spec:
  activeDeadlineSeconds: 30
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers: [{ name: c, image: busybox, command: [sleep, infinity] }]
`);
    await cluster.waitForPods('job-name=forever', { count: 1 });
    clock.advance(31_000);
    const failed = await cluster.waitForCondition<J>('job/forever', 'Failed', 'True', { timeoutMs: 60_000 });
    expect(failed.status?.conditions?.map((c) => [c.type, c.reason])).toEqual([
      ['FailureTarget', 'DeadlineExceeded'],
      ['Failed', 'DeadlineExceeded'],
    ]);
    expect(failed.status?.failed).toBe(1);
    expect(await ok('get', 'job', 'forever')).toMatch(/^forever\s+Failed\s+0\/1\s+/m);
  });

  it('ttlSecondsAfterFinished deletes a finished Job with its pods once that time has passed', async () => {
    await cluster.apply(`apiVersion: batch/v1
kind: Job
metadata: { name: brief }
spec:
  ttlSecondsAfterFinished: 10
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: c, image: busybox, command: [echo, hi] }]
`);
    await complete('brief');
    expect(await cluster.get('job', 'brief')).toBeDefined();
    clock.advance(11_000);
    await cluster.waitFor(async () => ((await cluster.get('job', 'brief')) ? undefined : true), 'job/brief to be deleted by its TTL');
    await cluster.waitFor(async () => (((await cluster.get('pods', undefined, 'default', { labelSelector: 'job-name=brief' })) as unknown[]).length === 0 ? true : undefined), 'its pods to go too');
  });
});
