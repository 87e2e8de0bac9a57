"""Eight training setups that do not learn, each because of one realistic bug.

Notebook 10 ("why won't it learn?") hands these to the learner as a
colleague's code. Each case is two functions:

* ``caseK_<piece>``: the one small piece of the setup that holds the bug (an
  optimiser, an input transformation, a model, a shuffle, a prediction
  function or a train/test split), written the way it is found in practice;
* ``run_caseK(<piece>=caseK_<piece>, seed=0)``: the rest of the setup, which is
  correct. It loads the data, calls the piece, trains with :func:`nnlib.train.fit`
  and returns a :class:`Run` with everything a diagnosis needs.

A fix is a corrected piece: ``run_caseK(my_piece)`` retrains with it.
:mod:`nnlib.exercises.debugging` checks the learner's diagnosis and fix and
holds the worked solutions. The bugs are not named here on purpose.

The pieces carry no type hints on purpose: the learner copies one into a
notebook cell and edits it there (notebook 10 imports every name they use).
The helpers :class:`Softmax`, :func:`trainable_only` and :func:`add_noisy_copies`
are correct and tested; whether a setup uses them *appropriately* is part of
the puzzle. Everything runs in float64, so that the printed numbers do not hang
on the last bits of float32 arithmetic, and everything random takes a seed.

The package, one module per concept; every name is importable from here:

=========================  ===================================================
module                     what it holds
=========================  ===================================================
``runs``                   :class:`Run`, the training every setup shares, the
                           checks of what a piece returns
``data``                   the digits, tumours and spirals, split per case
``helpers``                :class:`Softmax`, :func:`trainable_only`,
                           :func:`add_noisy_copies`, :func:`origins`
``model_cases``            cases 1, 3, 4, 7: the optimiser or the model
``pipeline_cases``         cases 2, 5, 6, 8: the code around the network
=========================  ===================================================
"""

from __future__ import annotations

import inspect

from .data import (
    COLLECTED,
    collected_digits,
    digits_split,
    sorted_digits,
    spiral_split,
    standardized_digits,
    tumour_split,
)
from .helpers import Softmax, add_noisy_copies, origins, trainable_only
from .model_cases import (
    case1_make_optimizer,
    case3_build_model,
    case4_build_model,
    case7_make_optimizer,
    run_case1,
    run_case3,
    run_case4,
    run_case7,
)
from .pipeline_cases import (
    TRAIN_FRACTION,
    case2_prepare_inputs,
    case5_shuffle,
    case6_predict_one,
    case8_make_split,
    run_case2,
    run_case5,
    run_case6,
    run_case8,
)
from .runs import Run

__all__ = [
    "COLLECTED",
    "TRAIN_FRACTION",
    "RUNS",
    "Run",
    "Softmax",
    "add_noisy_copies",
    "case1_make_optimizer",
    "case2_prepare_inputs",
    "case3_build_model",
    "case4_build_model",
    "case5_shuffle",
    "case6_predict_one",
    "case7_make_optimizer",
    "case8_make_split",
    "collected_digits",
    "digits_split",
    "origins",
    "run_case1",
    "run_case2",
    "run_case3",
    "run_case4",
    "run_case5",
    "run_case6",
    "run_case7",
    "run_case8",
    "show_case",
    "sorted_digits",
    "spiral_split",
    "standardized_digits",
    "trainable_only",
    "tumour_split",
]

#: Each case's setup, by number.
RUNS = {
    1: run_case1,
    2: run_case2,
    3: run_case3,
    4: run_case4,
    5: run_case5,
    6: run_case6,
    7: run_case7,
    8: run_case8,
}


def show_case(number: int) -> None:
    """Print what case ``number``'s setup does (``run_caseK``'s docstring) and its buggy piece."""
    if number not in RUNS:
        raise ValueError(f"There are cases 1 to 8, got {number!r}.")
    run = RUNS[number]
    piece = next(iter(inspect.signature(run).parameters.values())).default
    print(f"run_case{number}: {inspect.getdoc(run)}\n")
    print(inspect.getsource(piece))
