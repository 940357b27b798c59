/**
 * Turns the configuration's auth settings into the broker's links (src/auth/), in Culex's fixed order: JWT, then
 * the password file (authentication); JWT claims, then the ACL file (authorization).
 *
 * With `per_listener_settings true` every listener gets its own chain (its own `password_file`, `acl_file`,
 * `allow_anonymous`; JWT settings are broker-wide) and one dispatching link picks the chain of the listener a client
 * came in on (`TransportInfo.listener`). A file named by several listeners is loaded once.
 *
 * `reload()` re-reads every file (SIGHUP): a file that fails to load keeps its previous contents and the failure is
 * logged, so a typo in an edited file does not lock everybody out.
 */
import { readFile } from 'node:fs/promises';
import type { JSONWebKeySet } from 'jose';
import { AclFileAuth } from '../auth/acl-file.js';
import type { JwtAuth, JwtAuthOptions } from '../auth/jwt.js';
import { PasswordFileAuth } from '../auth/password-file.js';
import type { BrokerOptions } from '../broker/config.js';
import { buildAuthChecks, isPromise, type AuthChecks, type AuthLink, type Verdict } from '../broker/hooks.js';
import type { Logger } from '../broker/logger.js';
import type { QoS } from '../protocol/types.js';
import type { BrokerConfig, JwtConfig, ListenerConfig, SecurityConfig } from './broker-config.js';

export interface BrokerAuth {
  /** Broker options: `authLinks`, `allowAnonymous`, `loginBackoff`. */
  readonly options: Pick<BrokerOptions, 'authLinks' | 'allowAnonymous' | 'loginBackoff'>;
  /** Re-reads the password, ACL and JWT key files; resolves once done (failures are logged, not thrown). */
  reload(): Promise<void>;
}

/** A link that forwards to a replaceable target, so a reloaded JWT key set takes effect without a new chain. */
class ReplaceableJwt implements AuthLink {
  readonly name = 'jwt';
  target: JwtAuth;
  constructor(target: JwtAuth) {
    this.target = target;
  }
  authenticate: NonNullable<AuthLink['authenticate']> = (r) => this.target.authenticate(r);
  authorizePublish: NonNullable<AuthLink['authorizePublish']> = (c, r) => this.target.authorizePublish(c, r);
  authorizeSubscribe: NonNullable<AuthLink['authorizeSubscribe']> = (c, r) => this.target.authorizeSubscribe(c, r);
  authorizeRead: NonNullable<AuthLink['authorizeRead']> = (c, t) => this.target.authorizeRead(c, t);
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`Unable to open ${what} "${path}": ${(err as Error).message}`, { cause: err });
  }
}

