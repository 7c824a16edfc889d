// The layer rule in eslint.config.js, checked on imports written at real paths: base imports no
// component, components import base but not each other, composition imports anything.
import { ESLint } from 'eslint';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const eslint = new ESLint({ cwd: root });

async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId?.startsWith('boundaries/')).map((m) => m.message);
}

describe('import boundaries', () => {
  it.each([
    ['base → component', 'dataplane/base/store/x.ts', "import { startProxy } from '../../../proxy/proxier.js'; export const x = startProxy;"],
    ['base → composition', 'dataplane/base/x.ts', "import { launchCluster } from '../cluster/cluster.js'; export const x = launchCluster;"],
    ['component → component', 'proxy/x.ts', "import { startDns } from '../dns/server.js'; export const x = startDns;"],
    ['component → component, lazily', 'dataplane/node/x.ts', "export const x = () => import('../../ingress/server.js');"],
    ['component → composition', 'dns/x.ts', "import { launchCluster } from '../dataplane/cluster/cluster.js'; export const x = launchCluster;"],
  ])('%s fails lint', async (_name, file, code) => {
    expect(await boundaryErrors(file, code)).toEqual([expect.stringContaining('There is no policy allowing dependencies')]);
  });

  it.each([
    ['component → base', 'proxy/x.ts', "import { createLogger } from '../dataplane/base/log.js'; export const x = createLogger;"],
    ['component → itself', 'dns/x.ts', "import { startDns } from './server.js'; export const x = startDns;"],
    ['composition → component', 'dataplane/cluster/x.ts', "import { startDns } from '../../dns/server.js'; export const x = startDns;"],
  ])('%s passes', async (_name, file, code) => {
    expect(await boundaryErrors(file, code)).toEqual([]);
  });
});
