/**
 * A Secrets Manager stand-in on loopback for tests: the AWS JSON protocol for GetSecretValue,
 * so the real SDK client and Powertools Parameters run against it. `put` plays put-secret-value.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface LocalSecretsManager {
  readonly client: SecretsManagerClient;
  /** GetSecretValue requests answered so far. */
  reads(): number;
  put(secretId: string, value: string): void;
  stop(): Promise<void>;
}

export async function startLocalSecretsManager(): Promise<LocalSecretsManager> {
  const secrets = new Map<string, { value: string; version: number; created: number }>();
  let reads = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const input = JSON.parse(body || '{}') as { SecretId?: string };
      const secret = input.SecretId ? secrets.get(input.SecretId) : undefined;
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'secretsmanager.GetSecretValue') {
        res.writeHead(400).end(JSON.stringify({ __type: 'InvalidRequestException', message: `${target} is not served here` }));
        return;
      }
      reads++;
      if (!secret) {
        res.writeHead(400).end(JSON.stringify({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }));
        return;
      }
      res.writeHead(200).end(
        JSON.stringify({ ARN: input.SecretId, Name: input.SecretId, SecretString: secret.value, VersionId: `v${secret.version}`, VersionStages: ['AWSCURRENT'], CreatedDate: secret.created / 1000 }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new SecretsManagerClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  return {
    client,
    reads: () => reads,
    put(secretId, value) {
      secrets.set(secretId, { value, version: (secrets.get(secretId)?.version ?? 0) + 1, created: Date.now() });
    },
    async stop() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
