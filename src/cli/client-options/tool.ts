/**
 * The start and end of every tool run: parse the command line, print help, version or the error with Mosquitto's
 * "Use '... --help' to see usage." hint (exit 1, as Mosquitto exits 1 for --help and --version too), and read
 * the payload given by -f, -s, -m or -n.
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import type { ClientConfig, ClientTool } from './config.js';
import { parseClientArgs } from './parse.js';
import type { ToolIo, ToolOutput } from './session.js';

export function helpText(tool: ClientTool): string {
  return readFileSync(new URL(`../../../src/cli/help/${tool}.txt`, import.meta.url), 'utf8');
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Parses argv; on anything but a config, prints what Mosquitto prints and returns the exit status. */
export function configOrExit(tool: ClientTool, argv: readonly string[], io: ToolIo): ClientConfig | number {
  const parsed = parseClientArgs(tool, argv);
  switch (parsed.kind) {
    case 'config': return parsed.config;
    case 'help':
      io.stdout.write(helpText(tool));
      return 1;
    case 'version':
      io.stdout.write(`culex ${tool} version ${packageVersion()}.\n`);
      return 1;
    case 'error':
      io.stderr.write(`${parsed.message}\nUse 'culex ${tool} --help' to see usage.\n`);
      return 1;
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

const MAX_PAYLOAD_BYTES = 268_435_455;

/** The payload of -m, -n, -f or -s (not -l); undefined after printing Mosquitto's error. */
export async function loadPayload(config: ClientConfig, io: ToolIo, output: ToolOutput): Promise<Buffer | undefined> {
  switch (config.publishMode) {
    case 'message': return config.message ?? Buffer.alloc(0);
    case 'file': {
      const file = config.file!;
      try {
        const data = await readFile(file);
        if (data.length > MAX_PAYLOAD_BYTES) {
          output.error(`Error: File must be less than ${MAX_PAYLOAD_BYTES} bytes.\n`);
          output.error(`Error loading input file "${file}".\n`);
          return undefined;
        }
        return data;
      } catch {
        output.error(`Error: Unable to open file "${file}".\n`);
        output.error(`Error loading input file "${file}".\n`);
        return undefined;
      }
    }
    case 'stdin-file': {
      const data = await readAll(io.stdin ?? process.stdin);
      if (data.length === 0) {
        output.error('Error: Zero length input.\n');
        output.error('Error loading input from stdin.\n');
        return undefined;
      }
      return data;
    }
    default: return Buffer.alloc(0);
  }
}

/** Splits stdin into lines as fgets does for mosquitto_pub -l: '\n' ends a line; a last line without one counts. */
export async function* stdinLines(stream: NodeJS.ReadableStream): AsyncGenerator<Buffer> {
  let pending = Buffer.alloc(0);
  for await (const chunk of stream) {
    pending = Buffer.concat([pending, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    let nl = pending.indexOf(0x0a);
    while (nl !== -1) {
      yield pending.subarray(0, nl);
      pending = pending.subarray(nl + 1);
      nl = pending.indexOf(0x0a);
    }
  }
  if (pending.length > 0) yield pending;
}
