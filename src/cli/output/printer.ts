/**
 * What `culex sub` and `culex rr` print for one received message, as mosquitto_sub's print_message: `-F` format,
 * else `-v` ("topic payload", or "topic (null)" for an empty payload), else the payload alone (nothing for an empty
 * one); an end of line unless -N. `--json` (Culex) prints one JSON object per line instead.
 */
import { printCJson } from './cjson.js';
import { formatMessage } from './format.js';
import { culexJson } from './json.js';
import type { Clock, PrintableMessage } from './message.js';

export interface PrintOptions {
  readonly format: string | undefined;
  readonly isVerbose: boolean;
  readonly hasEol: boolean;
  readonly isPretty: boolean;
  readonly isJson: boolean;
}

const EOL = Buffer.from('\n');

export function renderMessage(
  msg: PrintableMessage,
  options: PrintOptions,
  clock: Clock,
  reportError: (line: string) => void,
): Buffer {
  if (options.isJson) {
    return Buffer.concat([printCJson(culexJson(msg, clock()), options.isPretty), EOL]);
  }
  if (options.format !== undefined) {
    const body = formatMessage(options.format, msg, { clock, isPretty: options.isPretty, reportError });
    return options.hasEol ? Buffer.concat([body, EOL]) : body;
  }
  if (options.isVerbose) {
    if (msg.payload.length > 0) {
      const parts = [Buffer.from(`${msg.topic} `), msg.payload];
      if (options.hasEol) parts.push(EOL);
      return Buffer.concat(parts);
    }
    return options.hasEol ? Buffer.from(`${msg.topic} (null)\n`) : Buffer.alloc(0);
  }
  if (msg.payload.length === 0) return Buffer.alloc(0);
  return options.hasEol ? Buffer.concat([msg.payload, EOL]) : msg.payload;
}
