/**
 * A failed bind turned into a sentence a user can act on: which address, why, and the fix
 * (DESIGN.md §1 names the privilege fixes and the macOS alias).
 */
export function describeBindError(err: NodeJS.ErrnoException, protocol: string, address: string, port: number): string {
  const where = `${address}:${port}/${protocol}`;
  switch (err.code) {
    case 'EACCES':
      return (
        `cannot bind ${where}: ports below 1024 need privilege. Fix: run knet with sudo, ` +
        `or \`sudo sysctl net.ipv4.ip_unprivileged_port_start=0\`, ` +
        `or \`sudo setcap cap_net_bind_service=+ep $(readlink -f $(which node))\``
      );
    case 'EADDRINUSE':
      return (
        `cannot bind ${where}: another program holds it (or 0.0.0.0:${port}). ` +
        `Fix: find it with \`ss -lpn 'sport = :${port}'\` and stop it or move it to another port`
      );
    case 'EADDRNOTAVAIL':
      return (
        `cannot bind ${where}: the address is not on a local interface. ` +
        (process.platform === 'darwin'
          ? `Fix: \`sudo ifconfig lo0 alias ${address} up\` (macOS has only 127.0.0.1 on lo0)`
          : `Fix: use an address in 127.0.0.0/8 for this cluster`)
      );
    default:
      return `cannot bind ${where}: ${err.message}`;
  }
}
