/**
 * A canvas to draw a digit on with mouse, pen or finger (pointer events). After each change
 * the drawing is made MNIST-like with the library's toGrey + mnistStyle (ink's bounding box
 * scaled into 20×20, centre of mass at the centre of 28×28) and handed to `onDigit`.
 */
import { mnistStyle, toGrey } from 'convkit';
import type { InkExtent } from './scales.js';

export class DrawPad {
  private readonly ctx: CanvasRenderingContext2D;
  private drawing = false;
  private last: { x: number; y: number } | null = null;
  private inked = false;
  /** The ink's bounding box in canvas pixels. */
  private box = { top: Infinity, left: Infinity, bottom: -Infinity, right: -Infinity };

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onDigit: (pixels: Uint8Array | null) => void,
  ) {
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    canvas.style.touchAction = 'none'; // keep touch strokes from scrolling the page
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.drawing = true;
      this.last = this.point(e);
      this.stroke(this.last, this.last);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      // Coalesced events give the full stroke when the browser batches moves.
      for (const ev of e.getCoalescedEvents?.() ?? [e]) {
        const p = this.point(ev);
        this.stroke(this.last ?? p, p);
        this.last = p;
      }
      this.emit();
    });
    const end = () => {
      if (!this.drawing) return;
      this.drawing = false;
      this.last = null;
      this.emit();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  clear(): void {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.inked = false;
    this.box = { top: Infinity, left: Infinity, bottom: -Infinity, right: -Infinity };
    this.canvas.parentElement?.classList.remove('inked');
    this.onDigit(null);
  }

  /** How much of the canvas the ink spans, as fractions of its width and height (for the low-confidence cue). */
  inkExtent(): InkExtent | undefined {
    if (!this.inked) return undefined;
    return { width: (this.box.right - this.box.left) / this.canvas.width, height: (this.box.bottom - this.box.top) / this.canvas.height };
  }

  /** The current drawing as 28×28 MNIST-style bytes, or null when blank. */
  digit(): Uint8Array | null {
    if (!this.inked) return null;
    const { width, height } = this.canvas;
    const rgba = this.ctx.getImageData(0, 0, width, height).data;
    return mnistStyle(toGrey(rgba, width, height, 4));
  }

  private emit(): void {
    this.onDigit(this.digit());
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: (e.clientX - r.left) * (this.canvas.width / r.width), y: (e.clientY - r.top) * (this.canvas.height / r.height) };
  }

  private stroke(from: { x: number; y: number }, to: { x: number; y: number }): void {
    const c = this.ctx;
    c.strokeStyle = '#fff';
    c.lineWidth = this.canvas.width / 14;
    c.lineCap = 'round';
    c.lineJoin = 'round';
    c.beginPath();
    c.moveTo(from.x, from.y);
    c.lineTo(to.x, to.y);
    c.stroke();
    const r = c.lineWidth / 2;
    this.box = {
      top: Math.min(this.box.top, from.y - r, to.y - r),
      left: Math.min(this.box.left, from.x - r, to.x - r),
      bottom: Math.max(this.box.bottom, from.y + r, to.y + r),
      right: Math.max(this.box.right, from.x + r, to.x + r),
    };
    this.inked = true;
    this.canvas.parentElement?.classList.add('inked');
  }
}
