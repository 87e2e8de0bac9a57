"""What data parallelism costs: the bytes an all-reduce moves per step, against the compute.

In data-parallel training (:mod:`nnlib.parallel`) each of ``D`` devices computes
the gradient of its share of the mini-batch, and every step ends with an
**all-reduce**: afterwards every device holds the sum of the ``D`` gradients.
The gradient has as many numbers as the model has parameters, ``P``, each of
``b`` bytes (4 in float32).

**Communication.** The usual algorithm, the *ring* all-reduce, cuts the
gradient into ``D`` slices and passes them around a ring of devices twice:
first each slice is summed on its way round (a *reduce-scatter*: device ``d``
ends with the total of slice ``d``), then the totals go round once more (an
*all-gather*). Each device sends ``2 (D - 1)`` messages of ``P/D`` numbers::

    bytes sent per device  =  2 (D - 1) / D  ·  P · b

(and receives as many). This hardly grows with ``D`` (from ``P · b`` for two
devices towards ``2 P b``), and no all-reduce algorithm sends fewer bytes per
device (the ring is bandwidth-optimal; Patarasuk and Yuan, 2009).

**Compute.** A training step costs about 6 floating-point operations per weight
and example (a multiply-add is 2; forward 2, backward 4: notebook 08), and each
device does ``B / D`` of the ``B`` examples::

    FLOPs per device  =  6 · P · B / D

**The ratio** does not depend on the model's size::

    FLOPs per byte sent  =  6 P B / D  /  (2 (D - 1) P b / D)  =  3 B / ((D - 1) b)

A device that computes ``F`` FLOP/s and sends ``W`` bytes/s over its link keeps
both busy only if the step does at least ``F / W`` FLOPs per byte; below that,
the devices wait for the network. Large models are not harder to parallelise
by this ratio; they are harder because ``P · b`` bytes must also fit on every
device, and because a step's time grows with them.

:func:`step_cost` evaluates these formulas for your numbers; with a device's
FLOP/s and a link's bytes per second (and the latency of one message) it also
gives the times. It needs only NumPy.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

#: FLOPs per weight and example of one training step: forward 2, backward 4 (notebook 08).
FLOPS_PER_WEIGHT_AND_EXAMPLE = 6


class StepCost(NamedTuple):
    """One data-parallel training step, counted (see the module docstring for the formulas).

    ``gradient_bytes``: the gradient, ``P · b``; ``bytes_sent_per_device``: what
    each device sends in a ring all-reduce, ``2 (D-1)/D · P · b``;
    ``flops_per_device``: its compute, ``flops_per_example · B / D``;
    ``flops_per_byte``: the ratio of the two (``inf`` on one device, which
    sends nothing). ``compute_seconds`` and ``communication_seconds`` are the
    times for the given hardware numbers (``None`` without them);
    communication counts ``2 (D-1)`` messages' latency plus the bytes over the
    link's bandwidth.
    """

    n_params: int
    batch_size: int
    devices: int
    bytes_per_value: int
    gradient_bytes: float
    bytes_sent_per_device: float
    flops_per_device: float
    flops_per_byte: float
    compute_seconds: float | None
    communication_seconds: float | None


def count_params(params: Any) -> int:
    """The number of parameters: ``params`` itself if it is an int, else the sizes of its arrays.

    ``params`` may be nested dicts, lists and tuples of arrays (what
    ``model.init`` returns).
    """
    if isinstance(params, (int, np.integer)) and not isinstance(params, bool):
        return int(params)
    if isinstance(params, dict):
        return sum(count_params(v) for v in params.values())
    if isinstance(params, (list, tuple)):
        return sum(count_params(v) for v in params)
    if hasattr(params, "shape"):
        return math.prod(params.shape)
    raise TypeError(
        f"params must be a parameter count (int) or arrays nested in dicts/lists, got "
        f"{type(params).__name__}."
    )


def _positive(value: Any, name: str, integer: bool = False) -> None:
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    ok = isinstance(value, kinds) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        kind = "integer" if integer else "number"
        raise ValueError(f"{name} must be a positive {kind}, got {value!r}.")


def step_cost(
    params: Any,
    batch_size: int,
    devices: int,
    *,
    bytes_per_value: int = 4,
    flops_per_example: float | None = None,
    device_flops: float | None = None,
    link_bytes_per_second: float | None = None,
    latency_seconds: float = 0.0,
) -> StepCost:
    """The communication and compute of one data-parallel step (a :class:`StepCost`).

    Arguments:
        params: the model's parameter count ``P``, or its parameters (arrays).
        batch_size: the mini-batch ``B``, over all devices together.
        devices: the number of devices ``D``.
        bytes_per_value: ``b``, bytes per gradient entry: 4 (float32), 2
            (bfloat16), 8 (float64).
        flops_per_example: FLOPs of forward and backward for one example;
            default ``6 · P``.
        device_flops: FLOP/s one device computes, to get ``compute_seconds``.
        link_bytes_per_second, latency_seconds: each device's link (bytes/s
            it sends) and the latency of one message, to get
            ``communication_seconds``.

    Example: 8 devices, a billion float32 parameters, batch 512::

        >>> cost = step_cost(10**9, batch_size=512, devices=8)
        >>> cost.bytes_sent_per_device / 1e9, cost.flops_per_byte
        (7.0, 54.857142857142854)
    """
    n_params = count_params(params)
    _positive(n_params, "params (the parameter count)", integer=True)
    _positive(batch_size, "batch_size", integer=True)
    _positive(devices, "devices", integer=True)
    _positive(bytes_per_value, "bytes_per_value", integer=True)
    if flops_per_example is None:
        flops_per_example = FLOPS_PER_WEIGHT_AND_EXAMPLE * n_params
    _positive(flops_per_example, "flops_per_example")
    for value, name in (
        (device_flops, "device_flops"),
        (link_bytes_per_second, "link_bytes_per_second"),
    ):
        if value is not None:
            _positive(value, name)
    if not (isinstance(latency_seconds, (int, float)) and latency_seconds >= 0):
        raise ValueError(f"latency_seconds must be a number >= 0, got {latency_seconds!r}.")

    gradient_bytes = float(n_params * bytes_per_value)
    sent = 2 * (devices - 1) / devices * gradient_bytes
    flops = flops_per_example * batch_size / devices
    compute = None if device_flops is None else flops / device_flops
    communication = None
    if link_bytes_per_second is not None:
        communication = 2 * (devices - 1) * latency_seconds + sent / link_bytes_per_second
    return StepCost(
        n_params=n_params,
        batch_size=int(batch_size),
        devices=int(devices),
        bytes_per_value=int(bytes_per_value),
        gradient_bytes=gradient_bytes,
        bytes_sent_per_device=sent,
        flops_per_device=float(flops),
        flops_per_byte=float(flops / sent) if sent else math.inf,
        compute_seconds=compute,
        communication_seconds=communication,
    )


__all__ = ["FLOPS_PER_WEIGHT_AND_EXAMPLE", "StepCost", "count_params", "step_cost"]
