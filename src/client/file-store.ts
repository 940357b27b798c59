/**
 * A durable in-flight store: one file per message in a directory, so publishes made while offline, and QoS 1/2
 * messages not yet acknowledged, survive a process restart.
 *
 * Design note: each entry is written to `<seq>.tmp`, fsynced, then renamed to `<seq>.msg` (rename is atomic on
 * POSIX file systems, so a crash leaves either the old entry or the new one, never half of one; stray `.tmp` files
 * are ignored and removed on load). A file holds a 4-byte header length, a JSON header (topic, QoS, packet id,
 * state, properties with binary values in base64) and the raw payload. One file per entry costs a create, a sync
 * and a rename per publish (about a millisecond on an SSD), which is the price of durability without a database;
 * updates (a packet identifier assigned, PUBREC received) rewrite the file the same way. Pass `{ fsync: false }` to
 * trade durability on power loss for speed.
 */
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Properties } from '../protocol/types.js';
import type { InflightStore, StoredPublish } from './store.js';

export interface FileStoreOptions {
  /** fsync each file before renaming it into place. Default true. */
  fsync?: boolean;
}

interface Header {
  seq: number;
  topic: string;
  qos: 1 | 2;
  retain: boolean;
  packetId: number;
  state: 'publish' | 'pubrel';
  isSent: boolean;
  properties?: Record<string, unknown>;
}

const BINARY_PROPERTIES = ['correlationData', 'authenticationData'] as const;

function propertiesToJson(p: Properties): Record<string, unknown> {
  const out: Record<string, unknown> = { ...p };
  for (const key of BINARY_PROPERTIES) {
    const v = p[key];
    if (v !== undefined) out[key] = v.toString('base64');
  }
  return out;
}

function propertiesFromJson(j: Record<string, unknown>): Properties {
  const out = { ...j } as Properties & Record<string, unknown>;
  for (const key of BINARY_PROPERTIES) {
    const v = j[key];
    if (typeof v === 'string') out[key] = Buffer.from(v, 'base64');
  }
  return out;
}

function fileName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.msg`;
}

export function encodeEntry(entry: StoredPublish): Buffer {
  const header: Header = {
    seq: entry.seq, topic: entry.topic, qos: entry.qos, retain: entry.retain, packetId: entry.packetId,
    state: entry.state, isSent: entry.isSent,
  };
  if (entry.properties !== undefined) header.properties = propertiesToJson(entry.properties);
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([length, json, entry.payload]);
}

export function decodeEntry(bytes: Buffer): StoredPublish {
  const length = bytes.readUInt32BE(0);
  const header = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8')) as Header;
  const entry: StoredPublish = {
    seq: header.seq, topic: header.topic, qos: header.qos, retain: header.retain, packetId: header.packetId,
    state: header.state, isSent: header.isSent === true, payload: Buffer.from(bytes.subarray(4 + length)),
  };
  if (header.properties !== undefined) entry.properties = propertiesFromJson(header.properties);
  return entry;
}

/**
 * @example
 * const client = await connect('mqtt://broker', {
 *   clientId: 'sensor-7', clean: false, store: new FileStore('/var/lib/sensor/mqtt'),
 * });
 */
export class FileStore implements InflightStore {
  readonly #dir: string;
  readonly #fsync: boolean;
  #ready: Promise<void> | undefined;
  /** Operations on one entry run in order, so a delete cannot overtake the rename of an earlier put. */
  readonly #chains = new Map<number, Promise<void>>();

  constructor(dir: string, options: FileStoreOptions = {}) {
    this.#dir = dir;
    this.#fsync = options.fsync ?? true;
  }

  #ensureDir(): Promise<void> {
    this.#ready ??= mkdir(this.#dir, { recursive: true }).then(() => undefined);
    return this.#ready;
  }

  async load(): Promise<StoredPublish[]> {
    await this.#ensureDir();
    const names = (await readdir(this.#dir)).toSorted();
    const entries: StoredPublish[] = [];
    for (const name of names) {
      const path = join(this.#dir, name);
      if (name.endsWith('.tmp')) {
        await unlink(path).catch(() => undefined);
      } else if (name.endsWith('.msg')) {
        entries.push(decodeEntry(await readFile(path)));
      }
    }
    return entries;
  }

  #serial(seq: number, op: () => Promise<void>): Promise<void> {
    const previous = this.#chains.get(seq) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(op);
    this.#chains.set(seq, next);
    const forget = (): void => {
      if (this.#chains.get(seq) === next) this.#chains.delete(seq);
    };
    next.then(forget, forget);
    return next;
  }

  put(entry: StoredPublish): Promise<void> {
    const bytes = encodeEntry(entry);
    return this.#serial(entry.seq, () => this.#write(entry.seq, bytes));
  }

  async #write(seq: number, bytes: Buffer): Promise<void> {
    await this.#ensureDir();
    const final = join(this.#dir, fileName(seq));
    const temp = `${final.slice(0, -4)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(bytes);
      if (this.#fsync) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, final);
  }

  delete(seq: number): Promise<void> {
    return this.#serial(seq, () => unlink(join(this.#dir, fileName(seq))).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    }));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#chains.values());
  }
}
