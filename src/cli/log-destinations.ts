/**
 * `log_dest` turned into streams. A file is opened for appending at start (a file that cannot be opened stops the
 * start, as in Mosquitto) and reopened on SIGHUP, so log rotation (rename, then HUP) works as with Mosquitto.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import type { LogDestination } from './broker-config.js';
import type { CliIo } from './index.js';

export interface LogStreams {
  readonly streams: NodeJS.WritableStream[];
  /** Reopens log files (after rotation). */
  reopen(): void;
  close(): Promise<void>;
}

/**
 * An append-only log file. Lines are written synchronously: they are short, and a line must not be lost when the
 * process exits right after writing it.
 */
class LogFile extends Writable {
  readonly #path: string;
  #fd: number;

  constructor(path: string) {
    super();
    this.#path = path;
    this.#fd = openSync(path, 'a');
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      writeSync(this.#fd, chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  reopen(): void {
    const fd = openSync(this.#path, 'a');
    closeSync(this.#fd);
    this.#fd = fd;
  }

  override _final(callback: (error?: Error | null) => void): void {
    closeSync(this.#fd);
    callback();
  }
}

export async function openLogDestinations(destinations: LogDestination[] | undefined, io: CliIo): Promise<LogStreams> {
  const files: LogFile[] = [];
  const streams: NodeJS.WritableStream[] = [];
  for (const destination of destinations ?? [{ kind: 'stderr' }]) {
    if (destination.kind === 'stderr') streams.push(io.stderr);
    else if (destination.kind === 'stdout') streams.push(io.stdout);
    else {
      let file: LogFile;
      try {
        file = new LogFile(destination.path);
      } catch (err) {
        for (const f of files) f.destroy();
        throw new Error(`Unable to open log file ${destination.path} for writing: ${(err as Error).message}.`,
          { cause: err });
      }
      file.on('error', () => {}); // A failed write must not crash the broker.
      files.push(file);
      streams.push(file);
    }
  }
  return {
    streams,
    reopen() {
      for (const f of files) {
        try {
          f.reopen();
        } catch {
          // Keep writing to the old file.
        }
      }
    },
    async close() {
      await Promise.all(files.map((f) => new Promise<void>((resolve) => f.end(resolve))));
    },
  };
}
