"""The cost model of data parallelism (nnlib.allreduce): bytes all-reduced per step vs FLOPs."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from nnlib.allreduce import FLOPS_PER_WEIGHT_AND_EXAMPLE, count_params, step_cost
from nnlib.model import mlp


def test_ring_all_reduce_bytes_and_flops_for_small_numbers_worked_by_hand() -> None:
    # P = 1000 float32 values, B = 128, D = 4: each device sends 2·3/4·4000 bytes and
    # computes 6·1000 FLOPs for each of its 32 examples.
    cost = step_cost(1000, batch_size=128, devices=4)
    assert cost.gradient_bytes == 4000
    assert cost.bytes_sent_per_device == 6000
    assert cost.flops_per_device == 6 * 1000 * 32
    assert cost.flops_per_byte == 32.0
    assert cost.compute_seconds is None and cost.communication_seconds is None


def test_the_docstring_example() -> None:
    cost = step_cost(10**9, batch_size=512, devices=8)
    assert cost.bytes_sent_per_device / 1e9 == pytest.approx(7.0)
    assert cost.flops_per_byte == pytest.approx(54.857142857142854)


@pytest.mark.parametrize("n_params", [300, 10**6, 7 * 10**9])
@pytest.mark.parametrize("batch_size, devices, bytes_per_value", [(64, 2, 4), (4096, 8, 2)])
def test_flops_per_byte_is_3B_over_D_minus_1_times_b_whatever_the_model_size(
    n_params, batch_size, devices, bytes_per_value
) -> None:
    cost = step_cost(n_params, batch_size, devices, bytes_per_value=bytes_per_value)
    expected = 3 * batch_size / ((devices - 1) * bytes_per_value)
    assert cost.flops_per_byte == pytest.approx(expected, rel=1e-12)


def test_bytes_per_device_approach_twice_the_gradient_as_devices_grow() -> None:
    sent = [step_cost(10**6, 1024, d).bytes_sent_per_device for d in (2, 4, 8, 64, 1024)]
    assert sent == sorted(sent)
    assert sent[0] == 4e6 and sent[-1] == pytest.approx(8e6, rel=1e-3)


def test_one_device_sends_nothing() -> None:
    cost = step_cost(500, 32, 1)
    assert cost.bytes_sent_per_device == 0 and math.isinf(cost.flops_per_byte)
    assert cost.flops_per_device == 6 * 500 * 32


def test_times_from_hardware_numbers() -> None:
    cost = step_cost(
        10**6,
        batch_size=256,
        devices=4,
        device_flops=1e12,
        link_bytes_per_second=1e9,
        latency_seconds=1e-5,
    )
    assert cost.compute_seconds == pytest.approx(6e6 * 64 / 1e12)
    assert cost.communication_seconds == pytest.approx(6 * 1e-5 + 6e6 / 1e9)


def test_parameters_can_be_counted_from_the_arrays() -> None:
    params = mlp([64, 32, 10]).init(0)
    assert count_params(params) == 64 * 32 + 32 + 32 * 10 + 10
    assert step_cost(params, 32, 4) == step_cost(64 * 32 + 32 + 32 * 10 + 10, 32, 4)
    assert count_params({"W": np.zeros((3, 4)), "b": [np.zeros(4)]}) == 16
    custom = step_cost(100, 10, 2, flops_per_example=50)
    assert custom.flops_per_device == 250
    assert FLOPS_PER_WEIGHT_AND_EXAMPLE == 6


@pytest.mark.parametrize(
    "args, kwargs, words",
    [
        ((0, 32, 4), {}, "params (the parameter count) must be a positive integer, got 0"),
        ((100, 0, 4), {}, "batch_size must be a positive integer, got 0"),
        ((100, 32, 0), {}, "devices must be a positive integer, got 0"),
        ((100, 32, True), {}, "devices must be a positive integer, got True"),
        ((100, 32, 4), {"bytes_per_value": 2.5}, "bytes_per_value must be a positive integer"),
        ((100, 32, 4), {"device_flops": -1.0}, "device_flops must be a positive number"),
        ((100, 32, 4), {"link_bytes_per_second": math.nan}, "link_bytes_per_second"),
        ((100, 32, 4), {"latency_seconds": -1}, "latency_seconds must be a number >= 0"),
    ],
)
def test_bad_numbers_raise_clear_errors(args, kwargs, words) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        step_cost(*args, **kwargs)


def test_something_that_is_not_parameters_raises_a_type_error() -> None:
    with pytest.raises(TypeError, match="parameter count"):
        step_cost("a lot", 32, 4)
