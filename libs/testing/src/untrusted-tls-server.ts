import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { RequestListener } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export interface UntrustedTlsServer {
  /** https://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The self-signed certificate (PEM), for a client told to trust it (NODE_EXTRA_CA_CERTS). */
  certificatePath: string;
  /** TCP connections opened to it: one per try, since a client that does not trust the certificate breaks each off. */
  connections(): number;
  stop(): Promise<void>;
}

/**
 * An https server on loopback with a self-signed certificate for 127.0.0.1 (and `hostName`, reached
 * through a proxy), as a Gitea or registry with a private CA looks to a client that was not given
 * that CA: every handshake is refused.
 */
export async function startUntrustedTlsServer(handler: RequestListener, hostName?: string): Promise<UntrustedTlsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'untrusted-tls-'));
  try {
    const [keyPath, certPath] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
    await execa('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', `subjectAltName=IP:127.0.0.1${hostName ? `,DNS:${hostName}` : ''}`]);
    const server = createServer({ key: await readFile(keyPath), cert: await readFile(certPath) }, handler);
    let connections = 0;
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    return {
      url: `https://127.0.0.1:${port}`,
      port,
      certificatePath: certPath,
      connections: () => connections,
      stop: async () => {
        await new Promise((resolve) => server.close(resolve));
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
