/** The page's side of the worker protocol: typed requests that resolve with the worker's reply. */
import type { FromWorker, Replies, Request, ToWorker, WorkerEvent, WorkerInit } from './protocol.js';

/** Requests that build a network: a restart cancels them. */
const BUILDS: ReadonlySet<Request['kind']> = new Set(['network', 'reset', 'load', 'pretrained']);

/** The reply to a build request that was cancelled by restarting the worker. */
export class BuildCancelled extends Error {}

interface Pending {
  request: Request;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class WorkerClient {
  private worker!: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    init: WorkerInit,
    private readonly onEvent: (event: WorkerEvent) => void,
  ) {
    this.start(init);
  }

  request<K extends Request['kind']>(request: Extract<Request, { kind: K }>, transfer: Transferable[] = []): Promise<Replies[K]> {
    const id = this.nextId++;
    return new Promise<Replies[K]>((resolve, reject) => {
      this.pending.set(id, { request, resolve: resolve as (v: unknown) => void, reject });
      this.post({ id, request }, transfer);
    });
  }

  /**
   * Stops the worker at once, whatever it is doing (a synchronous build cannot be interrupted
   * any other way; its memory goes with it), and starts a fresh one from `init`. Pending builds
   * fail with BuildCancelled; every other pending request is asked again of the new worker.
   */
  restart(init: WorkerInit): void {
    this.worker.terminate();
    this.start(init);
    for (const [id, p] of this.pending) {
      if (BUILDS.has(p.request.kind)) {
        this.pending.delete(id);
        p.reject(new BuildCancelled('the build was cancelled'));
      } else this.post({ id, request: p.request });
    }
  }

  private start(init: WorkerInit): void {
    const worker = new Worker(new URL('./worker/train-worker.ts', import.meta.url), { type: 'module', name: 'convkit-training' });
    this.worker = worker;
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      if (worker !== this.worker) return; // a replaced worker's last words
      const m = e.data;
      if (m.type === 'event') {
        this.onEvent(m.event);
        return;
      }
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) p?.resolve(m.result);
      else p?.reject(new Error(m.error));
    };
    worker.onerror = (e) => {
      if (worker === this.worker) this.onEvent({ type: 'error', message: `worker failed: ${e.message}`, fatal: true });
    };
    this.post({ id: 0, init });
  }

  private post(message: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
  }
}
