import { Model, WasmBackend, zoo, explain } from '../src/index.ts';
const b = await WasmBackend.create({ threads: 1 });
const m = new Model(zoo.lenet5.build(), b, 1);
const mem = () => {
  const u = process.memoryUsage();
  return `rss ${(u.rss / 1e6).toFixed(0)} heap ${(u.heapUsed / 1e6).toFixed(0)} ext ${(u.external / 1e6).toFixed(0)} ab ${(u.arrayBuffers / 1e6).toFixed(0)}`;
};
console.log('start', mem());
for (const steps of [200, 2000]) {
  const t = performance.now();
  await explain.maximizeActivation(m, { node: 'conv2', channel: 3, steps });
  console.log(steps, mem(), ((performance.now() - t) / steps).toFixed(2), 'ms/step');
}
