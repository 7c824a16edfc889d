/**
 * The ports well-known HTTP server images listen on without being told (their EXPOSE), so the
 * tutorial path works as on a cluster: `kubectl create deployment web --image=nginx` declares no
 * containerPort, yet `kubectl expose deployment web --port=80` then `curl` reaches nginx on 80.
 * The identity responder answers on these besides the declared containerPorts (a declared port
 * is informational to Kubernetes; the program decides where it listens). Images not listed
 * answer on their declared ports only. Pure.
 */
const DEFAULT_PORTS: Array<[RegExp, number[]]> = [
  [/^(nginx|nginxinc\/nginx-unprivileged|bitnami\/nginx)$/, [80]],
  [/^nginxdemos\/hello$/, [80]],
  [/^(httpd|caddy|traefik\/whoami|containous\/whoami|kennethreitz\/httpbin|ealen\/echo-server)$/, [80]],
  [/^(mccutchen\/go-httpbin|jmalloc\/echo-server|paulbouwer\/hello-kubernetes|google-samples\/hello-app|kicbase\/echo-server)$/, [8080]],
  [/^hashicorp\/http-echo$/, [5678]],
];

/** The image's repository without registry, `library/`, tag or digest: "docker.io/library/nginx:1.27" → "nginx". */
export function imageRepository(image: string): string {
  let name = image.split('@')[0]!;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > slash) name = name.slice(0, colon);
  const parts = name.split('/');
  // A first part with a dot or colon, or "localhost", is a registry.
  if (parts.length > 1 && (/[.:]/.test(parts[0]!) || parts[0] === 'localhost')) parts.shift();
  if (parts[0] === 'library') parts.shift();
  return parts.join('/');
}

export function imageDefaultPorts(image: string | undefined): number[] {
  if (!image) return [];
  const repo = imageRepository(image);
  return DEFAULT_PORTS.find(([re]) => re.test(repo))?.[1] ?? [];
}
