// The page: starts the training Worker and shows its report (also as window.result, which
// test/consumer.test.ts reads in headless Chromium).
const status = document.getElementById('status');
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const finish = (result) => {
  window.result = result;
  status.textContent = JSON.stringify(result);
};
worker.onmessage = (e) => finish(e.data);
worker.onerror = (e) => finish({ error: `worker failed: ${e.message ?? e}` });
