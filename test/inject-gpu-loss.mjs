// Loaded with `node --import`: destroys the WebGPU device after CONVKIT_LOSE_GPU_AFTER queue
// submissions, as a driver reset or an unplugged GPU would (tests of the lost-device path).
import { globals } from 'webgpu';

const after = Number(process.env.CONVKIT_LOSE_GPU_AFTER);
const requestDevice = globals.GPUAdapter.prototype.requestDevice;
globals.GPUAdapter.prototype.requestDevice = async function (...args) {
  const device = await requestDevice.apply(this, args);
  const submit = device.queue.submit.bind(device.queue);
  let submitted = 0;
  device.queue.submit = (buffers) => {
    submit(buffers);
    if (++submitted === after) device.destroy();
  };
  return device;
};
