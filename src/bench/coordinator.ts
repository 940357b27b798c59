/**
 * The coordinating process: forks the workers, deals the connections out to them, drives the phases (setup, start,
 * warm-up mark, stop, drain, finish) and adds up what they report. Throughput is counted in the measured window
 * only (mark to stop); lost and duplicate messages are counted over the whole run, drain included.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readCpuSecondsOrNaN } from './cpu-time.js';
import type { Counters, FromWorker, ToWorker, WorkerPlan, WorkerResult } from './messages.js';

const READY_TIMEOUT_MS = 120_000;
const DRAIN_POLL_MS = 300;

/** Emits a one-line status while a run is in progress (or nothing). */
export type ProgressSink = ((line: string) => void) | undefined;

function workerEntry(): { path: URL; execArgv: string[] } {
  // Under tsx (tests, `node --import tsx`) this module is a .ts file and so is its sibling worker.
  const isTs = import.meta.url.endsWith('.ts');
  return { path: new URL(isTs ? './worker.ts' : './worker.js', import.meta.url), execArgv: isTs ? ['--import', 'tsx'] : [] };
}

/** One forked worker with the last counters it reported. */
export class WorkerHandle {
  readonly child: ChildProcess;
  counters: Counters | undefined;
  #waiters: { type: FromWorker['type']; resolve: (m: FromWorker) => void }[] = [];
  #exitError: Error | undefined;
  onMessage: (m: FromWorker) => void = () => undefined;

  constructor() {
    const entry = workerEntry();
    this.child = fork(entry.path, [], { execArgv: entry.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: FromWorker) => {
      if ('counters' in m) this.counters = m.counters;
      this.onMessage(m);
      const i = this.#waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(m);
    });
    this.child.setMaxListeners(0);
    this.child.on('exit', (code, signal) => {
      this.#exitError = new Error(`bench worker exited (code ${code}, signal ${signal})`);
    });
  }

  send(message: ToWorker): void {
    if (this.child.connected) this.child.send(message);
  }

