/**
 * Turns on the threads of TF.js's wasm backend in Node, which it leaves off there (its
 * WASM_HAS_MULTITHREAD_SUPPORT flag is false under Node). Three obstacles, each worked around
 * from outside the package:
 * 1. Emscripten's pthread workers are started from blob: URLs, which Node's Worker rejects:
 *    Blobs made while the backend starts remember their text, and a Worker given such a URL
 *    (or sent such a Blob as its main script) gets the text as a temporary file instead.
 * 2. The main script, shipped to workers as Function.toString(), refers to the bundle's
 *    module-scope requires (require$$0 …); a prelude defines them.
 * 3. The backend halves the logical core count (it assumes 2-way SMT) and caps threads there,
 *    so on 2 cores it would use 1: os.cpus() reports twice the cores while it initialises.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PRELUDE =
  "var require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'), require$$4 = require('os'), commonjsGlobal = globalThis;\n";

/** Runs `init` (which must start the wasm backend) with the workarounds in place; restores globals afterwards. */
export async function withWasmThreads(require, init) {
  const workerThreads = require('node:worker_threads');
  const os = require('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-wasm-threads-'));
  let files = 0;
  const toFile = (text) => {
    const file = join(dir, `script${files++}.cjs`);
    writeFileSync(file, text);
    return file;
  };
  const texts = new Map();
  const RealBlob = globalThis.Blob;
  class TextBlob extends RealBlob {
    constructor(parts = [], options) {
      super(parts, options);
      this.text_ = parts.every((p) => typeof p === 'string') ? parts.join('') : null;
    }
  }
  const realCreateObjectURL = URL.createObjectURL;
  const RealWorker = workerThreads.Worker;
  const realCpus = os.cpus;

  globalThis.Blob = TextBlob;
  URL.createObjectURL = (blob) => {
    const url = realCreateObjectURL(blob);
    if (blob?.text_ != null) texts.set(url, blob.text_);
    return url;
  };
  workerThreads.Worker = class extends RealWorker {
    constructor(url, options) {
      super(typeof url === 'string' && texts.has(url) ? toFile(texts.get(url)) : url, options);
    }
    postMessage(message, transfer) {
      if (message?.urlOrBlob instanceof TextBlob) message = { ...message, urlOrBlob: toFile(PRELUDE + message.urlOrBlob.text_) };
      return super.postMessage(message, transfer);
    }
  };
  os.cpus = () => [...realCpus(), ...realCpus()];
  try {
    await init();
  } finally {
    os.cpus = realCpus;
    globalThis.Blob = RealBlob;
    URL.createObjectURL = realCreateObjectURL;
  }
  return () => rmSync(dir, { recursive: true, force: true });
}
