/** The apiserver component (kube-apiserver analog): one entry, startApiServer. */
export { startApiServer, type ApiServer, type ApiServerOptions } from './apiserver.js';
