/**
 * Where the secrets come from, read with a TTL (OP-5): a token rotated in Secrets Manager takes
 * effect within {@link SECRET_MAX_AGE_SECONDS}, and at once where a caller asks for it again —
 * after the CRM refused a token, or a webhook signature did not match. Powertools Parameters
 * caches the secret between reads.
 *
 * - On AWS: the one JSON secret named by SCRM_SECRET_ARN (RUN-1).
 * - Locally: environment variables of the same names; `set` plays a put-secret-value.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ConfigError, parseSecrets, type Secrets } from './config.ts';
import { ENV, SECRET_KEYS } from './resources.ts';

/** Longest a secret value is used before it is read again. */
export const SECRET_MAX_AGE_SECONDS = 300;

export interface SecretSource {
  /** The secrets, read again when the cached copy is older than the TTL. */
  current(): Promise<Secrets>;
  /** The secrets read again now (a token was refused: it may have been rotated). */
  refresh(): Promise<Secrets>;
  /** When the secret's current value was written (put-secret-value), if the source knows. */
  writtenAt(): Promise<number | undefined>;
}

/** The one JSON secret in Secrets Manager. */
export class SecretsManagerSource implements SecretSource {
  private readonly provider: SecretsProvider;

  constructor(
    private readonly arn: string,
    options: { client?: SecretsManagerClient; maxAgeSeconds?: number } = {},
  ) {
    this.provider = new SecretsProvider(options.client ? { awsSdkV3Client: options.client } : {});
    this.maxAge = options.maxAgeSeconds ?? SECRET_MAX_AGE_SECONDS;
  }

  private readonly maxAge: number;

  async writtenAt(): Promise<number | undefined> {
    const version = await this.provider.client.send(new GetSecretValueCommand({ SecretId: this.arn }));
    return version.CreatedDate?.getTime();
  }

  current(): Promise<Secrets> {
    return this.read(false);
  }

  refresh(): Promise<Secrets> {
    return this.read(true);
  }

  private async read(forceFetch: boolean): Promise<Secrets> {
    let value: unknown;
    try {
      value = await this.provider.get(this.arn, { transform: 'json', maxAge: this.maxAge, forceFetch });
    } catch (error) {
      if (error instanceof Error && error.name === 'TransformParameterError') {
        throw new ConfigError(`Invalid secrets: ${this.arn} must hold a JSON object with ${Object.values(SECRET_KEYS).join(', ')}`);
      }
      throw error;
    }
    // Powertools hands back the same object while it is cached: it is validated once.
    if (value !== this.lastRaw || !this.lastParsed) {
      this.lastParsed = parseSecrets(value);
      this.lastRaw = value;
    }
    return this.lastParsed;
  }

  private lastRaw: unknown;
  private lastParsed: Secrets | undefined;
}

/** Secrets from environment variables (the local stack and tests). */
export class EnvSecrets implements SecretSource {
  private values: Record<string, string | undefined>;
  private parsed: Secrets;

  constructor(env: Record<string, string | undefined>) {
    this.values = Object.fromEntries(Object.values(SECRET_KEYS).map((key) => [key, env[key]]).concat(ROTATION_KEYS.map((key) => [key, env[key]])));
    this.parsed = parseSecrets(this.values);
  }

  async current(): Promise<Secrets> {
    return this.parsed;
  }

  refresh(): Promise<Secrets> {
    return this.current();
  }

  /** Environment variables carry no write date: only `<KEY>_ROTATED_AT` says when a token was rotated. */
  async writtenAt(): Promise<number | undefined> {
    return undefined;
  }

  /** A new value for some keys, as `put-secret-value` would write it. */
  set(values: Readonly<Record<string, string>>): void {
    this.values = { ...this.values, ...values };
    this.parsed = parseSecrets(this.values);
  }
}

const ROTATION_KEYS = Object.values(SECRET_KEYS).map((key) => `${key}_ROTATED_AT`);

/** The source the environment names: Secrets Manager when SCRM_SECRET_ARN is set, else env vars. */
export function secretSourceFor(env: Record<string, string | undefined>, client?: SecretsManagerClient): SecretSource {
  const arn = env[ENV.secretArn];
  return arn ? new SecretsManagerSource(arn, client ? { client } : {}) : new EnvSecrets(env);
}
