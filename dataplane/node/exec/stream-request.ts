/**
 * What an exec or attach request to the node's endpoint asks for, read from the kubelet's path
 * `/exec/{namespace}/{pod}/{container}` or `/attach/…` and its query: the API's PodExecOptions /
 * PodAttachOptions as kube-apiserver forwards them — `command` (repeated, exec only), `stdin`,
 * `stdout`, `stderr`, `tty` (also the kubelet's older `input`, `output`, `error`). Pure.
 */
export interface ExecRequest {
  kind: 'exec' | 'attach';
  namespace: string;
  pod: string;
  container?: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

const truthy = (v: string | null) => v !== null && v !== '0' && v !== 'false';

export function parseExecRequest(url: URL): ExecRequest | { error: string } {
  const m = /^\/(exec|attach)\/([^/]+)\/([^/]+)(?:\/([^/]+))?\/?$/.exec(url.pathname);
  if (!m) return { error: `not an exec or attach path: ${url.pathname} (want /exec/NAMESPACE/POD/CONTAINER or /attach/…)` };
  const q = url.searchParams;
  const flag = (name: string, old: string) => truthy(q.get(name)) || truthy(q.get(old));
  const container = decodeURIComponent(m[4] ?? '') || q.get('container') || undefined;
  const tty = truthy(q.get('tty'));
  const r: ExecRequest = {
    kind: m[1] as 'exec' | 'attach',
    namespace: decodeURIComponent(m[2]!),
    pod: decodeURIComponent(m[3]!),
    container,
    command: m[1] === 'exec' ? q.getAll('command') : [],
    stdin: flag('stdin', 'input'),
    stdout: q.has('stdout') || q.has('output') ? flag('stdout', 'output') : true,
    // A terminal is one stream: the kubelet drops stderr with tty.
    stderr: !tty && (q.has('stderr') || q.has('error') ? flag('stderr', 'error') : true),
    tty,
  };
  if (!r.stdin && !r.stdout && !r.stderr) return { error: 'you must specify at least 1 of stdin, stdout, stderr' };
  return r;
}
