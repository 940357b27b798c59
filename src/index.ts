/**
 * The public API of the `culex` package. Everything exported here is supported; nothing else is.
 */
export * from './protocol/types.js';
export { ReasonCode, ConnackReturnCode } from './protocol/reason-codes.js';
export { ProtocolError } from './protocol/errors.js';
export { createBroker, CulexBroker } from './create-broker.js';
export { Broker, type BrokerEvents, type DisconnectClientOptions } from './broker/broker.js';
export { ConfigError, defaultOptions, type BrokerOptions, type ServerRedirect } from './broker/config.js';
export type {
  Hooks, ClientInfo, AuthenticateRequest, PublishRequest, SubscribeRequest, AuthLink, AuthState, Verdict, MaybePromise,
} from './broker/hooks.js';
export type { LoginBackoffOptions } from './broker/login-backoff.js';
export { PasswordFileAuth, parsePasswordFile } from './auth/password-file.js';
export { hashPassword, verifyPassword, parsePasswordHash, type PasswordHash } from './auth/password-hash.js';
export { AclFileAuth, AclFileError, parseAclFile } from './auth/acl-file.js';
export { JwtAuth, type JwtAuthOptions } from './auth/jwt.js';
export type {
  EnhancedAuthContext, EnhancedAuthExchange, EnhancedAuthMethod, EnhancedAuthStep,
} from './broker/hooks.js';
export {
  scramCredential, scramSha256, type ScramCredential, type ScramCredentials, type ScramOptions,
} from './broker/scram-sha-256.js';
export type { Logger } from './broker/logger.js';
export type { Message } from './broker/message.js';
export { MemoryPersistence } from './persistence/memory/memory-persistence.js';
export type {
  Persistence, RestoredState, StoredDelayedWill, StoredMessage, StoredOutgoing, StoredSession, StoredSubscription,
} from './persistence/persistence.js';
export { listenTcp, type TcpListenOptions, type TcpListener } from './transport/tcp.js';
export { listen, type Listener, type ListenerOptions, type ListenerTlsOptions, type StreamHandler } from './transport/listener.js';
export { loadTlsFiles, type TlsFiles } from './transport/tls.js';
export type { TransportInfo } from './broker/transport-info.js';
export * from './client/index.js';
