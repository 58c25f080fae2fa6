/** Training curves with Chart.js: loss, and train/test accuracy, against examples seen. */
import { Chart, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip } from 'chart.js';
import type { Stats } from '../protocol.js';
import { accuracyAxis, lossAxisMax } from './scales.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

/** Above this many points a series is thinned to every other point: charts stay cheap for long runs. */
const MAX_POINTS = 600;

type Point = { x: number; y: number };

export class TrainingCharts {
  private readonly loss: Chart<'line', Point[]>;
  private readonly accuracy: Chart<'line', Point[]>;

  constructor(lossCanvas: HTMLCanvasElement, accuracyCanvas: HTMLCanvasElement) {
    this.loss = lineChart(lossCanvas, [{ label: 'training loss (smoothed)', color: '#d9480f' }], {});
    this.accuracy = lineChart(
      accuracyCanvas,
      [
        // The test line first: Chart.js draws the first dataset on top, so it never hides under training's.
        { label: 'test accuracy (last test images)', color: '#2b8a3e', width: 2.5 },
        { label: 'training accuracy (smoothed)', color: '#1c7ed6' },
      ],
      { min: 0, max: 1 },
    );
  }

  add(s: Stats): void {
    if (s.examples === 0 || !Number.isFinite(s.loss)) return;
    const last = this.loss.data.datasets[0].data.at(-1);
    if (last && last.x === s.examples) return; // paused: nothing new
    push(this.loss.data.datasets[0].data, { x: s.examples, y: s.loss });
    push(this.accuracy.data.datasets[1].data, { x: s.examples, y: s.accuracy });
    if (s.testAccuracy !== null) push(this.accuracy.data.datasets[0].data, { x: s.examples, y: s.testAccuracy });
    this.fitAxes();
    this.loss.update('none');
    this.accuracy.update('none');
  }

  /** Accuracy zoomed onto its values; loss without the first values' spike. */
  private fitAxes(): void {
    const acc = this.accuracy.options.scales!.y!;
    Object.assign(acc, accuracyAxis(this.accuracy.data.datasets.flatMap((d) => d.data.map((p) => p.y))));
    const loss = this.loss.options.scales!.y!;
    loss.max = lossAxisMax(this.loss.data.datasets[0].data.map((p) => p.y));
    loss.min = 0;
  }

  /** The y ranges now shown (for tests). */
  axes(): { loss: { min?: number; max?: number }; accuracy: { min?: number; max?: number } } {
    const y = (c: Chart<'line', Point[]>) => ({ min: c.options.scales!.y!.min as number | undefined, max: c.options.scales!.y!.max as number | undefined });
    return { loss: y(this.loss), accuracy: y(this.accuracy) };
  }

  clear(): void {
    for (const chart of [this.loss, this.accuracy]) {
      for (const d of chart.data.datasets) d.data = [];
      chart.update('none');
    }
  }
}

function push(series: Point[], p: Point): void {
  series.push(p);
  if (series.length > MAX_POINTS) {
    const kept = series.filter((_, i) => i % 2 === 0 || i === series.length - 1);
    series.splice(0, series.length, ...kept);
  }
}

function lineChart(
  canvas: HTMLCanvasElement,
  series: { label: string; color: string; width?: number }[],
  y: { min?: number; max?: number },
): Chart<'line', Point[]> {
  return new Chart(canvas, {
    type: 'line',
    data: {
      datasets: series.map((s) => ({
        label: s.label,
        data: [] as Point[],
        borderColor: s.color,
        backgroundColor: s.color,
        borderWidth: s.width ?? 1.5,
        pointRadius: 0,
        tension: 0.2,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: 'nearest', intersect: false },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'examples seen' } },
        y: { type: 'linear', ...y },
      },
      plugins: { legend: { labels: { boxWidth: 12 } } },
    },
  });
}
