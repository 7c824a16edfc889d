/** The controller-manager component (kube-scheduler + kube-controller-manager analog): one entry, startControllerManager. */
export { startControllerManager, type ControllerManagerOptions, type ControllerManager } from './controller-manager.js';
