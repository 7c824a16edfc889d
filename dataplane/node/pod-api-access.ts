/**
 * What the node agent does for its pods' in-cluster API access, as the kubelet's token manager
 * and projected-volume plugin do it: issues each pod's projected service-account tokens
 * (pod-tokens.ts), writes a kubeconfig for the pod's real programs that names the files of its
 * service-account volume as rendered on disk (runtime/program-api-access.ts), and when a token
 * reaches 80 % of its lifetime has the pod's runtime render its volumes again at once (the
 * simulated shell's files and the volumes on disk), so the token file is always fresh.
 */
import { runsPrograms } from './runtime/pod-volumes-dir.js';
import type { Node, Pod, Service, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { Informer } from '../base/informer/informer-types.js';
import type { Logger } from '../base/log.js';
import { realClock, type Clock, type ClockTimer } from '../base/clock.js';
import type { SigningKey } from '../base/serviceaccount/signing-key.js';
import { TokenIssuer } from '../base/serviceaccount/token-issuer.js';
import { PodTokens } from './pod-tokens.js';
import { programApiAccess, type ProgramApiAccess } from './runtime/program-api-access.js';
import type { ObjectLookup } from './runtime/container-env.js';
import type { ServiceAccountIssuer } from './shell/service-account-files.js';

export interface PodApiAccessOptions {
  /** The cluster's signing key (undefined: this node issues no tokens; pods get none). */
  key: SigningKey | undefined;
  clusterDomain: string;
  serviceAccounts: Informer<ServiceAccount>;
  nodes: Informer<Node>;
  services: Informer<Service>;
  /** A pod's own directory, where its volumes are rendered for its programs, by uid (undefined: programs get no kubeconfig). */
  podDir?: (uid: string) => string;
  log: Logger;
  /** Time and the refresh timers (tests move a fake clock). */
  clock?: Clock;
}

/** How soon a token that could not be refreshed when due is tried again. */
const RETRY_MS = 10_000;

interface PodEntry {
  program?: ProgramApiAccess;
  /** Renders the pod's volumes again (the runtime's PodHandle.refreshVolumes). */
  render?: () => void;
  timer?: ClockTimer;
  at?: number;
}

export class PodApiAccess {
  private readonly tokens: PodTokens;
  private readonly pods = new Map<string, PodEntry>();
  private readonly clock: Clock;
  /** For the pods' sandboxes (the projected token source). */
  readonly issuer: ServiceAccountIssuer;

  constructor(private readonly opts: PodApiAccessOptions) {
    this.clock = opts.clock ?? realClock;
    const now = () => this.clock.now();
    const issuer = opts.key ? new TokenIssuer({ key: opts.key, clusterDomain: opts.clusterDomain, now }) : undefined;
    this.tokens = new PodTokens({
      issuer: () => issuer,
      serviceAccount: (ns, name) => opts.serviceAccounts.get(ns, name),
      node: (name) => opts.nodes.get(undefined, name),
      now,
    });
    this.issuer = { token: (pod, aud, exp) => this.token(pod, aud, exp) };
  }

  /** With a signing key, a projected token waits for its service account (runtime/volume-sources.ts). */
  lookup(base: ObjectLookup): ObjectLookup {
    return this.opts.key ? { ...base, serviceAccount: (ns, name) => this.opts.serviceAccounts.get(ns, name) } : base;
  }

  /** Prepares a starting pod: its programs' kubeconfig and the environment they get (KUBECONFIG). */
  start(pod: Pod): { programEnv?: Record<string, string> } {
    const uid = pod.metadata?.uid ?? '';
    const entry: PodEntry = {};
    this.pods.set(uid, entry);
    const dir = this.opts.podDir?.(uid);
    // Only programs read files from disk; emulated images see the volume in their shell.
    if (!dir || !runsPrograms(pod)) return {};
    try {
      entry.program = programApiAccess({ pod, dir, kubernetesService: () => this.opts.services.get('default', 'kubernetes') });
    } catch (err) {
      this.opts.log.warn("could not write the kubeconfig for the pod's programs", { pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, error: err as Error });
    }
    return entry.program ? { programEnv: entry.program.env } : {};
  }

  /** The pod runs: `render` renders its volumes again at once (called when a token needs refreshing). */
  attach(uid: string, render: () => void): void {
    const entry = this.pods.get(uid);
    if (!entry) return;
    entry.render = render;
    this.arm(uid);
  }

  /** Objects changed (the `kubernetes` Service among them): the programs' kubeconfig follows; their volume files follow in the runtime. */
  refresh(uid: string): void {
    try {
      this.pods.get(uid)?.program?.refresh();
    } catch (err) {
      this.opts.log.warn("could not refresh the kubeconfig for the pod's programs", { uid, error: err as Error });
    }
  }

  /** The pod stopped: its tokens, timer and directory (its volumes on disk with it) go. */
  remove(uid: string): void {
    const entry = this.pods.get(uid);
    this.pods.delete(uid);
    this.tokens.forget(uid);
    if (!entry) return;
    this.clock.clearTimeout(entry.timer);
    try {
      entry.program?.remove();
    } catch {
      // Left for the cluster's state dir cleanup.
    }
  }

  close(): void {
    for (const uid of [...this.pods.keys()]) this.remove(uid);
  }

  private token(pod: Pod, audience: string | undefined, expirationSeconds: number | undefined): string | undefined {
    const token = this.tokens.token(pod, audience, expirationSeconds);
    // A token issued now may need refreshing before the timer armed so far fires.
    this.arm(pod.metadata?.uid ?? '');
    return token;
  }

  /** A timer for the pod's earliest token refresh. */
  private arm(uid: string): void {
    const entry = this.pods.get(uid);
    const at = this.tokens.nextRefresh(uid);
    if (!entry?.render || at === undefined || entry.at === at) return;
    this.clock.clearTimeout(entry.timer);
    entry.at = at;
    const now = this.clock.now();
    entry.timer = this.clock.setTimeout(() => {
      entry.at = undefined;
      this.refresh(uid);
      entry.render?.();
      this.arm(uid);
      // Due and still not refreshed (no service account to issue for): try again in a while.
    }, at > now ? at - now : RETRY_MS);
    entry.timer.unref();
  }
}
