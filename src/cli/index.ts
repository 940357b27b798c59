/**
 * The `culex` command: dispatches to subcommands. Each subcommand module exports `run(argv, io)` and returns an exit
 * code; nothing here calls process.exit, so the commands can be tested in-process.
 */
import { readFileSync } from 'node:fs';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Where prompts read from (`culex passwd`); default process.stdin. */
  readonly stdin?: NodeJS.ReadableStream;
}

export type Subcommand = (argv: string[], io: CliIo) => Promise<number>;

interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<Subcommand>;
}

/** Subcommands load lazily so that `culex pub` does not pay for the broker's imports. */
const commands: ReadonlyMap<string, CommandEntry> = new Map<string, CommandEntry>([
  ['broker', { summary: 'run the MQTT broker', load: async () => (await import('./broker.js')).run }],
  ['bench', { summary: 'load-test an MQTT broker', load: async () => (await import('./bench.js')).run }],
  ['passwd', { summary: 'manage password files (as mosquitto_passwd)', load: async () => (await import('./passwd.js')).run }],
  ['pub', { summary: 'publish a message (mosquitto_pub)', load: async () => (await import('./pub.js')).run }],
  ['sub', { summary: 'subscribe and print messages (mosquitto_sub)', load: async () => (await import('./sub.js')).run }],
  ['rr', { summary: 'request/response (mosquitto_rr)', load: async () => (await import('./rr.js')).run }],
]);

function readPackageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function helpText(): string {
  const template = readFileSync(new URL('../../src/cli/help/culex.txt', import.meta.url), 'utf8');
  const lines = [...commands].map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  const list = lines.length > 0 ? lines.join('\n') : '  (none yet: the broker and the clients are being built)';
  return template.replace('{{commands}}', list);
}

export async function main(argv: string[], io: CliIo = process): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    io.stdout.write(helpText());
    return first === undefined ? 1 : 0;
  }
  if (first === '-V' || first === '--version' || first === 'version') {
    io.stdout.write(`culex ${readPackageVersion()}\n`);
    return 0;
  }
  const entry = commands.get(first);
  if (entry === undefined) {
    io.stderr.write(`culex: unknown command '${first}'. Run 'culex --help' for the list.\n`);
    return 1;
  }
  const run = await entry.load();
  return run(rest, io);
}
