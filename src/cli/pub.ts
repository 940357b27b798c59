/**
 * `culex pub`: mosquitto_pub on the Culex client library. Connects, publishes the message (-m, -f, -s, -n; --repeat
 * times with --repeat-delay between them, each publish completing its QoS flow before the next), or one message per
 * line of stdin (-l), then disconnects. Output, messages and exit status follow mosquitto_pub 2.0.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PublishError } from '../client/errors.js';
import type { MqttClient } from '../client/client.js';
import type { ClientConfig } from './client-options/config.js';
import {
  awaitConnack, defaultOnInterrupt, startClient, ToolOutput, type ToolIo,
} from './client-options/session.js';
import { configOrExit, helpText, loadPayload, stdinLines } from './client-options/tool.js';
import { reasonString } from './client-options/texts.js';

export async function run(argv: string[], io: ToolIo): Promise<number> {
  const config = configOrExit('pub', argv, io);
  if (typeof config === 'number') return config;
  if (config.topic === undefined || config.publishMode === 'none') {
    io.stderr.write('Error: Both topic and message must be supplied.\n');
    io.stdout.write(helpText('pub'));
    return 1;
  }
  const output = new ToolOutput(io, config.isQuiet);
  const payload = config.publishMode === 'stdin-line' ? Buffer.alloc(0) : await loadPayload(config, io, output);
  if (payload === undefined) return 1;
  const started = startClient(config, output);
  if ('exitCode' in started) return started.exitCode;
  const { client } = started;
  const removeInterrupt = (io.onInterrupt ?? defaultOnInterrupt)(() => { void client.end({ force: true }); });
  try {
    const refused = await awaitConnack(started, config, output);
    if (refused !== undefined) return refused;
    const lost = config.publishMode === 'stdin-line'
      ? await publishLines(client, config, io, output)
      : await publishRepeated(client, config, payload, output);
    if (lost) return 7;
    await client.end();
    await output.flush();
    return 0;
  } finally {
    removeInterrupt();
  }
}

/**
 * Publishes and reports a refusal as mosquitto_pub does ("Warning: Publish 3 failed: Not authorized."). Returns
 * true when the connection was lost.
 */
async function publishOne(client: MqttClient, config: ClientConfig, payload: Buffer, output: ToolOutput, mid: number):
Promise<boolean> {
  try {
    await client.publish(config.topic!, payload, {
      qos: config.qos, retain: config.isRetained, properties: config.properties.publish,
    });
    return false;
  } catch (err) {
    if (err instanceof PublishError) {
      output.error(`Warning: Publish ${mid} failed: ${reasonString(err.reasonCode ?? 0x80)}.\n`);
      if (err.reasonString !== undefined) output.error(`${err.reasonString}\n`);
      return false;
    }
    const code = (err as { code?: unknown }).code;
    if (code === 'MQTT_ERR_CLIENT_CLOSED') return true;
    output.error('Error: The connection was lost.\n');
    return true;
  }
}

async function publishRepeated(client: MqttClient, config: ClientConfig, payload: Buffer, output: ToolOutput):
Promise<boolean> {
  for (let i = 1; i <= config.repeatCount; i++) {
    if (await publishOne(client, config, payload, output, i)) return true;
    if (i < config.repeatCount && config.repeatDelayMs > 0) await sleep(config.repeatDelayMs);
  }
  return false;
}

/** -l: one message per line, sent as lines arrive; waits for every QoS flow before disconnecting. */
async function publishLines(client: MqttClient, config: ClientConfig, io: ToolIo, output: ToolOutput):
Promise<boolean> {
  const pending: Promise<boolean>[] = [];
  let mid = 0;
  for await (const line of stdinLines(io.stdin ?? process.stdin)) {
    pending.push(publishOne(client, config, line, output, ++mid));
  }
  return (await Promise.all(pending)).some((lost) => lost);
}
