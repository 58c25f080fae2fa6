/**
 * The training worker's state, as one small state machine: every transition is in the table
 * below, so "what may happen now" has a single answer. Evaluation and layer views are not
 * phases: they run beside training (each cancellable), on the current network.
 *
 *   loading    the backend and the first network are being made
 *   idle       a network is ready, not training (new network, or never started)
 *   training   the loop runs, one slice of batches at a time
 *   paused     stopped by the page (or by an error in training); Start continues
 *   switching  the network moves to another backend; `resume` says whether training goes on after
 *   failed     the backend stopped working (device lost); only a move to another backend helps
 */
export type PhaseName = 'loading' | 'idle' | 'training' | 'paused' | 'switching' | 'failed';

export type PhaseEvent =
  | { type: 'loaded' }
  | { type: 'start' }
  | { type: 'pause' }
  /** Training stopped on an error (a diverged loss, say). */
  | { type: 'stopped' }
  | { type: 'network' }
  | { type: 'switch' }
  | { type: 'switched' }
  | { type: 'fail'; message: string };

export interface Phase {
  name: PhaseName;
  /** switching / failed: training goes on once the network has moved. */
  resume: boolean;
  /** failed: why the backend stopped. */
  failure?: string;
}

/** Thrown for a request the current phase cannot take; the message says why, for the page. */
export class PhaseError extends Error {}

/** The next phase, or a PhaseError. Pure: the worker's only place that decides transitions. */
export function nextPhase(p: Phase, e: PhaseEvent): Phase {
  const to = (name: PhaseName, resume = false): Phase => ({ name, resume });
  switch (e.type) {
    case 'loaded':
      if (p.name === 'loading') return to('idle');
      if (p.name === 'switching') return p;
      break;
    case 'start':
      if (p.name === 'idle' || p.name === 'paused' || p.name === 'training') return to('training');
      if (p.name === 'switching') return { ...p, resume: true };
      if (p.name === 'failed') throw new PhaseError(`the backend stopped working (${p.failure}); continue on another backend first`);
      if (p.name === 'loading') throw new PhaseError('the playground is still loading');
      break;
    case 'pause':
      if (p.name === 'training') return to('paused');
      if (p.name === 'switching' || p.name === 'failed') return { ...p, resume: false };
      return p;
    case 'stopped':
      if (p.name === 'training') return to('paused');
      return p;
    case 'network':
      if (p.name === 'failed') throw new PhaseError(`the backend stopped working (${p.failure}); continue on another backend first`);
      return p;
    case 'switch':
      if (p.name === 'switching') return p;
      return to('switching', p.name === 'training' || (p.name === 'failed' && p.resume));
    case 'switched':
      if (p.name === 'switching') return to(p.resume ? 'training' : 'idle');
      break;
    case 'fail':
      if (p.name === 'failed') return p;
      return { name: 'failed', resume: p.name === 'training' || (p.name === 'switching' && p.resume), failure: e.message };
  }
  throw new PhaseError(`cannot ${e.type} while ${p.name}`);
}

/** The worker's current phase, with a listener told of every change. */
export class WorkerPhase {
  private current: Phase = { name: 'loading', resume: false };

  constructor(private readonly onChange: (from: Phase, to: Phase) => void = () => {}) {}

  get phase(): Readonly<Phase> {
    return this.current;
  }

  get training(): boolean {
    return this.current.name === 'training';
  }

  get failed(): boolean {
    return this.current.name === 'failed';
  }

  send(event: PhaseEvent): Phase {
    const from = this.current;
    const to = nextPhase(from, event);
    this.current = to;
    if (to.name !== from.name || to.resume !== from.resume) this.onChange(from, to);
    return to;
  }
}
