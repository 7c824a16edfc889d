/**
 * The resource arguments of a command, as kubectl's resource builder reads them
 * (cli-runtime ResourceTypeOrNameArgs): either `TYPE [NAME…]` — one type, then names — or
 * `TYPE/NAME…`, every argument naming its own type. Mixing the two is an error with kubectl's
 * words. Types are any of the names resolveKind knows (plural, singular, short, Kind).
 */
import type { Kind } from '../base/model/object.js';
import { UsageError } from './connect.js';
import { resolveKind } from '../base/printers/resources.js';

/** Objects of one type: the names given (none = the type alone, e.g. `knet get pods`). */
export interface ResourceGroup {
  kind: Kind;
  /** The type as the user wrote it, for messages (`svc "web" not found`). */
  kindArg: string;
  names: string[];
}

export function parseResourceArgs(args: readonly string[], command: string): ResourceGroup[] {
  if (args.length === 0) throw new UsageError(`you must specify the type of resource to ${command}`);
  const withSlash = args.filter((a) => a.includes('/')).length;
  if (withSlash > 0 && withSlash !== args.length) {
    throw new UsageError(
      "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'knet get resource/<resource_name>' instead of 'knet get resource resource/<resource_name>'",
    );
  }
  if (withSlash === 0) {
    const [kindArg, ...names] = args as [string, ...string[]];
    return [{ kind: resolveKind(kindArg), kindArg, names }];
  }
  const groups: ResourceGroup[] = [];
  for (const arg of args) {
    const parts = arg.split('/');
    if (parts.length !== 2) throw new UsageError('arguments in resource/name form may not have more than one slash');
    const [kindArg, name] = parts as [string, string];
    if (!kindArg || !name) throw new UsageError('arguments in resource/name form must have a single resource and name');
    const kind = resolveKind(kindArg);
    const last = groups.at(-1);
    if (last?.kind === kind) last.names.push(name);
    else groups.push({ kind, kindArg, names: [name] });
  }
  return groups;
}

/** For commands that act on named objects only (scale, delete): every group needs a name. */
export function requireNames(groups: readonly ResourceGroup[]): void {
  if (groups.some((g) => g.names.length === 0)) throw new UsageError('resource(s) were provided, but no name was specified');
}
