// The page: starts the training Worker and publishes its report as window.result (read by
// test/consumer.test.ts through the browser driver).
const status = document.getElementById('status');
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const finish = (result) => {
  window.result = result;
  status.textContent = JSON.stringify(result);
};
worker.onmessage = (e) => finish(e.data);
worker.onerror = (e) => finish({ error: `worker failed: ${e.message ?? e}` });
