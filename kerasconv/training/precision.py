"""Mixed precision (Micikevicius et al. 2018): float16 or bfloat16 compute, float32 variables.

kerasconv's classifiers keep their final ``predictions`` layer in float32, and every score, loss and
gradient that kerasconv computes (visualizers, attacks, the training loss) is cast to float32, so
softmax, cross-entropy and small gradients do not underflow in half precision.
"""

from __future__ import annotations

import contextlib

import keras

from kerasconv._validation import check_choice

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


@contextlib.contextmanager
def mixed_precision(policy="mixed_float16"):
    """Build models under ``policy`` inside the ``with`` block; the previous policy is restored.

    Example:
        >>> import kerasconv
        >>> with kerasconv.training.mixed_precision("mixed_bfloat16"):
        ...     model = kerasconv.models.LeNet5()
        >>> model.get_layer("c1").compute_dtype, model.get_layer("predictions").compute_dtype
        ('bfloat16', 'float32')
    """
    check_choice("policy", policy, POLICIES)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        yield keras.mixed_precision.global_policy()
    finally:
        keras.mixed_precision.set_global_policy(previous)
