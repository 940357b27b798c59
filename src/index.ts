/**
 * The public API of the `culex` package. Everything exported here is supported; nothing else is.
 */
export * from './protocol/types.js';
export { ReasonCode, ConnackReturnCode } from './protocol/reason-codes.js';
export { ProtocolError } from './protocol/errors.js';
