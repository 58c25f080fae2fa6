/**
 * Hostile input, library level: each attack gets a convkit error naming the file and the
 * problem, quickly and without allocating what the input claims.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { WasmBackend } from '../src/backend/wasm.js';
import { ConfigError, ConvkitError, FormatError, ResourceError } from '../src/errors.js';
import { MAX_JSON_DEPTH, jsonDepth } from '../src/io/json.js';
import { decodeModel, encodeModel } from '../src/io/modelfile.js';
import { Model, type ModelSpec, estimateMemory, sequential } from '../src/model/model.js';
import { DEFAULT_MEMORY_LIMIT, parseByteSize } from '../src/model/memory.js';
import { Tensor } from '../src/tensor.js';
import { SoftmaxCrossEntropy } from '../src/train/loss.js';
import { loadCheckpoint } from '../src/node/checkpoint.js';
import { checkWritable, writeFileAtomic } from '../src/node/files.js';
import { loadImageFolder } from '../src/node/folder.js';
import { MAX_IMAGE_PIXELS, decodeImage, encodePng } from '../src/node/image.js';
import { readBytes } from '../src/node/mnist.js';
import { parseNetwork, validateNetwork } from '../web/src/network-def.js';
import { headerOf, mendPngCrcs, withHeader } from './fuzz-util.js';
import { createDeflate } from 'node:zlib';
import jpeg from 'jpeg-js';

const backend = new RefBackend();
const dir = mkdtempSync(join(tmpdir(), 'convkit-hostile-'));
const tiny = () =>
  new Model(
    sequential('tiny', [1, 8, 8], [{ type: 'conv2d', filters: 2, kernel: 3 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 3 }]),
    backend,
  );
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('JSON nesting depth', () => {
  it('is measured on the text, ignoring brackets inside strings', () => {
    assert.equal(jsonDepth('{"a": [1, {"b": "[[[{{{"}], "c": "\\"["}'), 3);
    assert.equal(jsonDepth('1'), 0);
  });

  it('a model file whose header nests 100 000 levels deep is a FormatError, not a stack overflow', () => {
    const file = encodeModel(tiny());
    const text = JSON.stringify(headerOf(file)).replace('"type":"relu"', `"type":"relu","x":${deep(100_000)}`);
    assert.throws(
      () => decodeModel(withHeader(file, text), 'deep.convkit', backend),
      (e: Error) =>
        e instanceof FormatError &&
        /deep\.convkit: not a valid convkit model file: header: JSON nested 100005 levels deep, more than the 64 accepted/.test(e.message),
    );
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
    assert.throws(
      () => loadCheckpoint(ckpt, backend),
      (e: Error) => e instanceof FormatError && /nested 50002 levels deep/.test(e.message),
    );
  });

  it('the playground editor refuses deep text with a ConfigError', () => {
    assert.throws(
      () => parseNetwork(`{"nodes": ${deep(100_000)}}`),
      (e: Error) => e instanceof ConfigError && /nested 100001 levels deep/.test(e.message),
    );
  });
});

describe('files that are not regular files', () => {
  it('a directory or a device is refused by name before reading', () => {
    assert.throws(
      () => readBytes(dir),
      (e: Error) => new RegExp(`cannot read ${dir}: it is a directory, not a regular file`).test(e.message),
    );
    assert.throws(() => readBytes('/dev/zero'), /cannot read \/dev\/zero: it is a character device, not a regular file/);
  });
});

describe('wasm heap exhaustion', () => {
  it('is a ResourceError naming the sizes', async () => {
    const wasm = await WasmBackend.create({ threads: 1, maximumMemoryMiB: 64 });
    try {
      assert.throws(
        () => wasm.alloc(32 << 20),
        (e: Error) =>
          e instanceof ResourceError &&
          /wasm backend: out of memory: a block needs 128\.0 MiB, more than the [\d.]+ MiB the wasm heap can ever hold/.test(e.message),
      );
    } finally {
      wasm.dispose?.();
    }
  });
});

describe('atomic writes and special files', () => {
  const at = (name: string) => join(dir, 'writes', name);
  mkdirSync(join(dir, 'writes'));
  const bytes = new TextEncoder().encode('new content');
  const noTemporaryFiles = () =>
    assert.deepEqual(
      readdirSync(join(dir, 'writes')).filter((f) => f.endsWith('.tmp')),
      [],
    );

  it('a symbolic link is followed: its target is replaced atomically, the link stays', () => {
    writeFileSync(at('target.bin'), 'old');
    symlinkSync('target.bin', at('link.bin'));
    symlinkSync('link.bin', at('link2.bin')); // a chain of relative links
    writeFileAtomic(at('link2.bin'), bytes);
    assert.ok(lstatSync(at('link.bin')).isSymbolicLink() && lstatSync(at('link2.bin')).isSymbolicLink());
    assert.equal(readlinkSync(at('link.bin')), 'target.bin');
    assert.equal(readFileSync(at('target.bin'), 'utf8'), 'new content');
    // A dangling link: the file it names is created.
    symlinkSync('created.bin', at('dangling.bin'));
    writeFileAtomic(at('dangling.bin'), bytes);
    assert.equal(readFileSync(at('created.bin'), 'utf8'), 'new content');
    assert.ok(lstatSync(at('dangling.bin')).isSymbolicLink());
    noTemporaryFiles();
  });

  it('a link loop is a clear error', () => {
    symlinkSync('loop-b', at('loop-a'));
    symlinkSync('loop-a', at('loop-b'));
    assert.throws(() => writeFileAtomic(at('loop-a'), bytes), /cannot write .*loop-a: more than 40 symbolic links \(a loop\?\)/);
    assert.throws(() => checkWritable(at('loop-a')), /more than 40 symbolic links/);
    assert.ok(lstatSync(at('loop-a')).isSymbolicLink());
  });

  it('a FIFO, a directory and a device node are refused by name, never replaced', (t) => {
    assert.equal(spawnSync('mkfifo', [at('fifo')]).status, 0, 'mkfifo');
    assert.throws(() => writeFileAtomic(at('fifo'), bytes), /cannot write .*fifo: it is a FIFO, not a regular file/);
    assert.throws(() => checkWritable(at('fifo')), /it is a FIFO/);
    assert.ok(lstatSync(at('fifo')).isFIFO());
    mkdirSync(at('folder'));
    assert.throws(() => writeFileAtomic(at('folder'), bytes), /it is a directory, not a regular file/);
    // Through a link, the message names what the link leads to.
    symlinkSync('fifo', at('to-fifo'));
    assert.throws(() => writeFileAtomic(at('to-fifo'), bytes), /to-fifo: .*\/fifo is a FIFO/);
    // A device node like /dev/full (character device 1:7), made here so that nothing real is at risk.
    if (spawnSync('mknod', [at('full'), 'c', '1', '7']).status !== 0) {
      t.diagnostic('mknod needs root: device node case skipped');
    } else {
      assert.throws(() => writeFileAtomic(at('full'), bytes), /it is a character device, not a regular file/);
      assert.ok(lstatSync(at('full')).isCharacterDevice());
    }
    noTemporaryFiles();
  });
});

describe('folder datasets with symbolic links', () => {
  const root = join(dir, 'folder');
  const png = encodePng({ width: 4, height: 4, channels: 1, pixels: new Uint8Array(16).fill(99) });
  for (const c of ['a', 'b']) {
    mkdirSync(join(root, c), { recursive: true });
    for (let i = 0; i < 5; i++) writeFileSync(join(root, c, `${i}.png`), png);
  }
  const load = () => loadImageFolder(root, 'train', { size: 4, channels: 1 });

  it('links to images and to class folders are followed', () => {
    symlinkSync(join(root, 'a', '0.png'), join(root, 'b', 'linked.png'));
    assert.equal(load().count, 9);
    rmSync(join(root, 'b', 'linked.png'));
  });

  it('a broken link or a link loop, to an image or a class folder, is an error naming it', () => {
    const cases: [string, string, RegExp][] = [
      [join(root, 'a', 'gone.png'), 'nowhere.png', /a\/gone\.png is a broken symbolic link \(it points to nowhere\.png, which does not exist\)/],
      [join(root, 'a', 'loop.png'), 'loop.png', /a\/loop\.png is a symbolic link loop/],
      [join(root, 'c'), 'missing-class', /\/c is a broken symbolic link/],
      [join(root, 'd'), 'd', /\/d is a symbolic link loop/],
    ];
    for (const [path, to, message] of cases) {
      symlinkSync(to, path);
      assert.throws(load, (e: Error) => e instanceof ConvkitError && e.message.startsWith(`folder dataset ${root}: `) && message.test(e.message), path);
      rmSync(path);
    }
    assert.equal(load().count, 8);
  });

  it('images stored at a size beyond the memory limit are refused before any is decoded', () => {
    assert.throws(
      () => loadImageFolder(root, 'train', { size: 4000, channels: 3, maxBytes: 2 ** 28 }),
      (e: Error) =>
        e instanceof ResourceError &&
        e.message ===
          `folder dataset ${root}: 8 train images stored at 4000×4000×3 need 366 MiB, more than the memory limit of 256 MiB (a smaller input size needs less, or raise the limit with --memory-limit)`,
    );
  });

  it('a FIFO named like an image is refused, not read', () => {
    assert.equal(spawnSync('mkfifo', [join(root, 'a', 'pipe.png')]).status, 0);
    assert.throws(load, /a\/pipe\.png is a FIFO, not an image file/);
    rmSync(join(root, 'a', 'pipe.png'));
  });
});

describe('image bombs', () => {
  const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  /** A PNG chunk (CRC filled in by mendPngCrcs). */
  const chunk = (type: string, data: ArrayLike<number>) => [...u32(data.length), ...[...type].map((c) => c.charCodeAt(0)), ...Array.from(data), 0, 0, 0, 0];
  const ihdr = (w: number, h: number, depth: number, colorType: number, interlace: number) =>
    chunk('IHDR', [...u32(w), ...u32(h), depth, colorType, 0, 0, interlace]);
  const png = (...chunks: number[][]) => mendPngCrcs(Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10, ...chunks.flat()]));
  const small = new Uint8Array(encodePng({ width: 4, height: 4, channels: 1, pixels: new Uint8Array(16) }));
  const smallIdat = () => {
    // the IDAT chunk of the small valid PNG
    const view = new DataView(small.buffer);
    for (let at = 8; ; ) {
      const n = view.getUint32(at);
      if (String.fromCharCode(...small.subarray(at + 4, at + 8)) === 'IDAT') return Array.from(small.subarray(at, at + 12 + n));
      at += 12 + n;
    }
  };
  const rssGrowth = (run: () => void) => {
    const before = process.memoryUsage().rss;
    run();
    return process.memoryUsage().rss - before;
  };

  it('PNG: a second IHDR (16000×16000 after a 4×4 one) is refused before decoding', () => {
    const bomb = png(ihdr(4, 4, 8, 0, 0), ihdr(16000, 16000, 8, 6, 0), smallIdat(), chunk('IEND', []));
    assert.ok(
      rssGrowth(() =>
        assert.throws(
          () => decodeImage(bomb, 'two-ihdr.png'),
          (e: Error) => e instanceof FormatError && /two-ihdr\.png: cannot decode PNG image: a second IHDR header at byte 33/.test(e.message),
        ),
      ) < 100e6,
    );
    // IHDR must also come first.
    assert.throws(() => decodeImage(png(chunk('tEXt', [65]), ihdr(4, 4, 8, 0, 0), smallIdat(), chunk('IEND', [])), 'late.png'), /no IHDR header at the start/);
  });

  it('PNG: an interlaced 16-bit bomb (a few hundred KB of real deflate data, 2^25 pixels) is refused before decoding', async () => {
    const [w, h] = [8192, 4096];
    assert.equal(w * h, MAX_IMAGE_PIXELS);
    // The raw interlaced data (filter bytes and 8 bytes per pixel, all zero), deflated in pieces.
    let raw = 0;
    for (const [x0, y0, dx, dy] of [
      [0, 0, 8, 8],
      [4, 0, 8, 8],
      [0, 4, 4, 8],
      [2, 0, 4, 4],
      [0, 2, 2, 4],
      [1, 0, 2, 2],
      [0, 1, 1, 2],
    ]) {
      raw += Math.ceil((h - y0) / dy) * (1 + 8 * Math.ceil((w - x0) / dx));
    }
    const deflate = createDeflate({ level: 9 });
    const parts: Buffer[] = [];
    deflate.on('data', (b: Buffer) => parts.push(b));
    const done = new Promise((ok) => deflate.on('end', ok));
    const zeros = Buffer.alloc(1 << 20);
    for (let left = raw; left > 0; left -= zeros.length) {
      if (!deflate.write(left >= zeros.length ? zeros : zeros.subarray(0, left))) await new Promise((ok) => deflate.once('drain', ok));
    }
    deflate.end();
    await done;
    const bomb = png(ihdr(w, h, 16, 6, 1), chunk('IDAT', Buffer.concat(parts)), chunk('IEND', []));
    assert.ok(bomb.length < 2e6, `${bomb.length} bytes`);
    assert.ok(
      rssGrowth(() =>
        assert.throws(
          () => decodeImage(bomb, 'interlaced.png'),
          (e: Error) =>
            e instanceof FormatError &&
            /interlaced\.png: .*claims 8192×4096 pixels, 16-bit interlaced: decoding it would need about \d+ MiB, more than the 256 MiB allowed/.test(
              e.message,
            ),
        ),
      ) < 100e6,
    );
  });

  it('PNG: a chunk running past the end and impossible depths are refused', () => {
    assert.throws(
      () => decodeImage(png(ihdr(4, 4, 8, 0, 0), [...u32(1e6), 73, 68, 65, 84, 1, 2, 3]), 'cut.png'),
      /cut\.png: cannot decode PNG image: the file is truncated: chunk "IDAT" at byte 33 claims 1000000 bytes, past its end/,
    );
    assert.throws(() => decodeImage(png(ihdr(4, 4, 3, 6, 0), smallIdat(), chunk('IEND', [])), 'depth.png'), /colour type 6 with bit depth 3 does not exist/);
  });

  const jpg = new Uint8Array(jpeg.encode({ width: 8, height: 8, data: Buffer.alloc(8 * 8 * 4, 128) }, 90).data);
  const sof = jpg.findIndex((v, i) => v === 0xff && jpg[i + 1] === 0xc0);
  const sofSegment = (w: number, h: number) => {
    const seg = jpg.slice(sof, sof + 2 + ((jpg[sof + 2] << 8) | jpg[sof + 3]));
    seg.set([h >> 8, h & 255, w >> 8, w & 255], 5);
    return seg;
  };
  const splice = (at: number, insert: ArrayLike<number>) => Uint8Array.from([...jpg.subarray(0, at), ...Array.from(insert), ...jpg.subarray(at)]);

  it('JPEG: a second frame header (8000×4000 after the real one) is refused', () => {
    const bomb = splice(sof + 2 + ((jpg[sof + 2] << 8) | jpg[sof + 3]), sofSegment(8000, 4000));
    assert.ok(bomb.length < 1000);
    assert.ok(
      rssGrowth(() =>
        assert.throws(
          () => decodeImage(bomb, 'two-sof.jpg'),
          (e: Error) =>
            e instanceof FormatError && /two-sof\.jpg: cannot decode JPEG image: a second frame header \(SOF marker 0xc0\) at byte \d+/.test(e.message),
        ),
      ) < 100e6,
    );
  });

  it('JPEG: junk before the frame header does not hide it', () => {
    // 00 E0 00 02 is what jpeg-js takes for a malformed APP0 segment of length 2 (it recovers and reads on).
    const bomb = Uint8Array.from([
      ...jpg.subarray(0, sof),
      0x00,
      0xe0,
      0x00,
      0x02,
      ...sofSegment(8000, 4000),
      ...jpg.subarray(sof + 2 + ((jpg[sof + 2] << 8) | jpg[sof + 3])),
    ]);
    assert.ok(
      rssGrowth(() =>
        assert.throws(
          () => decodeImage(bomb, 'junk.jpg'),
          (e: Error) =>
            e instanceof FormatError && /junk\.jpg: cannot decode JPEG image: it claims 8000×4000 pixels, more than its \d+ bytes can encode/.test(e.message),
        ),
      ) < 100e6,
    );
  });
});

