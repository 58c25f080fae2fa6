#!/usr/bin/env sh
# LeNet-5 on MNIST through WebGPU, the whole run (target ≥ 98.5 %): one epoch by default,
# more with --epochs N; any other `convkit train` flag passes through. Without a GPU it runs on
# SwiftShader, the software Vulkan driver of Debian's chromium (apt-get install chromium
# libvulkan1): over an hour on two cores. CI runs a reduced version (test/backend-choice.test.ts).
set -eu
cd "$(dirname "$0")/.."
if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ] && ! ls /usr/share/vulkan/icd.d/*nvidia* /usr/share/vulkan/icd.d/*radeon* /usr/share/vulkan/icd.d/*intel* >/dev/null 2>&1; then
  export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
fi
exec node bin/convkit.js train --backend webgpu --model lenet5 --dataset mnist --epochs 1 --out lenet5-webgpu.convkit "$@"
