"""Training speed on an accelerator: nnlib on JAX against plain JAX and PyTorch.

Usage (repository root)::

    python benchmarks/gpu.py              # on whatever device JAX finds; prints Markdown
    python benchmarks/gpu.py --quick      # a few steps only (what the CPU run does by default)

One short run that prints the device, then steps per second of the same MLP
(workload C of ``training_speed.py``: 784 → 256 → 256 → 10, ReLU, softmax
cross-entropy, plain SGD) trained by

* **nnlib-JAX**: ``nnlib.train.fit`` on the JAX backend, the whole timed run
  in one compiled ``lax.scan`` (``steps_per_call``), mini-batches drawn by
  ``fit`` itself from data already on the device;
* **plain JAX**: the same network written directly with ``jax.grad`` and the
  same ``lax.scan`` over the same mini-batch indices;
* **PyTorch eager** (if ``import torch`` works and sees the same kind of
  device): ``nn.Sequential`` of ``nn.Linear``, ``torch.optim.SGD``.

for three cases: batch 128, batch 4096, and one MNIST-sized epoch (60,000
synthetic rows of 784 features, batch 128: 468 full batches), each in float32 and in
mixed precision with bfloat16 and float16 compute (float32 master weights;
``fit(compute_dtype=...)`` in nnlib, casts inside the step in plain JAX,
``torch.autocast`` in PyTorch; float16 with a static loss scale of 1024 in
nnlib and a ``GradScaler`` in PyTorch). The data are synthetic (random inputs,
labels from a random linear teacher): speed does not depend on the values.
The three implementations start from different random weights of the same
scale, so their final losses agree only roughly; the column is there to show
that each really trained.

Implementations are interleaved (round robin over ``--repeats`` rounds); the
median and minimum are reported. Compilation is excluded (a warm-up run with
the same shapes first). On a GPU, JAX's float32 matrix products may use
TF32 tensor cores by default while PyTorch's do not
(``torch.backends.cuda.matmul.allow_tf32`` is printed): read the float32 rows
with that in mind.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import nnlib  # noqa: E402
from nnlib.model import mlp  # noqa: E402
from nnlib.train import fit  # noqa: E402

SIZES = [784, 256, 256, 10]
LR = 0.01
DTYPES = ("float32", "bfloat16", "float16")
Runner = Callable[[], float]  # one timed run -> final loss


def make_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, SIZES[0])).astype(np.float32)
    y = np.argmax(X @ rng.standard_normal((SIZES[0], SIZES[-1])), axis=1).astype(np.int64)
    return X, y


def batch_indices(n: int, batch: int, steps: int, seed: int = 0) -> np.ndarray:
    """``(steps, batch)`` row indices: consecutive shuffled epochs, like ``fit`` draws them."""
    rng = np.random.default_rng(seed)
    out, order, at = [], rng.permutation(n), 0
    while len(out) < steps:
        if at + batch > n:
            order, at = rng.permutation(n), 0
        out.append(order[at : at + batch])
        at += batch
    return np.stack(out)


# ----------------------------------------------------------------------------- nnlib-JAX
def nnlib_runner(X: np.ndarray, y: np.ndarray, batch: int, steps: int, dtype: str) -> Runner:
    model = mlp(SIZES, activation="relu")
    params = model.init(seed=0)
    extra = {}
    if dtype != "float32":
        extra["compute_dtype"] = dtype
        if dtype == "float16":
            extra["loss_scale"] = 1024.0
    n_rows = batch * steps if len(X) >= batch * steps else len(X)
    Xr, yr = X[:n_rows], y[:n_rows]
    epochs = max(1, (batch * steps) // n_rows)

    def run() -> float:
        with nnlib.use_backend("jax"):
            result = fit(
                model,
                params,
                Xr,
                yr,
                loss="cross_entropy",
                optimizer="sgd",
                lr=LR,
                epochs=epochs,
                batch_size=batch,
                steps_per_call=steps,
                **extra,
            )
        return float(result.history.step_loss[-1])

    return run


# ----------------------------------------------------------------------------- plain JAX
def plain_jax_runner(X: np.ndarray, y: np.ndarray, batch: int, steps: int, dtype: str) -> Runner:
    compute = {"float32": jnp.float32, "bfloat16": jnp.bfloat16, "float16": jnp.float16}[dtype]
    scale = 1024.0 if dtype == "float16" else 1.0
    rng = np.random.default_rng(0)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:], strict=True):
        W = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        params.append((jnp.asarray(W, jnp.float32), jnp.zeros(fan_out, jnp.float32)))
    Xd, yd = jnp.asarray(X), jnp.asarray(y)
    idx = jnp.asarray(batch_indices(len(X), batch, steps))

    def loss_fn(ps, xb, yb):
        h = xb.astype(compute)
        for i, (W, b) in enumerate(ps):
            h = h @ W.astype(compute) + b.astype(compute)
            if i < len(ps) - 1:
                h = jax.nn.relu(h)
        logits = h.astype(jnp.float32)
        logp = jax.nn.log_softmax(logits)
        return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1)) * scale

    @jax.jit
    def train(ps, idx):
        def step(ps, rows):
            loss, grads = jax.value_and_grad(loss_fn)(ps, Xd[rows], yd[rows])
            ps = jax.tree.map(lambda p, g: p - LR * g / scale, ps, grads)
            return ps, loss / scale

        return jax.lax.scan(step, ps, idx)

    def run() -> float:
        _, losses = train(params, idx)
        return float(losses[-1])

    return run


# ----------------------------------------------------------------------------- PyTorch
def torch_runner(X: np.ndarray, y: np.ndarray, batch: int, steps: int, dtype: str) -> Runner | None:
    try:
        import torch
    except ImportError:
        return None
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if (device == "cuda") != (jax.default_backend() == "gpu"):
        return None  # compare like with like
    torch.manual_seed(0)
    layers: list = []
    for i, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:], strict=True)):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers).to(device)
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    Xd = torch.as_tensor(X, device=device)
    yd = torch.as_tensor(y, device=device)
    idx = torch.as_tensor(batch_indices(len(X), batch, steps), device=device)
    amp = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    scaler = torch.amp.GradScaler(device, init_scale=1024.0) if dtype == "float16" else None

    def run() -> float:
        loss = None
        for rows in idx:
            opt.zero_grad(set_to_none=True)
            with torch.autocast(device, dtype=amp, enabled=amp is not None):
                loss = torch.nn.functional.cross_entropy(net(Xd[rows]), yd[rows])
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
        if device == "cuda":
            torch.cuda.synchronize()
        return float(loss)

    return run


# ----------------------------------------------------------------------------- timing
def time_interleaved(runners: dict[str, Runner], repeats: int) -> tuple[dict, dict]:
    times: dict[str, list[float]] = {name: [] for name in runners}
    losses: dict[str, float] = {}
    for name, run in runners.items():  # warm-up: compilation, allocation
        try:
            losses[name] = run()
        except Exception as err:  # a missing feature is reported, not fatal
            losses[name] = float("nan")
            times[name] = []
            print(f"  {name}: not run ({type(err).__name__}: {str(err)[:120]})", flush=True)
    for _ in range(repeats):
        for name, run in runners.items():
            if name in losses and np.isnan(losses[name]) and not times[name]:
                continue
            start = time.perf_counter()
            losses[name] = run()
            times[name].append(time.perf_counter() - start)
    return times, losses


def describe_device() -> list[str]:
    lines = [
        f"- date: {time.strftime('%Y-%m-%d')}",
        f"- host: {platform.node() or '?'}, Python {platform.python_version()}",
        f"- JAX {jax.__version__}, backend {jax.default_backend()}, devices: "
        + ", ".join(d.device_kind for d in jax.devices()),
    ]
    try:
        import torch

        cuda = torch.cuda.is_available()
        lines.append(
            f"- PyTorch {torch.__version__}, "
            + (
                f"CUDA device {torch.cuda.get_device_name(0)}, "
                f"allow_tf32={torch.backends.cuda.matmul.allow_tf32}"
                if cuda
                else "CPU"
            )
        )
    except ImportError:
        lines.append("- PyTorch: not installed")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="few steps (default off a GPU)")
    args = parser.parse_args()
    on_gpu = jax.default_backend() == "gpu"
    quick = args.quick or not on_gpu
    cases = [  # (name, rows of data, batch, timed steps)
        ("batch 128", 128 * 200, 128, 20 if quick else 200),
        ("batch 4096", 4096 * 20, 4096, 4 if quick else 50),
        ("MNIST-sized epoch (60,000 rows, batch 128)", 60_000, 128, 20 if quick else 468),
    ]
    print("\n".join(describe_device()))
    print(f"- {args.repeats} interleaved rounds; {'quick run' if quick else 'full run'}\n")
    header = (
        "| case | compute dtype | implementation | steps | steps/s median (max) "
        "| ms per run median (min) | final loss |"
    )
    rows = [header, "|---|---|---|---:|---:|---:|---:|"]
    for case, n, batch, steps in cases:
        X, y = make_data(n)
        for dtype in DTYPES:
            runners: dict[str, Runner] = {
                "nnlib-JAX (fit, one scan)": nnlib_runner(X, y, batch, steps, dtype),
                "plain JAX (scan)": plain_jax_runner(X, y, batch, steps, dtype),
            }
            torch_run = torch_runner(X, y, batch, steps, dtype)
            if torch_run is not None:
                runners["PyTorch eager"] = torch_run
            print(f"{case}, {dtype}: timing {', '.join(runners)}", flush=True)
            times, losses = time_interleaved(runners, args.repeats)
            for name, ts in times.items():
                if not ts:
                    rows.append(f"| {case} | {dtype} | {name} | {steps} | n/a | n/a | n/a |")
                    continue
                med, best = statistics.median(ts), min(ts)
                rows.append(
                    f"| {case} | {dtype} | {name} | {steps} | {steps / med:,.0f} "
                    f"({steps / best:,.0f}) | {1e3 * med:.2f} ({1e3 * best:.2f}) | "
                    f"{losses[name]:.4g} |"
                )
    print()
    print("\n".join(rows))


if __name__ == "__main__":
    main()
