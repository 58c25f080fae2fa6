/**
 * Lets queued messages (pause, settings, draw requests) run between slices of work. A
 * MessageChannel round trip is a fresh task without setTimeout's 4 ms clamp on nested timers.
 */
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();

export function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });
}
