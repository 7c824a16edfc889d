/**
 * A container status's `imageID`: the image reference as containerd reports it, fully
 * qualified, so `kubectl get pod -o yaml` shows what it shows on a cluster. Pure.
 */

/** What containerd reports as the image reference: "nginx" → "docker.io/library/nginx:latest". */
export function normalizeImage(image: string): string {
  if (!image) return '';
  let ref = image;
  const firstSlash = ref.indexOf('/');
  const first = firstSlash >= 0 ? ref.slice(0, firstSlash) : '';
  const hasRegistry = firstSlash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) ref = `docker.io/${firstSlash >= 0 ? ref : `library/${ref}`}`;
  const lastPart = ref.slice(ref.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !lastPart.includes('@')) ref += ':latest';
  return ref;
}
