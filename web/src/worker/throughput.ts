/** Images per second over the last few seconds of wall-clock time while training runs. */
export class Throughput {
  private samples: { t: number; examples: number }[] = [];

  constructor(private readonly spanMs = 3000) {}

  record(examples: number, t = performance.now()): void {
    this.samples.push({ t, examples });
    while (this.samples.length > 2 && t - this.samples[0].t > this.spanMs) this.samples.shift();
  }

  /** Forget the history (after a pause the gap must not count). */
  clear(): void {
    this.samples = [];
  }

  get perSecond(): number {
    const first = this.samples[0],
      last = this.samples[this.samples.length - 1];
    if (!first || last.t <= first.t) return 0;
    return (last.examples - first.examples) / ((last.t - first.t) / 1000);
  }
}
