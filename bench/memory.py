"""Peak memory of training, gradkit vs PyTorch, for the CNN and the ResNet-style benchmarks: the highest
resident set size seen during a few training steps (sampled every millisecond by a thread) minus the
RSS before the first step. Each framework runs in a fresh subprocess so neither sees the other's memory."""
import json
import subprocess
import sys

CHILD = r"""
import json, sys, threading, time
import numpy as np

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
framework, model_name, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
if framework == "torch":
    import torch as lib
    lib.set_num_threads(2)
else:
    import gradkit as lib
from bench import cnn, resnet
model = cnn._model(lib) if model_name == "cnn" else resnet.build(lib)
shape = (64, 1, 28, 28) if model_name == "cnn" else (32, 3, 32, 32)
rng = np.random.default_rng(0)
x = lib.tensor(rng.standard_normal(shape).astype(np.float32))
y = lib.tensor(rng.integers(0, 10, shape[0]))
opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
before = rss_mb()
peak, running = [before], [True]

def sample():
    while running[0]:
        peak[0] = max(peak[0], rss_mb())
        time.sleep(0.001)

sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
for _ in range(steps):
    loss = lib.nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
running[0] = False
sampler.join()
print(json.dumps({"growth_mb": peak[0] - before}))
"""


def measure(framework, model, steps=5):
    out = subprocess.run([sys.executable, "-c", CHILD, framework, model, str(steps)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["growth_mb"]


def run(rounds=3):
    rows = []
    for model in ("cnn", "resnet"):
        ours = sorted(measure("gradkit", model) for _ in range(rounds))[rounds // 2]
        theirs = sorted(measure("torch", model) for _ in range(rounds))[rounds // 2]
        rows.append({"benchmark": f"peak RSS growth, {model} training", "gradkit_MB": round(ours, 1),
                     "torch_MB": round(theirs, 1), "ratio": round(ours / max(theirs, 1e-9), 3)})
    return rows
