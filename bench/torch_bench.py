#!/usr/bin/env python3
"""PyTorch side of convkit's benchmark harness (bench/run.mjs starts it; see docs/BENCHMARKS.md).

Speaks JSON lines on stdin/stdout so that the Node harness can interleave PyTorch's timed runs
with the other libraries': it first prints {"ready": ...}, then answers each request
  {"op": "prepare", "id": K, "work": {...}}  -> {"ok": true} | {"ok": false, "unsupported"|"error": ...}
  {"op": "time", "id": K, "n": N}            -> {"ok": true, "seconds": S}   (N steps, timed here)
  {"op": "release", "id": K}                 -> {"ok": true}
Networks arrive as convkit's resolved layer list, so the layer shapes are convkit's own.
`python3 torch_bench.py --selftest` prints one SGEMM measurement as JSON and exits.
"""
import json
import os
import sys
import time

LR = 0.01


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def blas_in_use():
    """Which BLAS the process mapped: Debian's torch links the slow reference BLAS unless OpenBLAS comes first."""
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return "unknown BLAS"
    if "openblas" in maps:
        return "OpenBLAS"
    if "libblas" in maps:
        return "reference BLAS"
    return "unknown BLAS"


class Unsupported(Exception):
    pass


def build_net(torch, layers):
    nn = torch.nn
    mods = []
    for i, l in enumerate(layers):
        t = l["type"]
        if t == "conv2d":
            mods.append(nn.Conv2d(l["inShape"][0], l["filters"], tuple(l["kernel"]), tuple(l["stride"]), tuple(l["padding"]),
                                  groups=l["groups"], bias=l["bias"]))
        elif t == "maxpool2d":
            mods.append(nn.MaxPool2d(tuple(l["kernel"]), tuple(l["stride"]), tuple(l["padding"]), ceil_mode=l["ceil"]))
        elif t == "avgpool2d":
            mods.append(nn.AvgPool2d(tuple(l["kernel"]), tuple(l["stride"]), tuple(l["padding"]), ceil_mode=l["ceil"],
                                     count_include_pad=l["countPad"]))
        elif t == "dense":
            fan_in = 1
            for d in l["inShape"]:
                fan_in *= d
            if len(l["inShape"]) > 1:
                mods.append(nn.Flatten())
            mods.append(nn.Linear(fan_in, l["units"], bias=l["bias"]))
        elif t == "relu":
            mods.append(nn.ReLU())
        elif t == "tanh":
            mods.append(nn.Tanh())
        elif t == "sigmoid":
            mods.append(nn.Sigmoid())
        elif t == "softmax":
            mods.append(nn.Softmax(dim=1))
        elif t == "flatten":
            mods.append(nn.Flatten())
        elif t == "dropout":
            mods.append(nn.Dropout(l["rate"]))
        elif t == "lrn":  # same formula as convkit: a / (k + alpha/n * sum a^2)^beta
            mods.append(nn.LocalResponseNorm(l["size"], l["alpha"], l["beta"], l["k"]))
        else:
            raise Unsupported("not comparable: no %s layer in this translation" % t)
    return nn.Sequential(*mods)


def load_batches(torch, numpy, work):
    b, shape = work["batch"], work["inputShape"]
    x = numpy.fromfile(work["xFile"], dtype=numpy.float32).reshape(-1, b, *shape)
    y = numpy.fromfile(work["labelsFile"], dtype=numpy.int32).reshape(-1, b).astype(numpy.int64)
    return [torch.from_numpy(x[i].copy()) for i in range(x.shape[0])], [torch.from_numpy(y[i].copy()) for i in range(y.shape[0])]


def prepare(torch, numpy, work):
    """Returns step(i): one training step, one forward pass, or one matrix product."""
    kind = work["kind"]
    if kind == "gemm":
        n = work["size"]
        g = torch.Generator().manual_seed(1)
        a, b = torch.rand(n, n, generator=g) * 2 - 1, torch.rand(n, n, generator=g) * 2 - 1
        c = torch.empty(n, n)
        return lambda i: torch.mm(a, b, out=c)
    torch.manual_seed(1)
    net = build_net(torch, work["layers"])
    xs, ys = load_batches(torch, numpy, work)
    with torch.no_grad():
        shape = list(net.eval()(xs[0]).shape)
    if shape != [work["batch"]] + work["layers"][-1]["outShape"]:
        raise RuntimeError("PyTorch output %s differs from convkit's %s" % (shape, work["layers"][-1]["outShape"]))
    if kind == "infer":
        net.eval()

        def infer(i):
            with torch.inference_mode():
                net(xs[i % len(xs)])
        return infer
    net.train()
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=0.9)
    loss_fn = torch.nn.functional.cross_entropy

    def train(i):
        opt.zero_grad(set_to_none=True)
        loss_fn(net(xs[i % len(xs)]), ys[i % len(ys)]).backward()
        opt.step()
    return train


def timed(step, n):
    t0 = time.perf_counter()
    for i in range(n):
        step(i)
    return time.perf_counter() - t0


def main():
    try:
        import numpy
        import torch
    except ImportError as e:
        reply({"ready": False, "error": str(e)})
        return
    threads = int(os.environ.get("BENCH_THREADS", os.cpu_count() or 1))
    torch.set_num_threads(threads)  # Debian's build defaults to 1 thread here
    if "--selftest" in sys.argv:
        step = prepare(torch, numpy, {"kind": "gemm", "size": 1024})
        step(0)
        s = timed(step, 5)
        reply({"work": "sgemm-1024", "library": "torch", "median": round(5 * 2 * 1024 ** 3 / s / 1e9, 2), "unit": "GFLOP/s", "blas": blas_in_use(), "threads": threads})
        return
    # Torch may print to stdout; our replies must stay the only lines there.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = out
    reply({"ready": True, "version": torch.__version__.split("+")[0], "threads": torch.get_num_threads(), "blas": blas_in_use()})
    steps = {}
    for line in sys.stdin:
        req = json.loads(line)
        op, key = req.get("op"), req.get("id")
        try:
            if op == "prepare":
                steps[key] = prepare(torch, numpy, req["work"])
                reply({"ok": True})
            elif op == "time":
                reply({"ok": True, "seconds": timed(steps[key], req["n"])})
            elif op == "release":
                steps.pop(key, None)
                reply({"ok": True})
            elif op == "quit":
                reply({"ok": True})
                return
            else:
                reply({"ok": False, "error": "unknown op %r" % op})
        except Unsupported as e:
            reply({"ok": False, "unsupported": str(e)})
        except Exception as e:  # reported per case; the server keeps serving
            reply({"ok": False, "error": "%s: %s" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")})


if __name__ == "__main__":
    main()
