/** Exponential moving average with start-up bias correction (the first values are not pulled towards 0). */
export class Smoothed {
  private average = 0;
  private weight = 0;

  constructor(private readonly alpha: number) {}

  /** Takes over another average's state (a session moved to another backend). */
  copyFrom(other: Smoothed): void {
    this.average = other.average;
    this.weight = other.weight;
  }

  add(value: number): void {
    this.average = (1 - this.alpha) * this.average + this.alpha * value;
    this.weight = (1 - this.alpha) * this.weight + this.alpha;
  }

  /** NaN before the first value. */
  get value(): number {
    return this.weight === 0 ? NaN : this.average / this.weight;
  }
}
