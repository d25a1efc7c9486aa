"""Input validation shared by the public functions of :mod:`dlnlib`.

Every public function turns its inputs into float arrays through these
helpers, so that bad input fails early with a :class:`ValueError` that names
the argument and the problem, instead of a NaN or a numpy traceback later on.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

#: Largest condition number accepted for a matrix that must be inverted.
MAX_CONDITION = 1e10


def finite_array(
    a, name: str, ndim: int | None = None, min_ndim: int | None = None
) -> np.ndarray:
    """Return ``a`` as a float array, checking its rank and that it is finite."""
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be a real numeric array ({exc})"
        ) from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"{name} must be {ndim}-dimensional, got shape {arr.shape}"
        )
    if min_ndim is not None and arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return arr


def integer(value, name: str, low: int, high: int | None = None) -> int:
    """Check a whole number in ``[low, high]`` (integral floats such as ``3.0`` are accepted)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not float(value).is_integer()
    ):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if int(value) < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if high is not None and int(value) > high:
        raise ValueError(f"{name} must be at most {high}, got {value!r}")
    return int(value)


def positive(value, name: str, allow_zero: bool = False) -> float:
    """Check a positive finite number (nonnegative with ``allow_zero``) and return it as a float.

    Parameters
    ----------
    value : float
        The number; anything ``float()`` accepts.
    name : str
        The argument's name, for the error message.
    allow_zero : bool, optional
        Accept ``0`` as well (a nonnegative number).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        "``name`` must be a number" if ``float(value)`` fails, and "``name`` must be a
        positive (nonnegative) finite number" if it is NaN, infinite, negative, or zero
        without ``allow_zero``.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        kind = "nonnegative" if allow_zero else "positive"
        raise ValueError(
            f"{name} must be a {kind} finite number, got {value!r}"
        )
    return v


def weight_list(weights: Sequence) -> list[np.ndarray]:
    """Check a list of layer matrices ``W_1, ..., W_L`` and return them as arrays.

    Each ``W_l`` has shape ``(..., d_{l-1}, d_l)``; all layers share the same
    leading (batch) shape, consecutive layers must chain, and ``L >= 2``.
    """
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence):
        raise ValueError("weights must be a list of matrices W_1, ..., W_L")
    if len(weights) < 2:
        raise ValueError(
            f"depth L = len(weights) must be at least 2, got {len(weights)}"
        )
    ws = [
        finite_array(w, f"weights[{l}] (W_{l + 1})", min_ndim=2)
        for l, w in enumerate(weights)
    ]
    batch = ws[0].shape[:-2]
    for l, w in enumerate(ws):
        if w.shape[:-2] != batch:
            raise ValueError(
                f"weights[{l}] has leading (batch) shape {w.shape[:-2]}, expected {batch} like weights[0]"
            )
        if 0 in w.shape[-2:]:
            raise ValueError(
                f"weights[{l}] has an empty dimension: shape {w.shape}"
            )
    for l in range(len(ws) - 1):
        if ws[l].shape[-1] != ws[l + 1].shape[-2]:
            raise ValueError(
                f"weights[{l}] has shape {ws[l].shape[-2:]} but weights[{l + 1}] has shape "
                f"{ws[l + 1].shape[-2:]}: W_{l + 1} W_{l + 2} is undefined "
                f"({ws[l].shape[-1]} != {ws[l + 1].shape[-2]})"
            )
    return ws


def dims_tuple(
    dims, min_width: int | None = None, what: str = ""
) -> tuple[int, ...]:
    """Check layer dimensions ``(d_0, ..., d_L)`` with ``L >= 2``."""
    try:
        d = tuple(int(k) for k in dims)
    except (TypeError, ValueError):
        raise ValueError(
            f"dims must be a sequence of integers (d_0, ..., d_L), got {dims!r}"
        ) from None
    if any(float(k) != int(k) for k in dims):
        raise ValueError(f"dims must be integers, got {dims!r}")
    if len(d) < 3:
        raise ValueError(
            f"dims = (d_0, ..., d_L) needs depth L >= 2, i.e. at least 3 entries, got {d}"
        )
    if min(d) < 1:
        raise ValueError(f"every dimension must be positive, got dims = {d}")
    if min_width is not None:
        for i, di in enumerate(d[1:-1], start=1):
            if di < min_width:
                raise ValueError(
                    f"hidden width d_{i} = {di} is below {min_width}{what}"
                )
    return d


def data_pair(
    xs, ys, d0: int | None = None, dL: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Check the inputs ``xs`` (n, d_0) and ``ys`` (n, d_L) of the bilinear model."""
    xs = finite_array(xs, "xs", ndim=2)
    ys = finite_array(ys, "ys", ndim=2)
    if xs.shape[0] != ys.shape[0]:
        raise ValueError(
            f"xs and ys must have the same number of rows n, got {xs.shape[0]} and {ys.shape[0]}"
        )
    if xs.shape[0] == 0:
        raise ValueError("xs and ys hold no samples (n = 0)")
    if d0 is not None and xs.shape[1] != d0:
        raise ValueError(
            f"xs has {xs.shape[1]} columns but the network's input dimension is d_0 = {d0}"
        )
    if dL is not None and ys.shape[1] != dL:
        raise ValueError(
            f"ys has {ys.shape[1]} columns but the network's output dimension is d_L = {dL}"
        )
    return xs, ys


def regression_data(xs, ys, targets, dims):
    """Check ``dims``, the data pair against it and the targets ``(n,)``: ``(dims, xs, ys, t)``."""
    d = dims_tuple(dims)
    xs, ys = data_pair(xs, ys, d[0], d[-1])
    t = finite_array(targets, "targets", ndim=1)
    if t.shape[0] != xs.shape[0]:
        raise ValueError(
            f"targets has length {t.shape[0]} but there are n = {xs.shape[0]} samples"
        )
    return d, xs, ys, t


def square_matrix(M, name: str, size: int | None = None) -> np.ndarray:
    """Check a square finite matrix, optionally of a given size."""
    M = finite_array(M, name, ndim=2)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} must be square, got shape {M.shape}")
    if size is not None and M.shape[0] != size:
        raise ValueError(
            f"{name} must be {size} x {size} to match the network, got shape {M.shape}"
        )
    return M


def invertible(
    M,
    name: str,
    size: int | None = None,
    consequence: str = "; the construction needs its inverse",
) -> np.ndarray:
    """Check a square matrix that will be inverted: finite, nonsingular, well conditioned.

    The error message ends with ``consequence``, which says why the inverse is needed.
    """
    M = square_matrix(M, name, size)
    s = np.linalg.svd(M, compute_uv=False)
    if s[0] == 0 or s[-1] <= s[0] / MAX_CONDITION:
        cond = np.inf if s[-1] == 0 else s[0] / s[-1]
        raise ValueError(
            f"{name} is singular or badly conditioned (condition number {cond:.3g} > {MAX_CONDITION:.0e})"
            + consequence
        )
    return M


def numerical_rank(singular_values: np.ndarray, shape: tuple[int, int]) -> int:
    """Number of singular values above ``max(shape) * eps * sigma_max`` (numpy's default rule).

    Parameters
    ----------
    singular_values : ndarray, shape (k,)
        Singular values in decreasing order.
    shape : tuple of int
        Shape of the matrix they belong to.

    Returns
    -------
    int
    """
    if singular_values.size == 0 or singular_values[0] == 0:
        return 0
    tol = singular_values[0] * max(shape) * np.finfo(float).eps
    return int(np.sum(singular_values > tol))
