/**
 * Starts the implementation image-selection.ts chose for a container (README "Which
 * implementation runs a container"): an agnhost emulation, the echoserver, a toolbox image in the
 * pod's simulated shell, a real process, or the identity responder.
 */
import { startLiveness, startPause, startServeHostname } from './agnhost-commands.js';
import { startNetexec } from './agnhost-netexec.js';
import type { ContainerContext, ContainerProcess } from './container-process.js';
import { startEchoserverContainer } from './echoserver-container.js';
import { startToolboxContainer } from './toolbox-container.js';
import { startIdentityResponder } from './identity-responder.js';
import { chooseEmulation } from './image-selection.js';
import { startProcessContainer } from './process-container.js';
import type { PodSandbox } from '../shell/pod-sandbox.js';

/** `sandbox`: the pod's simulated shell (toolbox images need it); `baseEnv`: a process's inherited environment. */
export function startImplementation(ctx: ContainerContext, sandbox: PodSandbox | undefined, baseEnv: Record<string, string>): Promise<ContainerProcess> {
  const choice = chooseEmulation(ctx.container.image, ctx.command, ctx.args);
  switch (choice.kind) {
    case 'agnhost': {
      const start = { netexec: startNetexec, 'serve-hostname': startServeHostname, pause: startPause, liveness: startLiveness }[choice.command];
      return start(ctx, choice.flags);
    }
    case 'echoserver':
      return startEchoserverContainer(ctx);
    case 'toolbox':
      if (!sandbox) throw new Error('a toolbox image needs the pod sandbox (startPod without `sandbox`)');
      return startToolboxContainer(ctx, sandbox);
    case 'process':
      return startProcessContainer(ctx, baseEnv);
    case 'identity':
      if (choice.note) ctx.log.write(choice.note + '\n', 'stderr');
      return startIdentityResponder(ctx);
  }
}
