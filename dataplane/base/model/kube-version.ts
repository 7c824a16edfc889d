/**
 * The Kubernetes version whose behaviour knet follows: what the apiserver's `/version` says (and
 * kubectl's dispatcher picks its own minor from) and what the nodes report as their kubelet.
 */
export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.4+knet' } as const;
