// Lets plain `node` run the TypeScript sources (bench scripts, child processes in tests):
//   node --import ./test/bench/dns/register.mjs test/bench/dns/run.ts
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
