/** The node agent component (kubelet analog): one entry, startNodeAgent. */
export { startNodeAgent, type NodeAgentOptions, type NodeAgentHandle } from './node-agent.js';
