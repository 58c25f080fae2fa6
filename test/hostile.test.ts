/**
 * Hostile input, library level: each attack gets a convkit error naming the file and the
 * problem, quickly and without allocating what the input claims.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { WasmBackend } from '../src/backend/wasm.js';
import { nodePlatform } from '../src/backend/wasm-node.js';
import { ConfigError, FormatError, ResourceError } from '../src/errors.js';
import { MAX_JSON_DEPTH, jsonDepth } from '../src/io/json.js';
import { decodeModel, encodeModel } from '../src/io/modelfile.js';
import { Model, sequential } from '../src/model/model.js';
import { loadCheckpoint } from '../src/node/checkpoint.js';
import { readBytes } from '../src/node/mnist.js';
import { parseNetwork } from '../web/src/network-def.js';
import { headerOf, withHeader } from './fuzz-util.js';

const backend = new RefBackend();
const dir = mkdtempSync(join(tmpdir(), 'convkit-hostile-'));
const tiny = () => new Model(sequential('tiny', [1, 8, 8], [{ type: 'conv2d', filters: 2, kernel: 3 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 3 }]), backend);
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('JSON nesting depth', () => {
  it('is measured on the text, ignoring brackets inside strings', () => {
    assert.equal(jsonDepth('{"a": [1, {"b": "[[[{{{"}], "c": "\\"["}'), 3);
    assert.equal(jsonDepth('1'), 0);
  });

  it('a model file whose header nests 100 000 levels deep is a FormatError, not a stack overflow', () => {
    const file = encodeModel(tiny());
    const text = JSON.stringify(headerOf(file)).replace('"type":"relu"', `"type":"relu","x":${deep(100_000)}`);
    assert.throws(() => decodeModel(withHeader(file, text), 'deep.convkit', backend),
      (e: Error) => e instanceof FormatError && /deep\.convkit: not a valid convkit model file: header: JSON nested 100005 levels deep, more than the 64 accepted/.test(e.message));
    // Just within the limit still loads (the nesting sits in data no one walks).
    const ok = JSON.stringify(headerOf(file)).replace('"metadata":{}', `"metadata":{"x":${deep(MAX_JSON_DEPTH - 2)}}`);
    decodeModel(withHeader(file, ok), 'ok.convkit', backend);
  });

  it('a checkpoint whose header nests that deep is refused as damaged', () => {
    const ckpt = join(dir, 'deep-checkpoint');
    mkdirSync(ckpt);
    const file = encodeModel(tiny(), { checkpoint: { epoch: 1 } });
    const text = JSON.stringify(headerOf(file)).replace('"inputShape":[1,8,8]', `"inputShape":[1,8,8],"x":${deep(50_000)}`);
    writeFileSync(join(ckpt, 'checkpoint.convkit'), withHeader(file, text));
    assert.throws(() => loadCheckpoint(ckpt, backend), (e: Error) => e instanceof FormatError && /nested 50002 levels deep/.test(e.message));
  });

  it('the playground editor refuses deep text with a ConfigError', () => {
    assert.throws(() => parseNetwork(`{"nodes": ${deep(100_000)}}`), (e: Error) => e instanceof ConfigError && /nested 100001 levels deep/.test(e.message));
  });
});

describe('files that are not regular files', () => {
  it('a directory or a device is refused by name before reading', () => {
    assert.throws(() => readBytes(dir), (e: Error) => new RegExp(`cannot read ${dir}: it is a directory, not a regular file`).test(e.message));
    assert.throws(() => readBytes('/dev/zero'), /cannot read \/dev\/zero: it is a character device, not a regular file/);
  });
});

describe('wasm heap exhaustion', () => {
  it('is a ResourceError naming the sizes', async () => {
    const wasm = await WasmBackend.create(nodePlatform, { threads: 1, maximumMemoryMiB: 64 });
    try {
      assert.throws(() => wasm.alloc(32 << 20), (e: Error) => e instanceof ResourceError && /wasm backend: out of memory .* MiB/.test(e.message));
    } finally {
      wasm.dispose?.();
    }
  });
});
