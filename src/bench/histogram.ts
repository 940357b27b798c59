/**
 * Latency histogram in microseconds, log-linear like HdrHistogram: values below 64 µs have one bucket each; above,
 * every power of two is cut into 32 buckets, so a percentile is off by at most 1/32 (~3 %). 900 counters cover up
 * to ~35 minutes; larger values land in the last bucket. Histograms from several workers merge by adding counters,
 * which is why they travel between processes as plain arrays.
 */
const LINEAR = 64;
const SUB_BITS = 5;
const SUB = 1 << SUB_BITS;
const MAX_EXPONENT = 31;
const BUCKETS = LINEAR + (MAX_EXPONENT - 6 + 1) * SUB;

function bucketOf(us: number): number {
  if (us < LINEAR) return us < 0 ? 0 : Math.floor(us);
  const v = us >= 2 ** MAX_EXPONENT ? 2 ** (MAX_EXPONENT + 1) - 1 : Math.floor(us);
  const exponent = 31 - Math.clz32(v);
  const sub = (v >>> (exponent - SUB_BITS)) - SUB;
  return LINEAR + (exponent - 6) * SUB + sub;
}

/** The middle of a bucket's value range. */
function valueOf(bucket: number): number {
  if (bucket < LINEAR) return bucket;
  const i = bucket - LINEAR;
  const exponent = Math.floor(i / SUB) + 6;
  const width = 2 ** (exponent - SUB_BITS);
  const low = 2 ** exponent + (i % SUB) * width;
  return low + width / 2;
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

export interface LatencySummary {
  readonly count: number;
  readonly minUs: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p95Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  readonly maxUs: number;
}

export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sumUs = 0;
  minUs = Infinity;
  maxUs = 0;

  record(us: number): void {
    this.counts[bucketOf(us)]! += 1;
    this.count++;
    this.sumUs += us;
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumUs = 0;
    this.minUs = Infinity;
    this.maxUs = 0;
  }

  /** A plain, structured-clone-friendly copy (only non-empty buckets). */
  toJSON(): SerializedHistogram {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!]);
    return { buckets, count: this.count, sumUs: this.sumUs, minUs: this.minUs, maxUs: this.maxUs };
  }

  merge(other: SerializedHistogram): void {
    for (const [i, n] of other.buckets) this.counts[i]! += n;
    this.count += other.count;
    this.sumUs += other.sumUs;
    if (other.minUs < this.minUs) this.minUs = other.minUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxUs, Math.max(this.minUs, valueOf(i)));
    }
    return this.maxUs;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      minUs: this.count === 0 ? 0 : round(this.minUs),
      meanUs: this.count === 0 ? 0 : round(this.sumUs / this.count),
      p50Us: round(this.percentile(50)),
      p95Us: round(this.percentile(95)),
      p99Us: round(this.percentile(99)),
      p999Us: round(this.percentile(99.9)),
      maxUs: round(this.maxUs),
    };
  }
}

export interface SerializedHistogram {
  readonly buckets: [number, number][];
  readonly count: number;
  readonly sumUs: number;
  readonly minUs: number;
  readonly maxUs: number;
}
