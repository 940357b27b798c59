/**
 * Authentication and authorization directives: Mosquitto's `allow_anonymous`, `password_file`, `acl_file` (security
 * scope: per listener with `per_listener_settings true`), and Culex's own `culex_jwt_*` and `culex_login_backoff_*`
 * (broker-wide). The CLI turns them into auth links (`../broker-auth.ts`).
 */
import type { BrokerConfig, Directive, JwtConfig } from './types.js';
import { bool, int, MAX_TIMER_MS, one, rest, securityOf } from './values.js';

const global = (name: string, apply: Directive['apply']): Directive => ({ name, scope: 'global', apply });
const security = (name: string, apply: Directive['apply']): Directive => ({ name, scope: 'security', apply });

const jwtAlgorithms: ReadonlySet<string> = new Set([
  'HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
  'Ed25519',
]);

function jwt(config: BrokerConfig): JwtConfig {
  config.jwt ??= {};
  return config.jwt;
}

function backoff(config: BrokerConfig): { initialDelayMs?: number; maxDelayMs?: number; forgetAfterMs?: number } {
  if (config.loginBackoff === false) return {};
  config.loginBackoff ??= {};
  return config.loginBackoff;
}

export const authDirectives: readonly Directive[] = [
  security('allow_anonymous', (line, state) => {
    securityOf(state).allowAnonymous = bool(line);
  }),
  security('password_file', (line, state) => {
    securityOf(state).passwordFile = rest(line);
  }),
  security('acl_file', (line, state) => {
    securityOf(state).aclFile = rest(line);
  }),
  global('culex_jwt_secret_file', (line, { config }) => {
    jwt(config).secretFile = rest(line);
  }),
  global('culex_jwt_public_key_file', (line, { config }) => {
    jwt(config).publicKeyFile = rest(line);
  }),
  global('culex_jwt_jwks_file', (line, { config }) => {
    jwt(config).jwksFile = rest(line);
  }),
  global('culex_jwt_algorithms', (line, { config }) => {
    const algorithms = line.args.join(',').split(',').filter((a) => a !== '');
    if (algorithms.length === 0) line.fail('Missing value for "culex_jwt_algorithms"');
    for (const alg of algorithms) {
      if (!jwtAlgorithms.has(alg)) {
        line.fail(`Bad value "${alg}" for "culex_jwt_algorithms" (supported: ${[...jwtAlgorithms].join(', ')})`);
      }
    }
    jwt(config).algorithms = algorithms;
  }),
  global('culex_jwt_issuer', (line, { config }) => {
    jwt(config).issuer = one(line);
  }),
  global('culex_jwt_audience', (line, { config }) => {
    jwt(config).audience = one(line);
  }),
  global('culex_jwt_publish_claim', (line, { config }) => {
    jwt(config).publishClaim = one(line);
  }),
  global('culex_jwt_subscribe_claim', (line, { config }) => {
    jwt(config).subscribeClaim = one(line);
  }),
  global('culex_login_backoff_initial_ms', (line, { config }) => {
    const ms = int(line, 0, MAX_TIMER_MS, 'milliseconds >= 0 (0 turns the back-off off)');
    if (ms === 0) config.loginBackoff = false;
    else backoff(config).initialDelayMs = ms;
  }),
  global('culex_login_backoff_max_ms', (line, { config }) => {
    backoff(config).maxDelayMs = int(line, 1, MAX_TIMER_MS, 'a positive number of milliseconds');
  }),
  global('culex_login_backoff_forget_ms', (line, { config }) => {
    backoff(config).forgetAfterMs = int(line, 1, MAX_TIMER_MS, 'a positive number of milliseconds');
  }),
];
