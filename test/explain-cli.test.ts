import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RefBackend } from '../src/backend/ref.js';
import { Model } from '../src/model/model.js';
import { zoo } from '../src/model/zoo.js';
import { saveModel } from '../src/node/files.js';
import { readImage, writePng } from '../src/node/image.js';
import { loadMnist } from '../src/node/mnist.js';

// These run the built CLI (dist/): `npm test` builds first; alone, run `npx tsc -p .` before.
const dir = mkdtempSync(join(tmpdir(), 'convkit-explain-cli-'));
const cli = (...args: string[]) => spawnSync(process.execPath, [join(process.cwd(), 'bin/convkit.js'), ...args], { encoding: 'utf8', cwd: dir });
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

const modelFile = join(dir, 'lenet5.convkit');
saveModel(modelFile, new Model(zoo.lenet5.build(), new RefBackend('float32'), 3));
const test = loadMnist('test');
const digits = [0, 1].map((i) => {
  const file = join(dir, `digit${i}.png`);
  writePng(file, { width: 28, height: 28, channels: 1, pixels: test.images.subarray(i * 784, (i + 1) * 784) });
  return file;
});

describe('convkit explain', () => {
  for (const method of ['saliency', 'smoothgrad', 'gradxinput', 'gradcam', 'gradcam++', 'occlusion', 'guided']) {
    it(`--method ${method} writes a heat-map PNG per image (input × scale, plus the legend) and the top classes`, () => {
      const out = join(dir, `out-${method}`);
      const r = cli(
        'explain',
        '--model-file',
        modelFile,
        '--method',
        method,
        '--out',
        out,
        '--backend',
        'ref',
        '--samples',
        '4',
        '--scale',
        '4',
        ...digits,
        '--json',
      );
      assert.equal(r.status, 0, r.stderr);
      const result = lastJson(r.stdout);
      assert.equal(result.type, 'result');
      assert.equal(result.explanations.length, 2);
      assert.deepEqual(readdirSync(out).sort(), ['digit0-' + method + '.png', 'digit1-' + method + '.png']);
      for (const e of result.explanations) {
        const png = readImage(e.out);
        assert.equal(png.width, 28 * 4);
        assert.ok(png.height > 28 * 4 && png.height < 28 * 4 + 40, `height ${png.height}: the image and a legend strip`);
        assert.deepEqual([png.width, png.height], [e.width, e.height]);
        assert.equal(e.top.length, 3);
        assert.equal(e.map.length, e.mapShape[0] * e.mapShape[1]);
        assert.ok(e.map.every(Number.isFinite));
        if (method.startsWith('gradcam')) assert.equal(e.layer, 'conv2');
      }
    });
  }

  it('text output names the class and the file written', () => {
    const r = cli(
      'explain',
      '--model-file',
      modelFile,
      '--method',
      'gradcam',
      '--layer',
      'conv1',
      '--class',
      '3',
      '--out',
      join(dir, 'text'),
      '--backend',
      'ref',
      digits[0],
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /digit0\.png: .*%.*; gradcam at conv1 for 3 → .*digit0-gradcam\.png/);
  });

  it('bad layer, class or method: a clear error listing the valid ones, and nothing written', () => {
    const out = join(dir, 'bad');
    let r = cli('explain', '--model-file', modelFile, '--method', 'gradcam', '--layer', 'conv7', '--out', out, '--backend', 'ref', digits[0]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no Grad-CAM layer "conv7".*nodes: conv1, relu1, pool1, conv2/);
    r = cli('explain', '--model-file', modelFile, '--method', 'gradcam', '--layer', 'fc2', '--out', out, '--backend', 'ref', digits[0]);
    assert.match(r.stderr, /not a feature map.*spatial nodes: conv1, relu1, pool1, conv2, relu2, pool2/);
    r = cli('explain', '--model-file', modelFile, '--class', 'eleven', '--out', out, '--backend', 'ref', digits[0]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /class "eleven" does not exist.*0=0, 1=1/);
    r = cli('explain', '--model-file', modelFile, '--method', 'lime', '--out', out, digits[0]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /saliency, smoothgrad, gradxinput, gradcam, gradcam\+\+, occlusion, guided/);
    r = cli('explain', '--model-file', modelFile, '--layer', 'conv1', '--out', out, '--backend', 'ref', digits[0]);
    assert.match(r.stderr, /--layer applies to --method gradcam/);
    r = cli('explain', '--model-file', modelFile, '--out', out, '--backend', 'ref', digits[0], join(dir, 'missing.png'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /image .*missing\.png does not exist/);
    assert.equal(existsSync(out), false);
    r = cli('explain', '--model-file', modelFile, '--out', digits[1], '--backend', 'ref', digits[0]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--out .*digit1\.png is not a directory/);
  });
});
