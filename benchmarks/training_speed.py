"""How fast does nnlib train? NumPy and JAX against PyTorch and the GEMM floor.

Usage (from the repository root, in the course's environment)::

    python benchmarks/training_speed.py                 # everything, prints Markdown
    python benchmarks/training_speed.py --repeats 3 --workloads A B64

Every implementation trains the same MLP from the same initial weights with
plain SGD in float32 on the same batch, for a fixed number of steps:

=====  ==========================  ==========  =====================  =====================
name   network                     activation  loss                   data, batch
=====  ==========================  ==========  =====================  =====================
A      2 → 16 → 16 → 1             tanh        binary cross-entropy   200 moons, full batch
B64    64 → 128 → 10               ReLU        softmax cross-entropy  64 digits
B1797  64 → 128 → 10               ReLU        softmax cross-entropy  all 1797 digits
C      784 → 256 → 256 → 10        ReLU        softmax cross-entropy  128 synthetic rows
D      32 → [64] × 20 → 10         tanh        softmax cross-entropy  128 synthetic rows
=====  ==========================  ==========  =====================  =====================

Implementations:

* **GEMM floor**: only the matrix products a training step needs (forward
  ``x @ W`` for every layer, backward ``xᵀ @ dy`` for every layer and
  ``dy @ Wᵀ`` for all but the first), written exactly as ``nnlib.layers.Dense``
  writes them. No framework can do less work with NumPy's BLAS.
* **nnlib-NumPy**: the public API, ``model.loss_and_grads`` + ``opt.update``
  in a Python loop; and ``nnlib.fit`` (full batch, one step per epoch), which
  adds the history (loss, accuracy) and the divergence check of every step.
* **nnlib-JAX**: ``nnlib.fit`` on the JAX backend, either one jit-compiled
  call per step (``steps_per_call=1``) or the whole run in one compiled
  ``lax.scan`` (``steps_per_call=steps``). Times include ``fit``'s own setup.
* **PyTorch eager** (only if ``import torch`` works): ``nn.Sequential`` of
  ``nn.Linear``, ``torch.optim.SGD``, default thread count.

Implementations are interleaved (round robin, ``--repeats`` rounds) and the
median and minimum time per step are reported: the machine may be shared.
Compilation is excluded from JAX's times (a warm-up run first) and reported
separately. The process asks glibc to keep freed memory for reuse
(``nnlib.backend.keep_freed_memory``, which ``fit`` also does) for every
implementation alike; ``--default-malloc`` leaves the allocator as it is.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnlib  # noqa: E402
from nnlib import data, optim  # noqa: E402
from nnlib.model import mlp  # noqa: E402
from nnlib.train import fit  # noqa: E402

Runner = Callable[[int], float]  # run(steps) -> final loss


@dataclass
class Workload:
    name: str
    sizes: list[int]
    activation: str
    loss: str
    X: np.ndarray
    y: np.ndarray
    lr: float
    steps: int  # steps per timed run

    @property
    def description(self) -> str:
        hidden = self.sizes[1:-1]
        if len(hidden) > 3 and len(set(hidden)) == 1:
            arch = f"{self.sizes[0]}→[{hidden[0]}]×{len(hidden)}→{self.sizes[-1]}"
        else:
            arch = "→".join(map(str, self.sizes))
        return f"{arch} {self.activation}, batch {len(self.X)}"


def make_workloads() -> dict[str, Workload]:
    rng = np.random.default_rng(0)
    X_moons, y_moons = data.make_moons(200, noise=0.2, seed=0)
    digits = data.load_digits()
    X_digits = (digits.X / 16.0).astype(np.float32)
    X_c = rng.standard_normal((128, 784)).astype(np.float32)
    X_d = rng.standard_normal((128, 32)).astype(np.float32)

    def teacher_labels(X: np.ndarray) -> np.ndarray:  # a learnable 10-class problem
        return np.argmax(X @ rng.standard_normal((X.shape[1], 10)), axis=1)

    workloads = [
        Workload(
            "A", [2, 16, 16, 1], "tanh", "bce", X_moons, y_moons.astype(np.float32), 0.5, 2000
        ),
        Workload(
            "B64", [64, 128, 10], "relu", "cross_entropy", X_digits[:64], digits.y[:64], 0.1, 1000
        ),
        Workload("B1797", [64, 128, 10], "relu", "cross_entropy", X_digits, digits.y, 0.1, 60),
        Workload(
            "C", [784, 256, 256, 10], "relu", "cross_entropy", X_c, teacher_labels(X_c), 0.01, 60
        ),
        Workload(
            "D",
            [32] + [64] * 20 + [10],
            "tanh",
            "cross_entropy",
            X_d,
            teacher_labels(X_d),
            0.01,
            150,
        ),
    ]
    return {w.name: w for w in workloads}


# --- the implementations -----------------------------------------------------------------


def gemm_floor(w: Workload) -> Runner:
    """Only the matrix products of a training step, as ``Dense`` computes them."""
    model = mlp(w.sizes, w.activation)
    weights = [p["W"] for p in model.init(0) if "W" in p]
    rng = np.random.default_rng(1)
    inputs = [w.X] + [rng.standard_normal((len(w.X), W.shape[0]), np.float32) for W in weights[1:]]
    douts = [rng.standard_normal((len(w.X), W.shape[1]), np.float32) for W in weights]

    def run(steps: int) -> float:
        for _ in range(steps):
            for x, W in zip(inputs, weights, strict=True):
                x @ W  # forward
            for i in range(len(weights) - 1, -1, -1):
                inputs[i].T @ douts[i]  # dW
                if i > 0:
                    douts[i] @ weights[i].T  # dx, not needed for the first layer
        return float("nan")

    return run


def nnlib_numpy(w: Workload) -> Runner:
    """``loss_and_grads`` + ``opt.update``: the public API, one step per loop iteration."""
    model = mlp(w.sizes, w.activation)
    opt = optim.sgd(w.lr)

    def run(steps: int) -> float:
        params = model.init(0)
        opt_state = opt.init(params)
        for _ in range(steps):
            loss, grads, _, _ = model.loss_and_grads(params, w.X, w.y, w.loss, check=False)
            params, opt_state = opt.update(params, grads, opt_state)
        return float(loss)

    return run


def nnlib_fit(w: Workload, backend_name: str = "numpy", steps_per_call: int | None = 1) -> Runner:
    """``nnlib.fit``, full batch (one step per epoch); ``steps_per_call=None``: all at once."""
    model = mlp(w.sizes, w.activation)

    def run(steps: int) -> float:
        with nnlib.use_backend(backend_name):
            params = model.init(0)
            result = fit(
                model,
                params,
                w.X,
                w.y,
                loss=w.loss,
                optimizer="sgd",
                lr=w.lr,
                epochs=steps,
                steps_per_call=steps if steps_per_call is None else steps_per_call,
            )
        return result.history.step_loss[-1]

    return run


def pytorch_eager(w: Workload) -> Runner:
    import torch

    params = mlp(w.sizes, w.activation).init(0)
    X = torch.from_numpy(w.X)
    if w.loss == "bce":
        y, loss_fn = torch.from_numpy(w.y).reshape(-1, 1), torch.nn.BCEWithLogitsLoss()
    else:
        y, loss_fn = torch.from_numpy(w.y), torch.nn.CrossEntropyLoss()

    def build() -> torch.nn.Sequential:
        layers: list[torch.nn.Module] = []
        dense = [p for p in params if "W" in p]
        for i, p in enumerate(dense):
            linear = torch.nn.Linear(*p["W"].shape)
            with torch.no_grad():  # the same initial weights as nnlib
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(p["W"].T)))
                linear.bias.copy_(torch.from_numpy(p["b"]))
            layers.append(linear)
            if i < len(dense) - 1:
                layers.append(torch.nn.Tanh() if w.activation == "tanh" else torch.nn.ReLU())
        return torch.nn.Sequential(*layers)

    def run(steps: int) -> float:
        net = build()
        opt = torch.optim.SGD(net.parameters(), lr=w.lr)
        for _ in range(steps):
            opt.zero_grad()
            loss = loss_fn(net(X), y)
            loss.backward()
            opt.step()
        return float(loss)

    return run


# --- measuring -----------------------------------------------------------------------------


def import_time(repeats: int) -> tuple[float, bool]:
    """Best time of ``import nnlib`` in a fresh interpreter, and whether that imported JAX."""
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "import nnlib\n"
        "print(time.perf_counter() - t, 'jax' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NNLIB_BACKEND", None)
    times, jax_loaded = [], False
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        ).stdout.split()
        times.append(float(out[0]))
        jax_loaded |= out[1] == "True"
    return min(times), jax_loaded


def machine_description(jax_available: bool) -> list[str]:
    import numpy

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    lines = [
        f"- machine: {cpu}, {cores} cores available, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, NumPy {numpy.__version__} "
        f"(BLAS: {_blas_name()}; OPENBLAS_NUM_THREADS={threads})",
    ]
    if jax_available:
        import jax

        from nnlib import jax_backend

        lines.append(f"- JAX {jax.__version__}, device: {jax_backend.device_description()}")
    else:
        lines.append("- JAX: not installed")
    try:
        import torch

        lines.append(f"- PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    except ImportError:
        lines.append("- PyTorch: not installed (column skipped)")
    return lines


def _blas_name() -> str:
    config = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
    try:
        blas = config["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except (KeyError, TypeError):
        return "unknown"


def fmt_us(seconds: float) -> str:
    us = seconds * 1e6
    return f"{us:.0f}" if us >= 100 else f"{us:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--workloads", nargs="*", default=None, help="subset, e.g. A B64")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    parser.add_argument("--no-jax", action="store_true", help="skip JAX")
    parser.add_argument(
        "--default-malloc", action="store_true", help="leave glibc's allocator settings alone"
    )
    args = parser.parse_args()

    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    imp_time, imp_jax = import_time(max(args.repeats, 5))
    if args.default_malloc:
        nnlib.backend._kept_freed_memory = False  # as if tried: fit will not change the allocator
    else:
        nnlib.backend.keep_freed_memory()
    try:
        import jax  # noqa: F401

        jax_available = not args.no_jax
    except ImportError:
        jax_available = False
    try:
        import torch  # noqa: F401

        torch_available = not args.no_torch
    except ImportError:
        torch_available = False

    implementations: dict[str, Callable[[Workload], Runner]] = {
        "floor": gemm_floor,
        "numpy": nnlib_numpy,
        "numpy_fit": nnlib_fit,
    }
    if jax_available:
        implementations["jax_step"] = lambda w: nnlib_fit(w, "jax", 1)
        implementations["jax_block"] = lambda w: nnlib_fit(w, "jax", None)
    if torch_available:
        implementations["torch"] = pytorch_eager

    workloads = make_workloads()
    names = args.workloads or list(workloads)
    times: dict[tuple[str, str], list[float]] = {}
    final_loss: dict[tuple[str, str], float] = {}
    first_call: dict[tuple[str, str], float] = {}
    for name in names:
        w = workloads[name]
        runners = {impl: make(w) for impl, make in implementations.items()}
        for impl, run in runners.items():  # warm-up: JAX compiles here
            start = time.perf_counter()
            final_loss[name, impl] = run(w.steps)
            first_call[name, impl] = time.perf_counter() - start
        for _ in range(args.repeats):  # round robin
            for impl, run in runners.items():
                start = time.perf_counter()
                run(w.steps)
                times.setdefault((name, impl), []).append((time.perf_counter() - start) / w.steps)
        print(f"measured {name}", file=sys.stderr)

    med = {k: statistics.median(v) for k, v in times.items()}
    low = {k: min(v) for k, v in times.items()}
    columns = [
        ("floor", "GEMM floor"),
        ("numpy", "nnlib-NumPy (loss_and_grads + update)"),
        ("numpy_fit", "nnlib-NumPy (fit)"),
        ("jax_step", "nnlib-JAX (fit, jit per step)"),
        ("jax_block", "nnlib-JAX (fit, one scan)"),
        ("torch", "PyTorch eager"),
    ]
    columns = [(k, title) for k, title in columns if k in implementations]

    out = ["## Training speed", ""]
    out += machine_description(jax_available)
    if hasattr(os, "getloadavg"):
        out.append(
            f"- load average (1 min) before / after: {load_before:.2f} / {os.getloadavg()[0]:.2f} "
            "(other processes share the cores)"
        )
    out += [
        f"- glibc malloc: {'default' if args.default_malloc else 'freed memory kept for reuse'}",
        f"- {args.repeats} interleaved rounds; per-step time in µs as median (minimum)",
        "",
        "| workload | " + " | ".join(title for _, title in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for name in names:
        cells = [f"{fmt_us(med[name, k])} ({fmt_us(low[name, k])})" for k, _ in columns]
        out.append(f"| {name}: {workloads[name].description} | " + " | ".join(cells) + " |")

    ratio_columns = [
        ("numpy", "floor", "NumPy / floor"),
        ("numpy_fit", "floor", "NumPy fit / floor"),
    ]
    if torch_available:
        ratio_columns += [
            ("torch", "numpy", "PyTorch / NumPy"),
            ("torch", "numpy_fit", "PyTorch / NumPy fit"),
        ]
    if jax_available:
        ratio_columns += [
            ("jax_block", "numpy", "JAX scan / NumPy"),
            ("jax_step", "numpy", "JAX jit-per-step / NumPy"),
            ("jax_block", "floor", "JAX scan / floor"),
        ]
    if torch_available:
        ratio_columns.append(("torch", "floor", "PyTorch / floor"))
    out += [
        "",
        "Ratios of median times (minimum times in brackets):",
        "",
        "| workload | " + " | ".join(t for _, _, t in ratio_columns) + " |",
        "|---|" + "---:|" * len(ratio_columns),
    ]
    for name in names:
        cells = [
            f"{med[name, a] / med[name, b]:.2f} ({low[name, a] / low[name, b]:.2f})"
            for a, b, _ in ratio_columns
        ]
        out.append(f"| {name} | " + " | ".join(cells) + " |")

    out += ["", "Loss after the timed steps (the implementations do the same work):", ""]
    loss_impls = [k for k, _ in columns if k != "floor"]
    out += [
        "| workload | steps | " + " | ".join(loss_impls) + " |",
        "|---|---:|" + "---:|" * len(loss_impls),
    ]
    for name in names:
        cells = [f"{final_loss[name, k]:.6g}" for k in loss_impls]
        out.append(f"| {name} | {workloads[name].steps} | " + " | ".join(cells) + " |")

    out += [
        "",
        f"- `import nnlib` in a fresh interpreter: {imp_time * 1e3:.0f} ms (best of "
        f"{max(args.repeats, 5)}), JAX imported: {'yes' if imp_jax else 'no'}",
    ]
    if jax_available:
        for name in names:
            for impl, label in (("jax_step", "jit per step"), ("jax_block", "one scan")):
                compile_s = first_call[name, impl] - med[name, impl] * workloads[name].steps
                out.append(f"- JAX first call, {name}, {label}: {compile_s:.2f} s of compilation")

    out += ["", "Targets:", ""]
    out += targets(names, med, torch_available, jax_available, imp_time, imp_jax)
    print("\n".join(out))


def targets(names, med, torch_available, jax_available, imp_time, imp_jax) -> list[str]:
    """Each target with its measured value and whether it is met (median times)."""
    rows = []

    def check(label: str, value: float, limit: float, smaller_is_better: bool = True) -> None:
        met = value <= limit if smaller_is_better else value >= limit
        sign = "≤" if smaller_is_better else "≥"
        rows.append(
            f"- {label}: {value:.2f} (target {sign} {limit:g}): {'met' if met else 'NOT met'}"
        )

    for name in names:
        limit = 3.0 if name in ("A", "B64") else 2.0
        check(f"{name} nnlib-NumPy / GEMM floor", med[name, "numpy"] / med[name, "floor"], limit)
    if torch_available:
        for name in names:
            limit = 3.0 if name in ("A", "B64") else 1.0
            check(
                f"{name} PyTorch / nnlib-NumPy (speed-up)",
                med[name, "torch"] / med[name, "numpy"],
                limit,
                smaller_is_better=False,
            )
    if jax_available:
        for name in names:
            if name in ("A", "B64"):
                check(
                    f"{name} JAX one scan / NumPy", med[name, "jax_block"] / med[name, "numpy"], 0.6
                )
            if name == "D":
                check("D JAX jit per step / NumPy", med[name, "jax_step"] / med[name, "numpy"], 0.8)
    check("import nnlib (s)", imp_time, 0.15)
    rows.append(f"- import nnlib leaves JAX unimported: {'NOT met' if imp_jax else 'met'}")
    return rows


if __name__ == "__main__":
    main()
