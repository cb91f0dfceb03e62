import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BackendError } from '../../core/errors.js';
import { checkedKey } from '../../backends/openai.js';

/** A key read from Secrets Manager is kept this long, so a rotation is picked up within it. */
export const SECRET_TTL_MS = 5 * 60_000;

/**
 * An external model's API key, read from a Secrets Manager secret (its string value) and
 * cached for {@link SECRET_TTL_MS}; concurrent calls share one read. The function may read
 * this secret only (`grantBackends`). A secret that cannot be read fails the call with the
 * cause and the fix, never with the key.
 */
export function secretApiKey(client: SecretsManagerClient, secretId: string, now: () => number = Date.now): () => Promise<string> {
  let cached: { value: Promise<string>; until: number } | undefined;
  return () => {
    if (cached && cached.until > now()) return cached.value;
    const value = client.send(new GetSecretValueCommand({ SecretId: secretId })).then(
      (out) => {
        const key = out.SecretString?.trim();
        if (!key) throw new BackendError(`The secret ${secretId} holds no string: store the external model's API key as its secret string.`);
        return checkedKey(key, `the secret ${secretId}`);
      },
      (error: unknown) => {
        if (error instanceof BackendError) throw error;
        throw new BackendError(`The API key could not be read from the secret ${secretId} (${(error as Error).name}): check that it exists and that the scoring function may read it.`, { cause: error });
      },
    );
    cached = { value, until: now() + SECRET_TTL_MS };
    // A failed read is not kept: the next call tries again.
    value.catch(() => {
      if (cached?.value === value) cached = undefined;
    });
    return value;
  };
}
