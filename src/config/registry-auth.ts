import { readFileSync } from 'node:fs';
import { errorMessage } from '../errors.js';
import { FieldError, readableFile, type Field } from '../schema/fields.js';
import { isTable } from '../schema/table.js';

/**
 * `[runner] registry_auth`: the credentials the Docker engine is given when
 * it pulls an image, as a Docker config file holds them (what `docker login`
 * writes: `{"auths": {"<registry host>": {"auth": "<base64 of user:password>"}}}`).
 * Today the key names the file; once the config takes secret references, a
 * reference to the file's content can stand in its place, since only
 * readRegistryAuth reads it. The file is read at load (a mistake shows
 * there) and again at every pull, so changed credentials need no reload.
 */

/** What the engine takes as X-Registry-Auth for one registry. */
export interface RegistryCredentials {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

/** The credentials of a Docker config file, by registry host (`host[:port]`). */
export type RegistryAuths = ReadonlyMap<string, RegistryCredentials>;

export const registryAuthFile = (baseDir: string): Field<string> => ({
  read(value: unknown): string {
    const file = readableFile(baseDir).read(value);
    try {
      readRegistryAuth(file);
    } catch (err) {
      throw new FieldError(`must be a Docker config file with the registries' credentials: ${errorMessage(err)}`);
    }
    return file;
  },
});

/** `https://host:5000/v1/` or `host:5000` → `host:5000`: how `auths` keys and image references name a registry. */
export const registryHost = (address: string): string => address.replace(/^[a-z]+:\/\//i, '').split('/')[0]!;

/** Reads the credentials of every registry in `file`; throws an Error saying what is wrong with it. */
export function readRegistryAuth(file: string): RegistryAuths {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${file} as JSON: ${errorMessage(err)}`);
  }
  const config = isTable(raw) ? raw : {};
  const helper = typeof config.credsStore === 'string' ? `credsStore "${config.credsStore}"` : isTable(config.credHelpers) ? 'credHelpers' : undefined;
  const inHelper = helper ? `: its credentials are kept by a credential helper (${helper}), which pythond does not run` : '';
  const login = '; `DOCKER_CONFIG=<folder> docker login <registry>` writes a file with them, <folder>/config.json';
  if (!isTable(config.auths) || Object.keys(config.auths).length === 0) throw new Error(`${file} has no "auths"${inHelper}${login}`);
  const auths = new Map<string, RegistryCredentials>();
  for (const [key, entry] of Object.entries(config.auths)) {
    const where = `auths."${key}" of ${file}`;
    const serveraddress = registryHost(key);
    const { auth, username, password, identitytoken } = (isTable(entry) ? entry : {}) as Record<string, unknown>;
    if (typeof auth === 'string' && auth !== '') {
      const decoded = Buffer.from(auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 1) throw new Error(`${where}: "auth" is not the base64 of "user:password"`);
      auths.set(serveraddress, { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress });
    } else if (typeof identitytoken === 'string' && identitytoken !== '') {
      auths.set(serveraddress, { identitytoken, serveraddress });
    } else if (typeof username === 'string' && typeof password === 'string') {
      auths.set(serveraddress, { username, password, serveraddress });
    } else {
      throw new Error(`${where} holds no credentials ("auth", "identitytoken", or "username" and "password")${inHelper}${login}`);
    }
  }
  return auths;
}
