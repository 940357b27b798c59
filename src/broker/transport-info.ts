/**
 * What the transport knows about a connection that the broker and the hooks may need. The broker never looks at
 * the socket itself (it serves any Duplex); the transport fills this in when it hands the stream over.
 */
export interface TransportInfo {
  /** The listener that accepted the connection, as the composition root named it (e.g. `culex.conf:12`). */
  readonly listener: string;
  /** True when the bytes were encrypted on the wire (TLS or WSS). */
  readonly isEncrypted: boolean;
  /** `mqtt` (a byte stream) or `websockets`. */
  readonly protocol: 'mqtt' | 'websockets';
  /**
   * The username a verified TLS client certificate provides (`use_identity_as_username`: its CN;
   * `use_subject_as_username`: its subject). When set it replaces the CONNECT packet's username, and the
   * certificate counts as the credential.
   */
  readonly certificateUsername?: string;
}
