/**
 * A watch (k8s.io/apiserver handlers/watch.go over the cacher): a chunked stream of
 * `{"type":…,"object":…}` lines.
 *
 *  - resourceVersion unset or "0": an ADDED for every matching object, then changes;
 *    N: every change after N from the cache's window, then live; older than the window: one
 *    ERROR event with a 410 Expired Status, then the end (client-go and client-node relist).
 *  - Selectors apply to both sides of a change: an object that stops matching is DELETED (its
 *    last matching state at the new version), one that starts matching is ADDED.
 *  - allowWatchBookmarks: a BOOKMARK with the current version now and then; sendInitialEvents
 *    ends the initial ADDEDs with the bookmark annotated `k8s.io/initial-events-end`.
 *  - Accept as=Table: each event's object is a one-row Table, the first with the columns.
 *  - timeoutSeconds ends the stream cleanly (default: 30–60 min, as --min-request-timeout).
 *  - A client that stops reading (its buffer over 16 MiB) is dropped, as the apiserver drops
 *    watchers it cannot keep up with.
 *  - If the cache relists (the store's history was lost), the stream ends with 410 Expired.
 */
import type { ApiResource } from '../base/model/api-resources.js';
import type { KObject } from '../base/model/object.js';
import type { ApiContext, ApiRequest, Reply, StreamSink } from './api-request.js';
import { resourceShape, type Shape } from './negotiation.js';
import { matches, parseListOptions, type ListOptions } from './list-options.js';
import { TooOldError, type CacheEvent, type CacheWatcher } from './watch-cache.js';
import { badRequest, failure } from './status.js';
import { includeObject, groupVersionOf } from './read.js';
import { partialObjectMetadata, toTable, type IncludeObject } from './table.js';

const MAX_BUFFERED = 16 * 1024 * 1024;
const BOOKMARK_EVERY_MS = 10_000;

type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export async function handleWatch(ctx: ApiContext, req: ApiRequest, r: ApiResource, namespace: string | undefined, name?: string): Promise<Reply> {
  const opts = parseListOptions(r.kind, req.query);
  if (name !== undefined) opts.fields.push({ field: 'metadata.name', operator: '=', value: name });
  const rvParam = opts.resourceVersion;
  if (rvParam !== undefined && rvParam !== '' && !/^\d+$/.test(rvParam)) throw badRequest(`resourceVersion: Invalid value: ${JSON.stringify(rvParam)}: must be an unsigned integer`);
  const fromRv = rvParam === undefined || rvParam === '' || rvParam === '0' ? undefined : Number(rvParam);
  // A version ahead of the cache (the client's own write, not seen yet): wait for it briefly.
  if (fromRv !== undefined && fromRv > ctx.cache.resourceVersion) await ctx.cache.waitFor(fromRv, 3000);
  const shape = resourceShape(req.headers.accept);
  const include = shape.as === 'Table' ? includeObject(req.query) : 'Metadata';
  const contentType = shape.as === 'object' ? 'application/json' : shape.contentType;
  return {
    code: 200,
    contentType,
    headers: { 'Transfer-Encoding': 'chunked' },
    stream: (sink) => runWatch(ctx, r, namespace, opts, fromRv, shape, include, sink),
  };
}

function runWatch(ctx: ApiContext, r: ApiResource, namespace: string | undefined, opts: ListOptions, fromRv: number | undefined, shape: Shape, include: IncludeObject, sink: StreamSink): void {
  let columnsSent = false;
  let closed = false;
  let lastRv = fromRv ?? ctx.cache.resourceVersion;
  const inScope = (o: KObject | undefined): boolean => !!o && (namespace === undefined || o.metadata?.namespace === namespace) && matches(r.kind, opts, o);

  const encode = (type: WatchType, obj: unknown): string => {
    if (type === 'ERROR' || type === 'BOOKMARK') return `{"type":"${type}","object":${JSON.stringify(obj)}}\n`;
    const o = obj as KObject;
    if (shape.as === 'Table') {
      const metaVersion = shape.contentType.includes('v=v1beta1') ? 'v1beta1' : 'v1';
      const table = toTable(r.kind, [o], { include, resourceVersion: o.metadata?.resourceVersion, withColumns: !columnsSent, metaVersion });
      columnsSent = true;
      return `{"type":"${type}","object":${JSON.stringify(table)}}\n`;
    }
    if (shape.as === 'PartialObjectMetadata') return `{"type":"${type}","object":${JSON.stringify(partialObjectMetadata(o))}}\n`;
    return `{"type":"${type}","object":${ctx.cache.toJson(o)}}\n`;
  };
  const send = (type: WatchType, obj: unknown): void => {
    if (closed) return;
    sink.write(encode(type, obj));
    if (sink.buffered() > MAX_BUFFERED) finish();
  };
  const bookmark = (initialEnd = false): void => {
    const metadata: Record<string, unknown> = { resourceVersion: String(lastRv) };
    if (initialEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    send('BOOKMARK', { kind: r.kind, apiVersion: groupVersionOf(r), metadata });
  };

  const watcher: CacheWatcher = {
    kind: r.kind,
    onEvent: (e: CacheEvent) => {
      lastRv = e.rv;
      const now = e.type === 'DELETED' ? false : inScope(e.object);
      const before = e.type === 'ADDED' ? false : inScope(e.prev ?? (e.type === 'DELETED' ? e.object : undefined));
      if (e.type === 'DELETED') {
        if (before) send('DELETED', e.object);
      } else if (now && before) send('MODIFIED', e.object);
      else if (now) send('ADDED', e.object);
      else if (before) send('DELETED', withVersion(e.prev!, e.rv));
    },
    onExpired: (message) => {
      send('ERROR', failure('Expired', message));
      finish();
    },
  };

  let stop: () => void = () => {};
  const timers: NodeJS.Timeout[] = [];
  function finish(): void {
    if (closed) return;
    closed = true;
    stop();
    for (const t of timers) clearTimeout(t);
    ctx.counters.watches--;
    sink.end();
  }
  ctx.counters.watches++;
  sink.onClose(finish);

  if (fromRv === undefined) {
    // The current state as ADDED events, then live: both in this same turn, so nothing is missed.
    for (const o of opts.name !== undefined ? [ctx.cache.get(r.kind, namespace, opts.name)].filter((x): x is KObject => !!x) : ctx.cache.list(r.kind, namespace)) {
      if (inScope(o)) send('ADDED', o);
    }
    lastRv = ctx.cache.resourceVersion;
    stop = ctx.cache.watch(watcher, undefined);
    if (opts.sendInitialEvents && opts.allowWatchBookmarks) bookmark(true);
  } else {
    try {
      stop = ctx.cache.watch(watcher, fromRv);
    } catch (err) {
      if (!(err instanceof TooOldError)) throw err;
      send('ERROR', failure('Expired', err.message));
      finish();
      return;
    }
  }
  if (closed) return;
  if (opts.allowWatchBookmarks) {
    const tick = (): void => {
      bookmark();
      timers[0] = setTimeout(tick, BOOKMARK_EVERY_MS);
    };
    timers[0] = setTimeout(tick, BOOKMARK_EVERY_MS);
  }
  const timeoutMs = (opts.timeoutSeconds ?? 1800 + Math.floor(Math.random() * 1800)) * 1000;
  timers.push(setTimeout(finish, timeoutMs));
}

function withVersion(o: KObject, rv: number): KObject {
  return { ...o, metadata: { ...o.metadata, resourceVersion: String(rv) } };
}
