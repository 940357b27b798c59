/**
 * Embedding hooks. Each may answer synchronously or with a promise; a synchronous answer keeps the per-message path
 * free of promises. A hook that throws or rejects counts as a denial and is logged.
 */
import type { QoS } from '../protocol/types.js';

export interface ClientInfo {
  readonly id: string;
  readonly username: string | undefined;
  readonly remoteAddress: string | undefined;
  readonly protocolVersion: 3 | 4 | 5;
}

export interface AuthenticateRequest {
  readonly clientId: string;
  readonly username: string | undefined;
  readonly password: Buffer | undefined;
  readonly remoteAddress: string | undefined;
  readonly protocolVersion: 3 | 4 | 5;
}

export interface PublishRequest {
  readonly topic: string;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly payload: Buffer;
}

export interface SubscribeRequest {
  readonly topicFilter: string;
  readonly qos: QoS;
}

export type MaybePromise<T> = T | Promise<T>;

export interface Hooks {
  /** true accepts the connection; false refuses it (CONNACK Not authorized). */
  authenticate(request: AuthenticateRequest): MaybePromise<boolean>;
  /** true lets the message through; false drops it (3.1.1) — the publisher still gets its acknowledgement. */
  authorizePublish(client: ClientInfo, request: PublishRequest): MaybePromise<boolean>;
  /** true grants the requested QoS; a QoS number grants at most that; false refuses the filter (0x80). */
  authorizeSubscribe(client: ClientInfo, request: SubscribeRequest): MaybePromise<boolean | QoS>;
}

export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof value === 'object' && value !== null && typeof (value as Promise<T>).then === 'function';
}
