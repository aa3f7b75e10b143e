"""Comparison helpers for tests: no test may pass by comparing zeros with zeros.

``assert_close_nontrivial(actual, reference, rtol=..., atol=...)`` is ``numpy.testing.assert_allclose``
plus a guard on the reference: it must be finite, not all zero and not constant. A comparison of two
attribution maps, feature maps or gradients that are both zero (a gradient that never reached the
layer, a dead unit) then fails instead of passing silently.

Tolerances: ``float32_tolerance(reference, operations)`` gives an absolute tolerance from float32
rounding: ``operations`` rounding steps of relative size ``2**-24`` (float32's unit roundoff) each,
on values of the reference's magnitude, times a safety factor of 4. Use it when two computations
differ only in the order of floating-point operations (oneDNN vs Eigen kernels, another CPU,
another batch size); an exactly equal computation needs no tolerance at all.

Usage::

    from tests._compare import assert_close_nontrivial, float32_tolerance

    assert_close_nontrivial(nested_map, flat_map, rtol=1e-5)
    assert_close_nontrivial(a, b, atol=float32_tolerance(b, operations=400))
"""

from __future__ import annotations

import numpy as np

FLOAT32_UNIT_ROUNDOFF = 2.0**-24


def float32_tolerance(reference, operations, safety=4.0):
    """Absolute tolerance for a float32 result reached through ``operations`` rounded steps.

    ``safety * operations * 2**-24 * max|reference|``: the worst-case growth of float32 rounding
    error of a sum or product chain of that length, on values of the reference's magnitude.
    """
    scale = float(np.max(np.abs(np.asarray(reference, dtype="float64"))))
    return safety * operations * FLOAT32_UNIT_ROUNDOFF * scale


def assert_nontrivial(reference, name="reference", min_spread=0.0):
    """Assert ``reference`` is finite, not all zero and not constant (spread > ``min_spread``).

    A single number only has to be non-zero.
    """
    reference = np.asarray(reference, dtype="float64")
    assert reference.size > 0, f"{name} is empty"
    assert np.all(np.isfinite(reference)), f"{name} has non-finite values"
    assert np.any(reference != 0), f"{name} is all zero: the comparison would be vacuous"
    if reference.size == 1:
        return  # one non-zero number: nothing can be constant
    spread = float(reference.max() - reference.min())
    assert spread > min_spread, f"{name} is constant ({reference.flat[0]!r}): vacuous comparison"


def assert_close_nontrivial(actual, reference, rtol=1e-7, atol=0.0, err_msg="", per_sample=False):
    """``assert_allclose(actual, reference, rtol, atol)`` after checking the reference is not trivial.

    With ``per_sample=True`` every sample (first axis) of the reference must be non-trivial on its
    own, so one live map cannot hide a batch of zero ones.
    """
    actual = np.asarray(actual)
    reference = np.asarray(reference)
    assert actual.shape == reference.shape, f"shapes differ: {actual.shape} vs {reference.shape}"
    if per_sample:
        for index, sample in enumerate(reference):
            assert_nontrivial(sample, name=f"reference[{index}]")
    else:
        assert_nontrivial(reference)
    np.testing.assert_allclose(actual, reference, rtol=rtol, atol=atol, err_msg=err_msg)
