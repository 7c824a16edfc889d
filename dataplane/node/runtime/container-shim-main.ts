/**
 * The container shim's program (container-shim.ts): the node agent starts it with
 * `node container-shim.js`, writes its ShimConfig as one JSON line on its stdin (then, with
 * `stdin: true`, the program's stdin) and reads one JSON line per event from its stdout. Bundled as dist/knet/container-shim.js (scripts/bundle.mjs).
 */
import { runContainerShim, type ShimConfig, type ShimMessage } from './container-shim.js';

// The agent may be gone (killed): a closed stdout must not end the shim, nor a terminal's signals.
process.stdout.on('error', () => {});
for (const sig of ['SIGINT', 'SIGHUP', 'SIGTERM', 'SIGPIPE'] as const) process.on(sig, () => {});

// The first line is the configuration; what follows is the program's stdin (spec `stdin: true`).
let head = Buffer.alloc(0);
const onData = (d: Buffer) => {
  head = Buffer.concat([head, d]);
  const nl = head.indexOf(0x0a);
  if (nl < 0) return;
  process.stdin.off('data', onData);
  process.stdin.pause();
  let config: ShimConfig;
  try {
    config = JSON.parse(head.subarray(0, nl).toString('utf8')) as ShimConfig;
  } catch (err) {
    process.stderr.write(`knet container shim: bad configuration on stdin: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const report = (m: ShimMessage) => {
    try {
      process.stdout.write(`${JSON.stringify(m)}\n`);
    } catch {
      // Nobody reads any more.
    }
  };
  void runContainerShim(config, report, { head: head.subarray(nl + 1), rest: process.stdin }).then(() => process.exit(0));
};
process.stdin.on('data', onData);
