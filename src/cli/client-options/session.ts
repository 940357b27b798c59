/**
 * What the three tools share once the command line is parsed: building the client library's options from the
 * config, starting the client with the `-d` packet printer attached before the first packet, and turning a failed
 * connection into Mosquitto's messages and exit status (the CONNACK reason code, or 1).
 */
import { MqttClient } from '../../client/client.js';
import { ConnackError } from '../../client/errors.js';
import { resolveOptions, type ClientOptions } from '../../client/options.js';
import type { Packet, Properties } from '../../protocol/types.js';
import { debugLines } from '../output/debug-log.js';
import type { PrintableMessage } from '../output/message.js';
import { effectivePort, usesTls, type ClientConfig } from './config.js';
import { cliDialer, tlsOptions, TlsSettingsError } from './dialer.js';
import { connackString, connectFailure, reasonString } from './texts.js';

export interface ToolIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin?: NodeJS.ReadableStream;
  /** Registers a handler for SIGINT/SIGTERM; returns its remover. Default: the process's signals. */
  readonly onInterrupt?: (handler: () => void) => () => void;
}

export function defaultOnInterrupt(handler: () => void): () => void {
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Output helpers that honour --quiet (Mosquitto's err_printf) and keep stdout writes in order. */
export class ToolOutput {
  readonly #io: ToolIo;
  readonly #isQuiet: boolean;

  constructor(io: ToolIo, isQuiet: boolean) {
    this.#io = io;
    this.#isQuiet = isQuiet;
  }

  error(text: string): void {
    if (!this.#isQuiet) this.#io.stderr.write(text);
  }

  out(data: string | Buffer): void {
    if (data.length > 0) this.#io.stdout.write(data);
  }

  /** Resolves once everything written to stdout so far is flushed. */
  flush(): Promise<void> {
    return new Promise((resolve) => this.#io.stdout.write('', () => resolve()));
  }
}

/** The identifier the client connects with: -i, or -I plus the process id, or none (''). */
export function clientIdFor(config: ClientConfig): string {
  if (config.idPrefix !== undefined) return `${config.idPrefix}${process.pid}`;
  if (config.id !== undefined) return config.id;
  // MQTT 3.1 does not allow an empty identifier; the others let the broker accept (3.1.1) or assign (5) one.
  return config.protocolVersion === 3 ? `culex_${config.tool}_${process.pid}` : '';
}

export function buildClientOptions(config: ClientConfig): ClientOptions {
  const isTls = usesTls(config);
  const isWs = config.transport === 'ws';
  const connectProps: Properties = { ...config.properties.connect };
  delete connectProps.sessionExpiryInterval;
  // libmosquitto asks for fewer messages in flight than -C, so that no more than -C arrive before it quits.
  if (config.protocolVersion === 5 && config.messageCount > 0 && config.messageCount < 20) {
    connectProps.receiveMaximum ??= config.messageCount;
  }
  const options: ClientOptions = {
    protocol: isWs ? (isTls ? 'wss' : 'ws') : isTls ? 'mqtts' : 'mqtt',
    host: config.host,
    port: effectivePort(config),
    protocolVersion: config.protocolVersion,
    clientId: clientIdFor(config),
    clean: config.isClean,
    keepaliveSeconds: config.keepaliveSeconds,
    properties: connectProps,
    // mosquitto_sub's loop reconnects after a lost connection, once a second; pub and rr give up.
    reconnect: config.tool === 'sub' ? { initialDelayMs: 1000, maxDelayMs: 1000 } : false,
    maxInflight: Math.min(config.maxInflight, 65_535),
    useTopicAliases: false,
    dial: cliDialer(config, isTls),
  };
  if (config.sessionExpirySeconds !== undefined && config.protocolVersion === 5 && config.sessionExpirySeconds > 0) {
    options.sessionExpiryIntervalSeconds = config.sessionExpirySeconds;
  }
  if (config.username !== undefined) options.username = config.username;
  if (config.password !== undefined) options.password = config.password;
  if (isTls) options.tls = tlsOptions(config);
  if (config.will.topic !== undefined) {
    options.will = {
      topic: config.will.topic, payload: config.will.payload ?? Buffer.alloc(0), qos: config.will.qos,
      retain: config.will.isRetained, properties: config.properties.will,
    };
  }
  return options;
}

/**
 * Follows the packets for `-d` and for the message id (`%m`) of received messages: libmosquitto numbers every
 * PUBLISH, SUBSCRIBE and UNSUBSCRIBE it sends, QoS 0 included, so a QoS 0 PUBLISH shows the next number.
 */
export class PacketTracker {
  /** Packet id of the PUBLISH being delivered (0 at QoS 0). */
  lastReceivedMid = 0;
  #lastSentMid = 0;
  #clientId: string;
  readonly #print: ((line: string) => void) | undefined;

  constructor(clientId: string, print: ((line: string) => void) | undefined) {
    this.#clientId = clientId;
    this.#print = print;
  }

  /** The number libmosquitto gave the last PUBLISH, SUBSCRIBE or UNSUBSCRIBE sent. */
  get lastSentMid(): number {
    return this.#lastSentMid;
  }

  sent(p: Packet): void {
    let mid = 0;
    if (p.type === 3 || p.type === 8 || p.type === 10) {
      const id = 'packetId' in p ? p.packetId : undefined;
      if (id !== undefined) {
        this.#lastSentMid = id;
      } else if (!(p.type === 3 && p.dup)) {
        this.#lastSentMid = this.#lastSentMid === 65_535 ? 1 : this.#lastSentMid + 1;
      }
      mid = this.#lastSentMid;
    }
    this.#emit('sending', p, mid);
  }

  received(p: Packet): void {
    if (p.type === 2 && p.properties?.assignedClientIdentifier !== undefined) {
      this.#clientId = p.properties.assignedClientIdentifier;
    }
    if (p.type === 3) this.lastReceivedMid = p.packetId ?? 0;
    this.#emit('received', p, 0);
  }

  #emit(direction: 'sending' | 'received', p: Packet, mid: number): void {
    if (this.#print === undefined) return;
    for (const line of debugLines(direction, this.#clientId, p, mid)) this.#print(`${line}\n`);
  }
}

/**
 * Hands each received message to `deliver` when libmosquitto would hand it to mosquitto_sub: QoS 0 at once, QoS 1
 * once its PUBACK is sent, QoS 2 once its PUBCOMP is sent (after PUBREL). The Culex client delivers on PUBLISH,
 * before acknowledging; following Mosquitto's order keeps `-d` output and -C counting identical.
 */
export function onAcknowledgedMessage(started: StartedClient, deliver: (m: PrintableMessage) => void): void {
  const held = new Map<number, PrintableMessage>();
  started.client.on('packetSend', (p) => {
    if (p.type !== 4 && p.type !== 7) return;
    const m = held.get(p.packetId);
    if (m === undefined) return;
    held.delete(p.packetId);
    deliver(m);
  });
  started.client.on('message', (m) => {
    const printable: PrintableMessage = {
      topic: m.topic, payload: m.payload, qos: m.qos, isRetained: m.retain, mid: started.tracker.lastReceivedMid,
      ...(m.properties === undefined ? {} : { properties: m.properties }),
    };
    if (m.qos === 0) deliver(printable);
    else held.set(printable.mid, printable);
  });
}

export interface StartedClient {
  readonly client: MqttClient;
  readonly tracker: PacketTracker;
}

/**
 * Mosquitto options this implementation does not have: parsed with Mosquitto's checks (so a script's mistakes get
 * the same messages) but refused before connecting, never silently ignored.
 */
export function unsupportedOption(config: ClientConfig): string | undefined {
  const t = config.tls;
  if (config.proxy !== undefined) return '--proxy';
  if (t.psk !== undefined) return '--psk';
  if (t.engine !== undefined) return '--tls-engine';
  if (t.engineKpassSha1 !== undefined) return '--tls-engine-kpass-sha1';
  if (t.keyform !== undefined && t.keyform !== 'pem') return '--keyform engine';
  return undefined;
}

/** Creates the client (fail fast: a refused or failed first connection closes it) with the tracker attached. */
export function startClient(config: ClientConfig, output: ToolOutput): StartedClient | { exitCode: number } {
  const unsupported = unsupportedOption(config);
  if (unsupported !== undefined) {
    output.error(`Error: ${unsupported} is not supported by culex ${config.tool}.\n`);
    return { exitCode: 1 };
  }
  let options: ClientOptions;
  try {
    options = buildClientOptions(config);
  } catch (err) {
    if (!(err instanceof TlsSettingsError)) throw err;
    output.error(err.message);
    return { exitCode: 1 };
  }
  const clientId = options.clientId ?? '';
  const tracker = new PacketTracker(clientId, config.isDebug ? (line) => output.out(line) : undefined);
  const client = new MqttClient(resolveOptions(options), true);
  client.on('packetSend', (p) => tracker.sent(p));
  client.on('packetReceive', (p) => tracker.received(p));
  // The client reports failures through `ready` and 'close'; a listener keeps 'error'-style events from throwing.
  client.on('warning', () => undefined);
  return { client, tracker };
}

/**
 * Waits for CONNACK. On failure prints what the Mosquitto tool prints and returns the exit status: the reason code
 * for a refused connection, else 1.
 */
export async function awaitConnack(started: StartedClient, config: ClientConfig, output: ToolOutput):
Promise<number | undefined> {
  try {
    await started.client.ready;
    return undefined;
  } catch (err) {
    if (err instanceof ConnackError) {
      const code = err.reasonCode ?? 1;
      if (config.protocolVersion !== 5) {
        output.error(`Connection error: ${connackString(code)}\n`);
      } else if (code === 0x84 && config.tool === 'rr') {
        output.error(`Connection error: ${reasonString(code)}. culex rr only supports connecting to an MQTT v5 broker\n`);
      } else if (code === 0x84) {
        output.error(`Connection error: ${reasonString(code)}. Try connecting to an MQTT v5 broker, or use MQTT v3.x mode.\n`);
      } else {
        output.error(`Connection error: ${reasonString(code)}\n`);
      }
      if (config.tool === 'pub') {
        output.error(config.protocolVersion === 5
          ? 'Error: A network protocol error occurred when communicating with the broker.\n'
          : 'Error: The connection was refused.\n');
      }
      return code;
    }
    const code = (err as { code?: unknown }).code;
    if (code === 'MQTT_ERR_CONNECTION_LOST' || code === 'MQTT_ERR_PROTOCOL' || code === 'MQTT_ERR_SERVER_DISCONNECT') {
      output.error('Error: The connection was lost.\n');
      return 7;
    }
    const failure = connectFailure(err);
    output.error(failure.text);
    return failure.exitCode;
  }
}
