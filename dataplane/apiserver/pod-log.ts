/**
 * GET pods/NAME/log (PodLogOptions), text/plain, from the CRI log files the node agents write
 * in the cluster's state dir (base/container-logs/): the apiserver checks the options and the
 * container as kube-apiserver does, then reads as the kubelet would — the run chosen from the
 * container's status (`previous`: the last terminated one), `tailLines`, `sinceSeconds` /
 * `sinceTime`, `timestamps`, `limitBytes`, and `follow`, streamed until that run has ended and
 * everything it wrote has been sent.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { containerLogsDir, loggedRuns, podLogRef, runLogFile } from '../base/container-logs/log-layout.js';
import { millisToNanos, parseLogTime } from '../base/container-logs/cri-log-line.js';
import { readContainerLog, type ReadLogOptions } from '../base/container-logs/read-log.js';
import { runIsRunning, selectLogRun, validateLogContainer } from '../base/container-logs/log-selection.js';
import type { FieldError } from '../base/model/validate/field-error.js';
import type { ApiContext, ApiRequest, Reply } from './api-request.js';
import { apiError, badRequest, invalid, notFound } from './status.js';
import { parseBool } from './request-info.js';

const PODS = { group: '', plural: 'pods' };
/** A follower this far behind is cut off (a log file is at most 10 MiB; the client is not reading). */
const MAX_BUFFERED = 16 * 1024 * 1024;

export interface PodLogOptions extends ReadLogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
}

/** PodLogOptions from the query, checked as ValidatePodLogOptions does (422 Invalid; 400 for a value that does not parse). */
export function podLogOptions(query: URLSearchParams, pod: string, now = Date.now()): PodLogOptions {
  const int = (k: string): number | undefined => {
    const v = query.get(k);
    if (v === null || v === '') return undefined;
    if (!/^-?\d+$/.test(v)) throw badRequest(`${k}: Invalid value: ${JSON.stringify(v)}: must be an integer`);
    return Number(v);
  };
  const tailLines = int('tailLines');
  const limitBytes = int('limitBytes');
  const sinceSeconds = int('sinceSeconds');
  const sinceTimeText = query.get('sinceTime') || undefined;
  const sinceTime = sinceTimeText !== undefined ? parseLogTime(sinceTimeText) : undefined;
  if (sinceTimeText !== undefined && sinceTime === undefined) throw badRequest(`sinceTime: Invalid value: ${JSON.stringify(sinceTimeText)}: must be an RFC 3339 time`);
  const errors: FieldError[] = [];
  if (tailLines !== undefined && tailLines < 0) errors.push({ field: 'tailLines', type: 'Invalid', message: `tailLines: Invalid value: ${tailLines}: must be greater than or equal to 0` });
  if (limitBytes !== undefined && limitBytes < 1) errors.push({ field: 'limitBytes', type: 'Invalid', message: `limitBytes: Invalid value: ${limitBytes}: must be greater than 0` });
  if (sinceSeconds !== undefined && sinceTime !== undefined) errors.push({ field: '', type: 'Forbidden', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' });
  else if (sinceSeconds !== undefined && sinceSeconds < 1) errors.push({ field: 'sinceSeconds', type: 'Invalid', message: `sinceSeconds: Invalid value: ${sinceSeconds}: must be greater than 0` });
  if (errors.length) throw invalid('PodLogOptions', '', pod, errors);
  const since = sinceSeconds !== undefined ? millisToNanos(now - sinceSeconds * 1000) : sinceTime;
  return {
    container: query.get('container') || undefined,
    follow: parseBool(query.get('follow')) === true,
    previous: parseBool(query.get('previous')) === true,
    timestamps: parseBool(query.get('timestamps')) === true,
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
    ...(since !== undefined ? { since } : {}),
  };
}

export async function handlePodLog(ctx: ApiContext, req: ApiRequest, namespace: string, name: string): Promise<Reply> {
  const pod = ctx.cache.get('Pod', namespace, name) as Pod | undefined;
  if (!pod) throw notFound(PODS, name);
  const opts = podLogOptions(req.query, name);
  const container = validateLogContainer(pod, opts.container);
  if (!container.ok) throw badRequest(container.message);
  // Not scheduled yet: kube-apiserver has no node to ask and answers with nothing.
  if (!pod.spec?.nodeName) return { code: 200, contentType: 'text/plain', body: '' };
  if (!ctx.podLogsRoot) throw apiError('NotFound', `the logs of pod "${name}" are kept on the machine that runs it, not by this apiserver`);
  const dir = containerLogsDir(ctx.podLogsRoot, podLogRef(pod), container.value);
  const run = selectLogRun(pod, container.value, opts.previous, loggedRuns(dir));
  if (!run.ok) throw badRequest(run.message);
  const file = runLogFile(dir, run.value.run);

  if (!opts.follow) {
    const chunks: Buffer[] = [];
    await readContainerLog(file, opts, (c) => chunks.push(c));
    return { code: 200, contentType: 'text/plain', body: Buffer.concat(chunks) };
  }
  const { containerID } = run.value;
  return {
    code: 200,
    contentType: 'text/plain',
    headers: { 'Transfer-Encoding': 'chunked' },
    stream: (sink) => {
      const gone = new AbortController();
      sink.onClose(() => gone.abort());
      const write = (chunk: Buffer) => {
        if (gone.signal.aborted) return;
        sink.write(chunk);
        if (sink.buffered() > MAX_BUFFERED) gone.abort();
      };
      const running = () => runIsRunning(ctx.cache.get('Pod', namespace, name) as Pod | undefined, container.value, containerID);
      readContainerLog(file, opts, write, { running, signal: gone.signal })
        .catch((err: unknown) => ctx.log.warn('reading a pod log failed', { pod: `${namespace}/${name}`, error: err as Error }))
        .finally(() => sink.end());
    },
  };
}
