/**
 * Preload (`NODE_OPTIONS=--require …/cpu-prof.cjs`, since --cpu-prof is not allowed there):
 * profiles the `knet ingress` component process and writes ingress-<pid>.cpuprofile into
 * BENCH_CPU_PROF when it exits. Other processes are left alone.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- a --require preload is CommonJS */
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');

if (process.env.BENCH_CPU_PROF && process.argv.slice(2).includes('ingress')) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  process.on('exit', () => {
    // The in-thread session answers synchronously, so this works inside 'exit'.
    session.post('Profiler.stop', (err, res) => {
      if (!err) fs.writeFileSync(path.join(process.env.BENCH_CPU_PROF, `ingress-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
