import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agnhostArgv, isAgnhostImage, parseFlags, parseGoDuration } from '../../../dataplane/node/runtime/agnhost-image.js';
import { chooseEmulation } from '../../../dataplane/node/runtime/image-selection.js';
import { normalizeImage } from '../../../dataplane/node/runtime/image-reference.js';

describe('chooseEmulation', () => {
  const A = 'registry.k8s.io/e2e-test-images/agnhost:2.47';
  it.each<[string, string | undefined, string[], string[], unknown]>([
    ['netexec via args', A, [], ['netexec', '--http-port=80'], { kind: 'agnhost', command: 'netexec', flags: ['--http-port=80'] }],
    ['netexec via /agnhost command', A, ['/agnhost', 'netexec'], ['--udp-port', '-1'], { kind: 'agnhost', command: 'netexec', flags: ['--udp-port', '-1'] }],
    ['old registry', 'k8s.gcr.io/e2e-test-images/agnhost:2.21', [], ['serve-hostname'], { kind: 'agnhost', command: 'serve-hostname', flags: [] }],
    ['digest reference', 'registry.k8s.io/e2e-test-images/agnhost@sha256:abc', [], ['pause'], { kind: 'agnhost', command: 'pause', flags: [] }],
    ['default CMD is pause', A, [], [], { kind: 'agnhost', command: 'pause', flags: [] }],
    ['liveness (docs example)', 'registry.k8s.io/e2e-test-images/agnhost:2.40', [], ['liveness'], { kind: 'agnhost', command: 'liveness', flags: [] }],
    ['agnhost with a shell command is a process', A, ['sh', '-c', 'sleep 1'], [], { kind: 'process' }],
    ['echoserver', 'gcr.io/k8s-staging-ingressconformance/echoserver:v20220815-e21d1a4', [], [], { kind: 'echoserver' }],
    ['plain command', 'python:3', ['python3'], ['-m', 'http.server'], { kind: 'process' }],
    ['nginx', 'nginx', [], [], { kind: 'identity' }],
    ['busybox with a command runs in the simulated shell', 'busybox:1.36', ['sleep', 'infinity'], [], { kind: 'toolbox' }],
    ['alpine without a command too', 'docker.io/library/alpine:3.20', [], [], { kind: 'toolbox' }],
    ['netshoot', 'nicolaka/netshoot', ['sh', '-c', 'while true; do curl web; done'], [], { kind: 'toolbox' }],
    ['args without command on an unknown image', 'myapp:1', [], ['--port=80'], { kind: 'identity' }],
    ['not agnhost: lookalike name', 'example.com/agnhost-fork:1', [], ['netexec'], { kind: 'identity' }],
  ])('%s', (_n, image, command, args, want) => expect(chooseEmulation(image, command, args)).toEqual(want));

  it('unknown agnhost subcommands fall back to the identity responder with a note', () => {
    expect(chooseEmulation(A, [], ['porter'])).toMatchObject({ kind: 'identity', note: expect.stringContaining('agnhost porter is not emulated') });
  });

  it('isAgnhostImage / agnhostArgv', () => {
    expect(isAgnhostImage('gcr.io/kubernetes-e2e-test-images/agnhost:2.8')).toBe(true);
    expect(isAgnhostImage('nginx')).toBe(false);
    expect(agnhostArgv({ command: ['agnhost', 'netexec'], args: ['--http-port=1'] })).toEqual(['netexec', '--http-port=1']);
  });
});

describe('parseFlags (pflag)', () => {
  const spec = { 'http-port': 'int', verbose: 'bool', name: 'string' } as const;
  const defaults = { 'http-port': 8080, verbose: false, name: '' };
  it.each<[string[], Record<string, unknown>]>([
    [[], defaults],
    [['--http-port=9000'], { ...defaults, 'http-port': 9000 }],
    [['--http-port', '9000', '--verbose', '--name=a=b'], { 'http-port': 9000, verbose: true, name: 'a=b' }],
    [['--verbose=false'], defaults],
    [['--http-port=-1'], { ...defaults, 'http-port': -1 }],
  ])('%j', (argv, want) => expect(parseFlags(argv, spec, defaults)).toEqual(want));
  it.each<[string[], string]>([
    [['--nope'], 'unknown flag: --nope'],
    [['--http-port=x'], 'invalid argument "x" for "--http-port" flag'],
    [['--http-port'], 'flag needs an argument: --http-port'],
    [['extra'], 'unknown command "extra"'],
  ])('%j rejects with cobra text', (argv, msg) => expect(() => parseFlags(argv, spec, defaults)).toThrow(msg));
  it('never throws anything but an Error with a message', () => {
    fc.assert(fc.property(fc.array(fc.string()), (argv) => {
      try {
        parseFlags(argv, spec, defaults);
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message.length).toBeGreaterThan(0);
      }
    }));
  });
});

describe('parseGoDuration', () => {
  it.each<[string, number | undefined]>([['0', 0], ['1s', 1000], ['500ms', 500], ['1m30s', 90_000], ['1.5h', 5_400_000], ['2us', 0.002], ['', undefined], ['5', undefined], ['1x', undefined]])('%j → %j', (t, ms) => expect(parseGoDuration(t)).toBe(ms));
  it('returns a finite number or undefined for any text', () => {
    fc.assert(fc.property(fc.string(), (t) => {
      const v = parseGoDuration(t);
      expect(v === undefined || Number.isFinite(v)).toBe(true);
    }));
  });
});

describe('normalizeImage', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['bitnami/redis', 'docker.io/bitnami/redis:latest'],
    ['registry.k8s.io/e2e-test-images/agnhost:2.47', 'registry.k8s.io/e2e-test-images/agnhost:2.47'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
  ])('%s → %s', (i, want) => expect(normalizeImage(i)).toBe(want));
});

describe('describeBindError', async () => {
  const { describeBindError } = await import('../../../dataplane/node/runtime/container-process.js');
  const err = (code: string) => Object.assign(new Error(code), { code });
  it('EACCES names the fixes', () => {
    const m = describeBindError(err('EACCES'), '127.244.1.5', 80);
    expect(m).toContain('listen tcp 127.244.1.5:80: bind: permission denied');
    expect(m).toContain('sudo');
    expect(m).toContain('ip_unprivileged_port_start=0');
    expect(m).toContain('setcap cap_net_bind_service');
  });
  it('EADDRNOTAVAIL names the macOS alias', () => expect(describeBindError(err('EADDRNOTAVAIL'), '127.244.1.5', 80, 'udp')).toContain('ifconfig lo0 alias 127.244.1.5'));
});
