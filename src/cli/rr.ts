/**
 * `culex rr`: mosquitto_rr on the Culex client library. MQTT 5 by default: subscribes to the response topic (-e),
 * and once the SUBACK arrives publishes the request to -t with that Response Topic (plus any -D publish properties,
 * e.g. correlation-data), then prints the first response as `culex sub` would (-v, -N, -F, --json) and exits 0.
 * -W gives up after a timeout (exit 27, "Timed out").
 */
import type { MqttClient } from './../client/client.js';
import type { ClientConfig } from './client-options/config.js';
import {
  awaitConnack, defaultOnInterrupt, onAcknowledgedMessage, startClient, ToolOutput, type StartedClient, type ToolIo,
} from './client-options/session.js';
import { configOrExit, loadPayload } from './client-options/tool.js';
import { systemClock } from './output/message.js';
import { renderMessage } from './output/printer.js';

type Outcome = 'done' | 'timeout' | 'lost';

export async function run(argv: string[], io: ToolIo): Promise<number> {
  const config = configOrExit('rr', argv, io);
  if (typeof config === 'number') return config;
  if (config.topic === undefined || config.publishMode === 'none' || config.responseTopic === undefined) {
    io.stderr.write("Error: All of topic, message, and response topic must be supplied.\n\nUse 'culex rr --help' to see usage.\n");
    return 1;
  }
  const output = new ToolOutput(io, config.isQuiet);
  if (config.publishMode === 'stdin-line') config.publishMode = 'stdin-file';
  const payload = await loadPayload(config, io, output);
  if (payload === undefined) return 1;
  if (config.protocolVersion === 5) config.properties.publish.responseTopic = config.responseTopic;
  const started = startClient(config, output);
  if ('exitCode' in started) return started.exitCode;
  const { promise: outcome, resolve: finish } = deferred<Outcome>();
  const timer = config.timeoutSeconds > 0 ? setTimeout(() => finish('timeout'), config.timeoutSeconds * 1000) : undefined;
  const removeInterrupt = (io.onInterrupt ?? defaultOnInterrupt)(() => finish('done'));
  listen(started, config, output, () => finish('done'));
  try {
    const refused = await awaitConnack(started, config, output);
    if (refused !== undefined) return refused;
    started.client.on('close', (error) => { if (error !== undefined) finish('lost'); });
    request(started.client, config, payload);
    const result = await outcome;
    if (result === 'lost') {
      output.error('Error: The connection was lost.\n');
      return 7;
    }
    await started.client.end({ force: result === 'timeout' });
    await output.flush();
    if (result === 'timeout') {
      output.error('Timed out\n');
      return 27;
    }
    return 0;
  } finally {
    clearTimeout(timer);
    removeInterrupt();
  }
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: ((value: T) => void) | undefined;
  const promise = new Promise<T>((r) => { resolve = r; });
  // The executor runs synchronously, so resolve is set here.
  return { promise, resolve: resolve! };
}

/** Prints responses on the response topic until -C (1 by default) of them arrived. */
function listen(started: StartedClient, config: ClientConfig, output: ToolOutput, done: () => void): void {
  let count = 0;
  onAcknowledgedMessage(started, (m) => {
    if (count >= config.messageCount || m.topic !== config.responseTopic) return;
    if (m.isRetained && config.isNoRetain) return;
    output.out(renderMessage(m, config, systemClock, (line) => output.error(line)));
    if (++count >= config.messageCount) done();
  });
}

/** Subscribes to the response topic, and publishes the request once the broker acknowledged the subscription. */
function request(client: MqttClient, config: ClientConfig, payload: Buffer): void {
  const v5Options = config.protocolVersion === 5 ? { retainHandling: config.isNoRetain ? 2 as const : 0 as const } : {};
  client.subscribe(config.responseTopic!, { qos: config.qos, ...v5Options, properties: config.properties.subscribe })
    .then(() => client.publish(config.topic!, payload, {
      qos: config.qos, retain: config.isRetained, properties: config.properties.publish,
    }))
    .catch(() => undefined);
}