async function loadJwt(config: JwtConfig): Promise<JwtAuth> {
  const options: { -readonly [K in keyof JwtAuthOptions]: JwtAuthOptions[K] } = {
    algorithms: config.algorithms, issuer: config.issuer, audience: config.audience,
    publishClaim: config.publishClaim, subscribeClaim: config.subscribeClaim,
  };
  if (config.secretFile !== undefined) {
    options.secret = (await readText(config.secretFile, 'culex_jwt_secret_file')).replace(/\r?\n$/, '');
  }
  if (config.publicKeyFile !== undefined) {
    options.publicKeyPem = await readText(config.publicKeyFile, 'culex_jwt_public_key_file');
  }
  if (config.jwksFile !== undefined) {
    const text = await readText(config.jwksFile, 'culex_jwt_jwks_file');
    try {
      options.jwks = JSON.parse(text) as JSONWebKeySet;
    } catch (err) {
      throw new Error(`culex_jwt_jwks_file "${config.jwksFile}" is not JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  // Loaded only when JWT is configured: `jose` costs start-up time every `culex broker` would otherwise pay.
  const { JwtAuth: Jwt } = await import('../auth/jwt.js');
  return Jwt.create(options);
}

/** Loads each password and ACL file once, however many listeners name it. */
class FileLinks {
  readonly passwords = new Map<string, PasswordFileAuth>();
  readonly acls = new Map<string, AclFileAuth>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  async linksFor(security: SecurityConfig, jwt: AuthLink | undefined): Promise<AuthLink[]> {
    const links: AuthLink[] = jwt === undefined ? [] : [jwt];
    if (security.passwordFile !== undefined) {
      let link = this.passwords.get(security.passwordFile);
      if (link === undefined) {
        link = new PasswordFileAuth(security.passwordFile, this.#logger);
        await link.load();
        this.passwords.set(security.passwordFile, link);
      }
      links.push(link);
    }
    if (security.aclFile !== undefined) {
      let link = this.acls.get(security.aclFile);
      if (link === undefined) {
        link = new AclFileAuth(security.aclFile);
        await link.load();
        this.acls.set(security.aclFile, link);
      }
      links.push(link);
    }
    return links;
  }
}

const toVerdict = (isAllowed: boolean): Verdict => (isAllowed ? 'allow' : 'deny');
const toGrant = (a: boolean | QoS): Verdict | QoS => (typeof a === 'number' ? a : toVerdict(a));

/** `per_listener_settings true`: one chain per listener, chosen by the listener the client came in on. */
function perListenerLink(chains: ReadonlyMap<string, AuthChecks>, fallback: AuthChecks): AuthLink {
  const of = (listener: string | undefined): AuthChecks => (listener === undefined ? fallback : chains.get(listener) ?? fallback);
  return {
    name: 'per_listener_settings',
    authenticate: (request) => {
      const check = of(request.transport?.listener).authenticate;
      if (check === undefined) return 'allow';
      const answer = check(request);
      return isPromise(answer) ? answer.then(toVerdict) : toVerdict(answer);
    },
    authorizePublish: (client, request) => {
      const check = of(client.transport?.listener).authorizePublish;
      if (check === undefined) return 'allow';
      const answer = check(client, request);
      return isPromise(answer) ? answer.then(toVerdict) : toVerdict(answer);
    },
    authorizeSubscribe: (client, request) => {
      const check = of(client.transport?.listener).authorizeSubscribe;
      if (check === undefined) return 'allow';
      const answer = check(client, request);
      return isPromise(answer) ? answer.then(toGrant) : toGrant(answer);
    },
    authorizeRead: (client, topic) => {
      const check = of(client.transport?.listener).authorizeRead;
      return check === undefined ? 'allow' : toVerdict(check(client, topic));
    },
  };
}

/**
 * Loads every configured file; throws (with a message for the user) when one cannot be used at startup.
 * `listeners` are the listeners the CLI opens (for per-listener settings).
 */
export async function createBrokerAuth(config: BrokerConfig, listeners: readonly ListenerConfig[], logger: Logger):
Promise<BrokerAuth> {
  let jwt: ReplaceableJwt | undefined;
  if (config.jwt !== undefined) jwt = new ReplaceableJwt(await loadJwt(config.jwt));
  const files = new FileLinks(logger);
  let options: BrokerAuth['options'];
  if (!config.isPerListenerSettings) {
    const links = await files.linksFor(config.security, jwt);
    options = { authLinks: links, allowAnonymous: config.security.allowAnonymous };
  } else {
    const chainOf = async (security: SecurityConfig): Promise<AuthChecks> => buildAuthChecks({},
      await files.linksFor(security, jwt), { allowAnonymous: security.allowAnonymous, logger });
    const chains = new Map<string, AuthChecks>();
    for (const listener of listeners) chains.set(listener.origin, await chainOf(listener.security));
    options = { authLinks: [perListenerLink(chains, await chainOf(config.defaultListener.security))] };
  }
  const reloadOne = async (what: string, load: () => Promise<void>): Promise<void> => {
    try {
      await load();
      logger.info(`Reloaded ${what}.`);
    } catch (err) {
      logger.error(`Error: reloading ${what} failed, keeping the previous one: ${(err as Error).message}`);
    }
  };
  return {
    options: { ...options, loginBackoff: config.loginBackoff ?? {} },
    async reload() {
      if (jwt !== undefined && config.jwt !== undefined) {
        const target = jwt;
        const jwtConfig = config.jwt;
        await reloadOne('JWT keys', async () => {
          target.target = await loadJwt(jwtConfig);
        });
      }
      for (const link of files.passwords.values()) await reloadOne(`password file ${link.path}`, () => link.load());
      for (const link of files.acls.values()) await reloadOne(`acl_file ${link.path}`, () => link.load());
    },
  };
}
