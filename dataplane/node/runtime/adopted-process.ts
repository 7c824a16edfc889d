/**
 * A program started by an earlier run of this node agent and taken back after the agent was
 * restarted, as the kubelet keeps the running containers it finds when it starts.
 *
 * It is not our child, so no exit event reaches us and its exit code died with the agent that
 * was its parent. Its exit is seen by looking at /proc every `pollMs` (the kubelet's PLEG
 * relists containers every second, too), every 10 ms once we have signalled it; then the rest
 * of its process group is killed, as for any container whose main process exited. Its output
 * still reaches its log: a program writes to its log file directly (process-container.ts).
 *
 * Its exit is reported as 137 (SIGKILL) when we killed it, and otherwise as the kubelet reports
 * a container it lost track of: ContainerStatusUnknown, exit code 137.
 */
import type { ContainerExit, ContainerProcess, StopSignal } from './container-process.js';
import { isRunning, killGroup, signalGroup, signalProcess, type ProcessIdentity } from './process-identity.js';

export const ADOPTED_EXIT_UNKNOWN =
  'The container was started by an earlier run of the node agent and taken back after the agent restarted; only its parent, that earlier run, could learn its exit code';

export function adoptProcess(identity: ProcessIdentity, pollMs = 1000): ContainerProcess {
  let resolveExit!: (e: ContainerExit) => void;
  const exited = new Promise<ContainerExit>((r) => (resolveExit = r));
  let timer: NodeJS.Timeout | undefined;
  let signalled = false;
  let killed = false;
  let done = false;

  const look = () => {
    timer = undefined;
    if (isRunning(identity)) {
      timer = setTimeout(look, signalled ? 10 : pollMs);
      return;
    }
    done = true;
    // The main process is gone: the rest of its group goes too, before the exit is reported.
    void killGroup(identity).then(() => resolveExit(killed ? { exitCode: 137, signal: 9 } : { exitCode: 137, statusUnknown: ADOPTED_EXIT_UNKNOWN }));
  };
  timer = setTimeout(look, pollMs);

  return {
    exited,
    identity,
    signal(sig: StopSignal) {
      if (done) return;
      signalled = true;
      if (sig === 'SIGKILL') {
        killed = true;
        signalGroup(identity, 'SIGKILL');
      } else {
        // As for our own programs: SIGTERM to the main process only (PID 1 of its container).
        signalProcess(identity, 'SIGTERM');
      }
      clearTimeout(timer);
      timer = setTimeout(look, 10);
    },
  };
}