  /** The next message of `type`; rejects if the worker reports a fatal error, dies, or `timeoutMs` passes. */
  waitFor<T extends FromWorker['type']>(type: T, timeoutMs: number): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.#exitError !== undefined) return reject(this.#exitError);
      const timer = setTimeout(() => reject(new Error(`bench worker: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
      const onExit = (): void => {
        clearTimeout(timer);
        reject(this.#exitError ?? new Error('bench worker exited'));
      };
      this.child.once('exit', onExit);
      this.#waiters.push({
        type: 'fatal', resolve: (m) => {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          reject(new Error(`bench worker failed: ${(m as { message: string }).message}`));
        },
      });
      this.#waiters.push({
        type, resolve: (m) => {
          clearTimeout(timer);
          this.child.off('exit', onExit);
          this.#waiters = this.#waiters.filter((w) => w.type !== 'fatal');
          resolve(m as Extract<FromWorker, { type: T }>);
        },
      });
    });
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
  }
}

export function sumCounters(list: readonly (Counters | undefined)[]): Counters {
  const total: Counters = {
    sent: 0, acked: 0, received: 0, receivedMain: 0, connected: 0, dropped: 0, connectFailures: 0, errors: 0, cpuUs: 0,
  };
  for (const c of list) {
    if (c === undefined) continue;
    for (const key of Object.keys(total) as (keyof Counters)[]) total[key] += c[key];
  }
  return total;
}

export interface PhaseTimes {
  /** Counters at the end of the warm-up and at stop, summed over workers. */
  readonly atMark: Counters;
  readonly atStop: Counters;
  /** Seconds between mark and stop. */
  readonly windowSeconds: number;
  readonly results: readonly WorkerResult[];
  /** Closed loop: how many times the publishers were throttled. */
  readonly throttleEpisodes: number;
  /** With `readBrokerCpuSeconds`: the broker's CPU time between mark and stop, in seconds. */
  readonly brokerCpuSeconds?: number;
  /**
   * The workers' CPU time between mark and stop, in seconds, read from /proc at the same moments as the broker's;
   * NaN where /proc cannot be read. (The counters' own cpuUs is taken when each worker gets to the snapshot message,
   * which a busy worker does late, so it can cover more than the window.)
   */
  readonly loadCpuSeconds: number;
}

export interface DriveOptions {
  readonly warmupSeconds: number;
  /** Measured seconds after the warm-up; 0 = until every publisher reached its count. */
  readonly durationSeconds: number;
  readonly drainTimeoutMs: number;
  readonly progress: ProgressSink;
  readonly describe: (c: Counters, elapsedSeconds: number) => string;
  /** Closed loop: throttle flat-out publishers while outstanding deliveries exceed `limit` (resume below half). */
  readonly backlog?: { readonly limit: number; readonly deliveriesPerMessage: number };
  /** The broker's CPU time so far (s), read at mark and stop. */
  readonly readBrokerCpuSeconds?: () => number;
}

/** Forks one worker per plan and runs the pub/sub phases to the end. Workers are always killed afterwards. */
export async function drive(plans: readonly WorkerPlan[], options: DriveOptions): Promise<PhaseTimes> {
  const workers = plans.map(() => new WorkerHandle());
  let progressTimer: NodeJS.Timeout | undefined;
  try {
    const ready = workers.map((w) => w.waitFor('ready', READY_TIMEOUT_MS));
    workers.forEach((w, i) => w.send({ type: 'setup', plan: plans[i]! }));
    await Promise.all(ready);

    const publishing = workers.filter((_, i) => {
      const plan = plans[i]!;
      return plan.kind === 'pubsub' && plan.publishers.length > 0;
    });
    // Without publishers (`sub`) only the duration ends the run.
    const allPublished = publishing.length === 0
      ? new Promise<never>(() => undefined)
      : Promise.all(publishing.map((w) => w.waitFor('published', 24 * 3600_000)));
    allPublished.catch(() => undefined);
    const loop = { episodes: 0 };
    if (options.backlog !== undefined) closeLoop(workers, options.backlog, loop);
    const startedAt = performance.now();
    workers.forEach((w) => w.send({ type: 'start' }));
    if (options.progress !== undefined) {
      const sink = options.progress;
      progressTimer = setInterval(() => {
        sink(options.describe(sumCounters(workers.map((w) => w.counters)), (performance.now() - startedAt) / 1000));
      }, 500);
    }

    await raceSleep(options.warmupSeconds * 1000, allPublished);
    const atMark = await snapshot(workers, 'mark');
    const brokerCpuAtMark = options.readBrokerCpuSeconds?.();
    const loadCpuAtMark = workersCpuSeconds(workers);
    const markedAt = performance.now();
    if (options.durationSeconds > 0) await raceSleep(options.durationSeconds * 1000, allPublished);
    else await allPublished;
    const atStop = await snapshot(workers, 'stop');
    const brokerCpuAtStop = options.readBrokerCpuSeconds?.();
    const loadCpuAtStop = workersCpuSeconds(workers);
    const windowSeconds = (performance.now() - markedAt) / 1000;

    await drain(workers, options.drainTimeoutMs);
    const results = workers.map((w) => w.waitFor('result', 30_000));
    workers.forEach((w) => w.send({ type: 'finish' }));
    return {
      atMark, atStop, windowSeconds, results: (await Promise.all(results)).map((m) => m.result),
      throttleEpisodes: loop.episodes,
      loadCpuSeconds: loadCpuAtStop - loadCpuAtMark,
      ...(brokerCpuAtMark === undefined || brokerCpuAtStop === undefined
        ? {} : { brokerCpuSeconds: brokerCpuAtStop - brokerCpuAtMark }),
    };
  } finally {
    clearInterval(progressTimer);
    setTimeout(() => workers.forEach((w) => w.kill()), 1500).unref();
  }
}

/** The CPU time of all the workers so far (s), all threads; NaN when one cannot be read. */
function workersCpuSeconds(workers: readonly WorkerHandle[]): number {
  let seconds = 0;
  for (const w of workers) {
    const pid = w.child.pid;
    if (pid === undefined) return Number.NaN;
    seconds += readCpuSecondsOrNaN(pid);
  }
  return seconds;
}

/**
 * The closed loop: workers report their sent and received totals every few ms; while sent x deliveries per message -
 * received is above the limit, every worker is told to hold its flat-out publishers, and to release them once it is
 * below half the limit.
 */
function closeLoop(
  workers: readonly WorkerHandle[], backlog: NonNullable<DriveOptions['backlog']>, loop: { episodes: number },
): void {
  const sent = workers.map(() => 0);
  const received = workers.map(() => 0);
  let isOn = false;
  workers.forEach((w, i) => {
    const previous = w.onMessage;
    w.onMessage = (m) => {
      previous(m);
      if (m.type !== 'flow') return;
      sent[i] = m.sent;
      received[i] = m.received;
      let outstanding = 0;
      for (let k = 0; k < workers.length; k++) outstanding += sent[k]! * backlog.deliveriesPerMessage - received[k]!;
      const shouldBeOn = isOn ? outstanding > backlog.limit / 2 : outstanding > backlog.limit;
      if (shouldBeOn === isOn) return;
      isOn = shouldBeOn;
      if (isOn) loop.episodes++;
      for (const each of workers) each.send({ type: 'throttle', isOn });
    };
  });
}

async function snapshot(workers: readonly WorkerHandle[], tag: 'mark' | 'stop'): Promise<Counters> {
  const replies = workers.map((w) => w.waitFor('snapshot', 30_000));
  workers.forEach((w) => w.send({ type: tag }));
  return sumCounters((await Promise.all(replies)).map((m) => m.counters));
}

/** Waits until the subscribers stop receiving (two quiet polls in a row) or the timeout passes. */
async function drain(workers: readonly WorkerHandle[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = -1;
  let quiet = 0;
  while (performance.now() < deadline && quiet < 2) {
    await sleep(DRAIN_POLL_MS);
    const received = sumCounters(workers.map((w) => w.counters)).received;
    quiet = received === last ? quiet + 1 : 0;
    last = received;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function raceSleep(ms: number, done: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([new Promise((r) => { timer = setTimeout(r, ms); }), done]);
  clearTimeout(timer);
}
