/** The page's side of the worker protocol: typed requests that resolve with the worker's reply. */
import type { FromWorker, Replies, Request, ToWorker, WorkerEvent } from './protocol.js';

export class WorkerClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(init: Extract<ToWorker, { id: 0 }>['init'], onEvent: (event: WorkerEvent) => void) {
    this.worker = new Worker(new URL('./worker/train-worker.ts', import.meta.url), { type: 'module', name: 'convkit-training' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === 'event') {
        onEvent(m.event);
        return;
      }
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) p?.resolve(m.result);
      else p?.reject(new Error(m.error));
    };
    this.worker.onerror = (e) => onEvent({ type: 'error', message: `worker failed: ${e.message}`, fatal: true });
    this.post({ id: 0, init });
  }

  request<K extends Request['kind']>(request: Extract<Request, { kind: K }>, transfer: Transferable[] = []): Promise<Replies[K]> {
    const id = this.nextId++;
    return new Promise<Replies[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post({ id, request }, transfer);
    });
  }

  private post(message: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
  }
}
