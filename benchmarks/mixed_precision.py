"""What do 16-bit formats cost or save here? float32 against float16 and bfloat16.

Usage (from the repository root, in the course's environment)::

    python benchmarks/mixed_precision.py                  # NumPy and JAX, prints Markdown
    python benchmarks/mixed_precision.py --rounds 3 --no-numpy

Two kinds of work, each in float32, float16 and bfloat16:

* **matrix products** ``A @ B`` of two random ``n × n`` matrices;
* **one MLP forward + backward** with nnlib: ``model.loss_and_grads`` (ReLU,
  softmax cross-entropy) with the parameters and the batch in the format
  (*pure*), and the same wrapped in the mixed-precision recipe of
  :mod:`nnlib.precision` (*mixed*): float32 master weights cast down, the
  gradients cast up and divided by the loss scale, one finite check. (The
  loss scaling of the gradient seed, one multiply of an ``N × 10`` array, is
  left out: ``loss_and_grads`` forms the seed inside.)

Backends: NumPy (float16 is NumPy's own type; bfloat16 comes from
``ml_dtypes``) and JAX (each function compiled with ``jax.jit``, on whatever
device JAX uses: the CPU here). Variants are interleaved (round robin over
``--rounds`` rounds, each timing a few calls) and the median and minimum time
per call are reported, since the machine may be shared. Each row also shows
the dtype the result comes back in and its relative difference from float32
(of the product, or of the loss), to show that the same work was done. Ratios
are of medians, with the ratio of minimums in brackets.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnlib  # noqa: E402
from nnlib import precision  # noqa: E402
from nnlib.model import mlp  # noqa: E402

FORMATS = ("float32", "float16", "bfloat16")
#: Target duration of one timed sample (seconds): cheap calls are repeated to reach it.
SAMPLE_S = 0.05


@dataclass
class Case:
    """One thing to time in one format: ``call()`` does the work and returns its result."""

    group: str  # the row: e.g. "A @ B, n = 256 (NumPy)"
    fmt: str  # the column: float32, float16, bfloat16
    call: Callable[[], object]
    calls_per_sample: int = 1
    times: list[float] = field(default_factory=list)
    result: object = None

    def sample(self) -> None:
        start = time.perf_counter()
        for _ in range(self.calls_per_sample):
            out = self.call()
        _block(out)
        self.times.append((time.perf_counter() - start) / self.calls_per_sample)


def _block(out: object) -> None:
    """Wait for JAX's asynchronous work to finish before the clock stops."""
    for leaf in nnlib.tree.tree_leaves(out):
        ready = getattr(leaf, "block_until_ready", None)
        if ready is not None:
            ready()


# --- the work ------------------------------------------------------------------------------


def matmul_cases(n: int, use_jax: bool) -> list[Case]:
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    cases = []
    for fmt in FORMATS:
        dt = precision.numpy_dtype(fmt)
        if use_jax:
            import jax
            import jax.numpy as jnp

            a, b = jnp.asarray(A, dt), jnp.asarray(B, dt)
            product = jax.jit(jnp.matmul)
            cases.append(Case(f"A @ B, n = {n}, JAX jit", fmt, lambda p=product, a=a, b=b: p(a, b)))
        else:
            a, b = A.astype(dt), B.astype(dt)
            cases.append(Case(f"A @ B, n = {n}, NumPy", fmt, lambda a=a, b=b: a @ b))
    return cases


@dataclass
class Net:
    name: str
    sizes: list[int]
    batch: int


NETS = [Net("64→128→10", [64, 128, 10], 1797), Net("784→256→256→10", [784, 256, 256, 10], 128)]


def mlp_cases(net: Net, use_jax: bool) -> list[Case]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((net.batch, net.sizes[0])).astype(np.float32)
    y = rng.integers(0, net.sizes[-1], net.batch)
    model = mlp(net.sizes, activation="relu")
    backend_name = "jax" if use_jax else "numpy"
    where = "JAX jit" if use_jax else "NumPy"
    cases = []
    with nnlib.use_backend(backend_name):
        params32 = model.init(seed=0)
        X32, labels = nnlib.backend.asarray(X), nnlib.backend.asarray(y)
        scale = precision.loss_scale_init(2.0**10)
        for fmt in FORMATS:
            low = precision.compute_dtype(fmt)
            p_low, X_low = precision.cast_tree(params32, low), precision.cast_tree(X32, low)

            def pure(p, x, y):
                loss, grads, _, _ = model.loss_and_grads(p, x, y, "cross_entropy", check=False)
                return loss, grads

            def mixed(p32, x32, y, state, low=low):
                loss, grads, _, _ = model.loss_and_grads(
                    precision.cast_tree(p32, low),
                    precision.cast_tree(x32, low),
                    y,
                    "cross_entropy",
                    check=False,
                )
                grads = precision.unscale_grads(grads, state, "float32")
                return loss, grads, precision.all_finite(grads)

            if use_jax:
                import jax

                pure, mixed = jax.jit(pure), jax.jit(mixed)
            group = f"MLP {net.name}, batch {net.batch}: fwd + bwd, {where}"
            cases.append(Case(f"{group}, pure", fmt, _in(backend_name, pure, p_low, X_low, labels)))
            cases.append(
                Case(f"{group}, mixed", fmt, _in(backend_name, mixed, params32, X32, labels, scale))
            )
    return cases