describe('model metadata (metadata.data)', () => {
  const model = tiny(); // input [1, 8, 8], 3 outputs
  const valid = { dataset: 'mnist', channels: 1, height: 8, width: 8, mean: [0.13], std: [0.31], classes: ['a', 'b', 'c'] };
  const load = (data: unknown) => decodeModel(encodeModel(model, { data }), 'meta.convkit', backend);

  it('a valid description loads', () => {
    assert.deepEqual(load(valid).metadata.data, valid);
    const { classes: _, ...noClasses } = valid;
    load(noClasses);
    decodeModel(encodeModel(model, {}), 'none.convkit', backend); // no description: nothing to check
  });

  it('every field is checked: a FormatError naming the file, the field and the problem', () => {
    const { mean: _, ...noMean } = valid;
    const cases: [unknown, RegExp][] = [
      [noMean, /mean must list 1 value\(s\), one per channel, got undefined/],
      [{ ...valid, dataset: 5 }, /dataset must be a name, got 5/],
      [{ ...valid, width: 1e6 }, /width is 1000000, the model's input needs 8 to 72/],
      [{ ...valid, height: 20000 }, /height is 20000/],
      [{ ...valid, height: 4 }, /height is 4/],
      [{ ...valid, height: 8.5 }, /height is 8\.5/],
      [{ ...valid, std: [0] }, /std\[0\] is 0, must be in \(0, 1\]/],
      [{ ...valid, std: [-0.3] }, /std\[0\] is -0\.3/],
      [{ ...valid, std: [null] }, /std\[0\] is null/],
      [{ ...valid, std: [0.3, 0.3] }, /std must list 1 value/],
      [{ ...valid, mean: [1e300] }, /mean\[0\] is 1e\+300, must be in \[0, 1\]/],
      [{ ...valid, mean: ['0.1'] }, /mean\[0\] is "0\.1"/],
      [{ ...valid, channels: 3 }, /channels is 3, the model's input has 1/],
      [{ ...valid, classes: ['a'] }, /classes must be 3 name\(s\), one per output/],
      [{ ...valid, classes: 'abc' }, /classes must be 3 name/],
      [[valid], /expected an object/],
      [null, /expected an object, got null/],
    ];
    for (const [data, message] of cases) {
      assert.throws(
        () => load(data),
        (e: Error) =>
          e instanceof FormatError && e.message.startsWith('meta.convkit: invalid training-data description (metadata.data): ') && message.test(e.message),
        JSON.stringify(data),
      );
    }
  });
});

describe('activation memory budget', () => {
  const graph: ModelSpec = {
    name: 'graph',
    inputShape: [2, 12, 12],
    nodes: [
      { name: 'a', layer: { type: 'conv2d', filters: 4, kernel: 3, padding: 1 }, inputs: ['input'] },
      { name: 'bn', layer: { type: 'batchnorm2d' }, inputs: ['a'] },
      { name: 'r', layer: { type: 'relu' }, inputs: ['bn'] },
      { name: 'sum', layer: { type: 'add' }, inputs: ['r', 'a'] },
      { name: 'cat', layer: { type: 'concat' }, inputs: ['sum', 'input'] },
      { name: 'pool', layer: { type: 'maxpool2d', kernel: 2 }, inputs: ['cat'] },
      { name: 'drop', layer: { type: 'dropout', rate: 0.5 }, inputs: ['pool'] },
      { name: 'flat', layer: { type: 'flatten' }, inputs: ['drop'] },
      { name: 'out', layer: { type: 'dense', units: 5 }, inputs: ['flat'] },
    ],
  };

  it('the estimate covers what a training step really allocates, within a small margin', () => {
    let allocated = 0;
    const inner = new RefBackend();
    const counting = Object.assign(Object.create(inner) as RefBackend, {
      alloc: (n: number) => {
        allocated += n;
        return inner.alloc(n);
      },
    });
    const N = 8;
    const model = new Model(graph, counting);
    const loss = new SoftmaxCrossEntropy(counting);
    const x = new Tensor([N, 2, 12, 12], counting.alloc(N * 288));
    const logits = model.forward(x, true);
    const { grad } = loss.compute(logits, new Uint8Array(N));
    model.backward(grad);
    const estimate = model.estimateMemory({ batchSize: N, training: true, optimizer: 'none' });
    assert.deepEqual(estimate, estimateMemory(graph, { batchSize: N, training: true, optimizer: 'none' }), 'from the spec alone, the same figures');
    const real = 4 * allocated;
    assert.ok(estimate.bytes >= real && estimate.bytes <= 1.25 * real + 4096, `estimate ${estimate.bytes} bytes, allocated ${real}`);
  });

  it('estimating a network that would need terabytes allocates nothing', () => {
    const spec = sequential(
      'pad',
      [1, 28, 28],
      [{ type: 'conv2d', filters: 1, kernel: 1, padding: 4000 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 10 }],
    );
    const before = process.memoryUsage().rss;
    const e = estimateMemory({ ...spec, nodes: spec.nodes.slice(0, 2) }, { batchSize: 60000, training: true });
    assert.ok(e.bytes > 2 ** 40 && e.largest.node === 'relu1', JSON.stringify(e));
    assert.ok(process.memoryUsage().rss - before < 50e6);
  });

  it('Model.forward refuses a batch over the limit before allocating it, naming the model, the layer and the bytes', () => {
    const spec = sequential(
      'padded',
      [1, 8, 8],
      [{ type: 'conv2d', filters: 2, kernel: 1, padding: 100 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 3 }],
    );
    const model = new Model(spec, backend, 1, { memoryBytes: 64 * 2 ** 20 });
    model.forward(new Tensor([1, 1, 8, 8], new Float32Array(64)));
    const x = new Tensor([100, 1, 8, 8], new Float32Array(6400));
    assert.throws(
      () => model.forward(x, true),
      (e: Error) =>
        e instanceof ResourceError &&
        /^model "padded" training with batch 100 needs about \d+ MiB \(activations \d+ MiB, the largest node "relu1" \(relu\) \d+\.\d MiB; .*\), more than the memory limit of 64\.0 MiB$/.test(
          e.message,
        ),
    );
    assert.equal(model.activations().get('conv1')?.shape[0], 1, 'no buffers for batch 100 were made');
    assert.equal(DEFAULT_MEMORY_LIMIT, 2 ** 31);
  });

  it('memory sizes parse with binary units', () => {
    assert.equal(parseByteSize('8GiB'), 8 * 2 ** 30);
    assert.equal(parseByteSize('512 MiB'), 512 * 2 ** 20);
    assert.equal(parseByteSize('1.5g'), 1.5 * 2 ** 30);
    assert.equal(parseByteSize('1048576'), 2 ** 20);
    for (const bad of ['', '-1', '0', 'lots', '5 parsecs', '1e400']) assert.throws(() => parseByteSize(bad), ConfigError);
  });
});

describe('the playground validates a network by its memory before building it', () => {
  it('4000 filters on 28×28 digits, trained in batches of 32: a ResourceError, nothing allocated', () => {
    const spec = parseNetwork(
      '{"input": [1, 28, 28], "layers": [{"type": "conv2d", "filters": 4000, "kernel": 3, "padding": 1}, {"type": "relu"}, {"type": "flatten"}, {"type": "dense", "units": 10}]}',
    );
    const before = process.memoryUsage().rss;
    assert.throws(
      () => validateNetwork(spec),
      (e: Error) =>
        e instanceof ResourceError && /model "custom" training with batch 32 needs about [\d.]+ GiB .*more than the memory limit of 1\.0 GiB/.test(e.message),
    );
    assert.ok(process.memoryUsage().rss - before < 100e6);
    validateNetwork(
      parseNetwork(
        '{"input": [1, 28, 28], "layers": [{"type": "conv2d", "filters": 8, "kernel": 3}, {"type": "relu"}, {"type": "flatten"}, {"type": "dense", "units": 10}]}',
      ),
    );
  });
});
