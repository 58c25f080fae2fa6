/**
 * Keeps the layer views (activations, filters, a drawing's classification) to a small share of
 * the worker's time while it trains: a view that would push the share over the budget waits.
 * The page asks for views on its own clock; however often it asks, training keeps the rest.
 */
export class ViewBudget {
  private spent = 0;
  private since: number;

  /** `share`: most of the time views may take (0.05 = 5 %). */
  constructor(
    readonly share = 0.05,
    private readonly now: () => number = () => performance.now(),
    private readonly window = 10_000,
  ) {
    this.since = now();
  }

  /** Milliseconds to wait before the next view, so that view time stays within `share` of the time. */
  delay(): number {
    const elapsed = this.now() - this.since;
    return Math.max(0, this.spent / this.share - elapsed);
  }

  /** A view took `ms`. Older history counts for less, so the budget follows what happens now. */
  record(ms: number): void {
    this.spent += ms;
    const elapsed = this.now() - this.since;
    if (elapsed > this.window) {
      // Halve the history but keep what is owed: the wait before the next view stays the same.
      this.spent /= 2;
      this.since = this.now() - (elapsed - this.spent / this.share);
    }
  }

  /** Runs a view within the budget. */
  async run<T>(view: () => Promise<T>): Promise<T> {
    const wait = this.delay();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const start = this.now();
    try {
      return await view();
    } finally {
      this.record(this.now() - start);
    }
  }
}
