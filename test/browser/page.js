// The page's side of a browser suite run (run.ts serves it at /page.js): starts the suite
// bundle in a module Worker and forwards each of its messages to Node through
// window.__convkitReport (a playwright binding), until `done` or a failure to load.
window.runSuite = (config) =>
  new Promise((resolve) => {
    const worker = new Worker('/suite.js', { type: 'module', name: JSON.stringify(config) });
    const finish = () => {
      worker.terminate();
      resolve();
    };
    worker.addEventListener('message', (e) => {
      void window.__convkitReport(e.data);
      if (e.data.type === 'done') finish();
    });
    worker.addEventListener('error', (e) => {
      void window.__convkitReport({
        type: 'error',
        message: `the suite's worker failed: ${e.message || 'an error while loading suite.js (see the browser console)'}`,
      });
      void window.__convkitReport({ type: 'done', ms: 0 });
      finish();
    });
  });

// What WebGPU adapter this browser offers, or null.
window.gpuAdapter = async () => {
  if (!navigator.gpu) return null;
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return null;
  const i = adapter.info || {};
  return [i.vendor, i.architecture, i.device, i.description].filter((s) => s).join(' ') || 'unnamed adapter';
};