def _in(backend_name: str, fn: Callable, *args: object) -> Callable[[], object]:
    """``fn(*args)`` with ``backend_name`` active while it runs."""

    def call() -> object:
        with nnlib.use_backend(backend_name):
            return fn(*args)

    return call


# --- reporting -----------------------------------------------------------------------------


def machine_lines(use_jax: bool) -> list[str]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import ml_dtypes

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    lines = [
        f"- machine: {cpu}, {cores} cores available, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, NumPy {np.__version__}, ml_dtypes "
        f"{ml_dtypes.__version__}; OPENBLAS_NUM_THREADS={threads}",
    ]
    if use_jax:
        import jax

        from nnlib import jax_backend

        lines.append(f"- JAX {jax.__version__}, device: {jax_backend.device_description()}")
    return lines


def fmt_time(seconds: float) -> str:
    if seconds >= 0.1:
        return f"{seconds * 1e3:.0f} ms"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def _first_array(result: object) -> np.ndarray:
    """The matrix product, or the loss of ``loss_and_grads``, as float64."""
    leaves = nnlib.tree.tree_leaves(result)
    return np.asarray(np.asarray(leaves[0]), np.float64)


def _out_dtype(result: object) -> str:
    leaves = nnlib.tree.tree_leaves(result)
    grads = leaves[1] if len(leaves) > 1 else leaves[0]  # a gradient array for the MLP
    return str(np.asarray(grads).dtype)


def table(cases: list[Case]) -> list[str]:
    groups = list(dict.fromkeys(c.group for c in cases))
    by = {(c.group, c.fmt): c for c in cases}
    lines = [
        "| work | float32 | float16 | bfloat16 | float16 / float32 | bfloat16 / float32 "
        "| result dtype (f32, f16, bf16) | rel. difference from float32 (f16, bf16) |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for group in groups:
        cols, med, best = [], {}, {}
        for fmt in FORMATS:
            c = by[(group, fmt)]
            med[fmt], best[fmt] = statistics.median(c.times), min(c.times)
            cols.append(f"{fmt_time(med[fmt])} ({fmt_time(best[fmt])})")
        ratios = [
            f"{med[f] / med['float32']:.2f} ({best[f] / best['float32']:.2f})" for f in FORMATS[1:]
        ]
        reference = _first_array(by[(group, "float32")].result)
        diffs = []
        for fmt in FORMATS[1:]:
            got = _first_array(by[(group, fmt)].result)
            diffs.append(f"{np.max(np.abs(got - reference)) / np.max(np.abs(reference)):.1e}")
        dtypes = ", ".join(_out_dtype(by[(group, f)].result) for f in FORMATS)
        lines.append(
            f"| {group} | {' | '.join(cols)} | {' | '.join(ratios)} | {dtypes} | "
            f"{', '.join(diffs)} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[128, 256, 512])
    parser.add_argument("--no-numpy", action="store_true", help="JAX only")
    parser.add_argument("--no-jax", action="store_true", help="NumPy only")
    args = parser.parse_args()
    try:
        import jax  # noqa: F401

        use_jax = not args.no_jax
    except ImportError:
        use_jax = False
    backends = ([] if args.no_numpy else [False]) + ([True] if use_jax else [])

    cases: list[Case] = []
    for on_jax in backends:
        for n in args.sizes:
            cases += matmul_cases(n, on_jax)
        for net in NETS:
            cases += mlp_cases(net, on_jax)

    compile_start = time.perf_counter()
    for c in cases:  # warm-up: compiles the JAX functions, sizes the samples
        c.result = c.call()
        _block(c.result)
        start = time.perf_counter()
        _block(c.call())
        once = time.perf_counter() - start
        c.calls_per_sample = max(1, round(SAMPLE_S / max(once, 1e-7)))
    warmup_s = time.perf_counter() - compile_start

    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    start = time.perf_counter()
    for _ in range(args.rounds):
        for c in cases:
            c.sample()
    total = time.perf_counter() - start
    load_after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    print("\n".join(machine_lines(use_jax)))
    print(f"- load average (1 min) before / after: {load_before:.2f} / {load_after:.2f}")
    print(
        f"- {args.rounds} interleaved rounds, {total:.0f} s (warm-up and compilation "
        f"{warmup_s:.0f} s); time per call as median (minimum)\n"
    )
    print("\n".join(table(cases)))


if __name__ == "__main__":
    main()
