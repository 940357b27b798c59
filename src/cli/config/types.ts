/**
 * What a mosquitto.conf file parses into, and the shape of a directive. The parser (`../broker-config.ts`) owns the
 * line loop; each directive lives in a table (`general.ts`, `listeners.ts`, `tls.ts`, `logging.ts`, ...) as a
 * `Directive`, so a new area adds a table rather than editing a switch.
 */
import type { BrokerOptions } from '../../broker/config.js';
import type { LogLevel } from '../log.js';

export type ListenerProtocol = 'mqtt' | 'websockets';
export type TlsVersion = 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** Certificate-based TLS settings of one listener; TLS is on when `certFile` and `keyFile` are both set. */
export interface TlsConfig {
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  caPath?: string;
  crlFile?: string;
  dhparamFile?: string;
  /** Lowest version accepted (`tls_version`, a minimum since Mosquitto 2.0). Default TLSv1.2. */
  minVersion?: TlsVersion;
  /** OpenSSL cipher list for TLS 1.2 and earlier. */
  ciphers?: string;
  /** TLS 1.3 cipher suites. */
  ciphersTls13?: string;
  isCertificateRequired?: boolean;
  useIdentityAsUsername?: boolean;
  useSubjectAsUsername?: boolean;
}

/**
 * Authentication and authorization settings. With `per_listener_settings true` each listener has its own; otherwise
 * the broker-wide `BrokerConfig.security` applies everywhere. Fields are added by the directives that set them.
 */
export interface SecurityConfig {
  allowAnonymous?: boolean;
  /** `password_file`. */
  passwordFile?: string;
  /** `acl_file`. */
  aclFile?: string;
}

/** `culex_jwt_*`: a JWT as the password (see src/auth/jwt.ts). Exactly one key source must be given. */
export interface JwtConfig {
  secretFile?: string;
  publicKeyFile?: string;
  jwksFile?: string;
  algorithms?: string[];
  issuer?: string;
  audience?: string;
  publishClaim?: string;
  subscribeClaim?: string;
}

export interface ListenerConfig {
  /** TCP port; 0 picks a free one (for a Unix socket it is 0 and ignored). */
  port: number;
  /** Address to bind; undefined = all interfaces. */
  host?: string;
  /** Unix socket path (`listener 0 /run/culex.sock`). */
  path?: string;
  protocol: ListenerProtocol;
  /** `socket_domain`: bind only IPv4 or only IPv6. */
  socketDomain?: 'ipv4' | 'ipv6';
  /** Open sockets on this listener at once; beyond it new ones are closed. Undefined = unlimited. */
  maxConnections?: number;
  /** `enable_proxy_protocol`: every connection starts with a PROXY protocol header of this version. */
  proxyProtocol?: 1 | 2;
  tls: TlsConfig;
  security: SecurityConfig;
  /** `file:line` of the `listener` line (or of the first default-listener setting); for messages. */
  origin: string;
}

export type LogDestination =
  | { readonly kind: 'stderr' }
  | { readonly kind: 'stdout' }
  | { readonly kind: 'file'; readonly path: string };

export interface LoggingConfig {
  /** From `log_type` lines (they accumulate, as in Mosquitto); undefined = none given, use the default. */
  levels: Set<LogLevel> | undefined;
  /** From `log_dest` lines; undefined = none given (standard error). Empty = `log_dest none`. */
  destinations: LogDestination[] | undefined;
  isTimestamped: boolean;
  hasConnectionMessages: boolean;
}

/** A line that was accepted but not applied, or applied differently; the CLI logs each at startup. */
export interface ConfigWarning {
  readonly fileName: string;
  readonly line: number;
  readonly message: string;
}

/** The store settings (`store.ts` directives); undefined = not given. `culex broker` opens the store (cli/store.ts). */
export interface StoreConfig {
  /** `persistence`: the store is on unless this is false. */
  isEnabled: boolean | undefined;
  location: string | undefined;
  durability: 'sync' | 'batched' | 'none' | undefined;
  batchWindowMs: number | undefined;
  onCorruption: 'move-aside' | 'refuse' | undefined;
}

export interface BrokerConfig {
  options: BrokerOptions;
  store: StoreConfig;
  /**
   * Mosquitto's "default listener": settings given before the first `listener` line. It is opened when `port` or
   * `bind_address` is set or when there is no `listener` line (see `resolveListeners`).
   */
  defaultListener: ListenerConfig;
  /** True once `port` or `bind_address` was given. */
  hasDefaultListener: boolean;
  /** `file:line` of listener-scoped settings given before the first `listener` line (they go to the default one). */
  defaultListenerSettings: string[];
  /** One per `listener` line, in file order. */
  listeners: ListenerConfig[];
  /** `per_listener_settings`: security settings go to the current listener instead of `security`. */
  isPerListenerSettings: boolean;
  /** Broker-wide security settings (per_listener_settings false). */
  security: SecurityConfig;
  /** `culex_jwt_*`; undefined when none is given. */
  jwt?: JwtConfig;
  /** `culex_login_backoff_*`: overrides of the defaults, or `false` (off). Undefined = defaults. */
  loginBackoff?: { initialDelayMs?: number; maxDelayMs?: number; forgetAfterMs?: number } | false;
  logging: LoggingConfig;
  /** `pid_file`. */
  pidFile: string | undefined;
  /** Files read through `include_dir`, in load order. */
  includedFiles: string[];
  warnings: ConfigWarning[];
}

/** One configuration line, split into words, with a way to fail naming its file and line. */
export interface Line {
  readonly directive: string;
  readonly args: readonly string[];
  readonly fileName: string;
  readonly lineNumber: number;
  fail(problem: string): never;
  warn(message: string): void;
}

/** Parser state shared by the directives of one parse. */
export interface ParseState {
  readonly config: BrokerConfig;
  /** The listener that listener-scoped directives change: the last `listener`, or the default listener. */
  readonly currentListener: ListenerConfig;
  /** True when parsing the main file (not an `include_dir` file). */
  readonly isMainFile: boolean;
  /** Values combined after the whole file is read (e.g. two limits where the tighter one wins). */
  readonly pending: Map<string, number>;
  /** Reads `*.conf` files of a directory for `include_dir`. */
  readonly readIncludeDir: IncludeDirReader | undefined;
  /** Parses text as part of this configuration (used by `include_dir`). */
  parseIncluded(text: string, fileName: string): void;
  /** Starts a new `listener` block. */
  startListener(listener: ListenerConfig): void;
  /** True once a security-scoped directive was applied (per_listener_settings must come before). */
  readonly seenSecurity: boolean;
}

export type IncludeDirReader = (dir: string) => { fileName: string; text: string }[];

/** Where a directive's settings go. */
export type DirectiveScope = 'global' | 'listener' | 'security';

export interface Directive {
  readonly name: string;
  readonly scope: DirectiveScope;
  apply(line: Line, state: ParseState): void;
}
