/**
 * The credentials of an HTTP output: basic authentication (username and
 * password) or a token (`token`, `bearer_token`), never both. Plain values
 * today; each is one key, so a secret reference can take a literal's place.
 */
export interface Credentials {
  username: string | undefined;
  password: string | undefined;
  /** The token key's value. */
  token: string | undefined;
}

/** The rules between the credential keys; `tokenKey` names the token's key in messages. */
export function checkCredentials(credentials: Credentials, tokenKey: string): { key: string; message: string }[] {
  const { username, password, token } = credentials;
  const problems: { key: string; message: string }[] = [];
  if (username !== undefined && password === undefined) problems.push({ key: 'password', message: 'is required when username is set' });
  if (password !== undefined && username === undefined) problems.push({ key: 'username', message: 'is required when password is set' });
  if (token !== undefined && username !== undefined)
    problems.push({ key: tokenKey, message: 'cannot be combined with username and password; keep one of them' });
  return problems;
}

/** The Authorization header: `Basic ...`, or the token under `scheme` (`Token` for InfluxDB, `Bearer`). */
export function authorization(credentials: Credentials, scheme: string): Record<string, string> {
  if (credentials.token !== undefined) return { authorization: `${scheme} ${credentials.token}` };
  if (credentials.username !== undefined) {
    return { authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password ?? ''}`).toString('base64')}` };
  }
  return {};
}
