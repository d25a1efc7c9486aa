"""The Kronecker assumption and the whitening change of variables, checked exactly by sympy.

The label-noise regularizer is a trace against the fourth moment of the data,
:math:`M = \\sum_i (x_i x_i^\\top) \\otimes (y_i y_i^\\top)`; when
:math:`M = X^\\top X \\otimes Y Y^\\top` (the Kronecker assumption) that trace
factorizes into Frobenius norms, and the change of variables
:math:`W' = X \\tilde W Y` whitens the data:

- :func:`regularizer_trace`: the per-sample regularizer as a trace against
  ``M`` (any data);
- :func:`kronecker_trace_factorization`: under the assumption, the trace is a
  product of two Frobenius norms;
- :func:`whitened_prediction`, :func:`whitened_sample`, :func:`whitened_moment`:
  the change of variables keeps the predictions and makes the moment
  :math:`I \\otimes I`.

Every function returns an :class:`~dlnlib.symbolic.Identity` between explicit
matrices of independent real symbols (:func:`~dlnlib.symbolic.symbol_matrix`),
so it holds for all matrices and data of the given sizes.
"""

from __future__ import annotations

import sympy as sp

from . import _checks
from .symbolic import Identity, frobenius_sq, kron, symbol_matrix

__all__ = [
    "kronecker_trace_factorization",
    "regularizer_trace",
    "whitened_moment",
    "whitened_prediction",
    "whitened_sample",
]


def _factor_pair(d0, k0, kL, dL) -> tuple[sp.Matrix, sp.Matrix]:
    """The symbol matrices ``A`` (``d0 x k0``, entries ``a_ij``) and ``B`` (``kL x dL``, entries ``b_ij``)."""
    return symbol_matrix("a", d0, k0), symbol_matrix("b", kL, dL)


def regularizer_trace(
    d0: int, k0: int, kL: int, dL: int, n: int = 2
) -> Identity:
    """The per-sample regularizer term as a trace against the data's fourth moment (any data).

    Book: equation :eq:`asm-trace-data` in :doc:`/chapters/assumption`.

    With :math:`A \\in \\mathbb R^{d_0 \\times k_0}`, :math:`B \\in \\mathbb R^{k_L \\times d_L}`
    and :math:`M = \\sum_i (x_i x_i^\\top) \\otimes (y_i y_i^\\top)`,

    .. math::
        \\sum_{i=1}^n \\|x_i^\\top A\\|_2^2 \\, \\|B y_i\\|_2^2
        = \\operatorname{tr}\\big(M \\, (A A^\\top \\otimes B^\\top B)\\big) .

    Parameters
    ----------
    d0, k0, kL, dL : int
        Shapes of ``A`` (``d0 x k0``) and ``B`` (``kL x dL``), each in ``[1, 3]``.
    n : int, optional
        Number of symbolic samples ``(x_i, y_i)``, in ``[1, 3]``.

    Returns
    -------
    Identity
        ``lhs`` the sum over the samples, ``rhs`` the trace; ``symbols``
        ``{"A", "B", "xs", "ys"}`` (``xs``, ``ys``: lists of ``n`` symbol
        column vectors ``x_i`` of length ``d0`` and ``y_i`` of length ``dL``).

    Raises
    ------
    ValueError
        If a dimension or ``n`` is not an integer in ``[1, 3]``.
    """
    d0, k0, kL, dL, n = (
        _checks.integer(v, nm, 1, 3)
        for v, nm in zip((d0, k0, kL, dL, n), "d0 k0 kL dL n".split())
    )
    A, B = _factor_pair(d0, k0, kL, dL)
    xs = [symbol_matrix(f"x{i + 1}", d0, 1) for i in range(n)]
    ys = [symbol_matrix(f"y{i + 1}", dL, 1) for i in range(n)]
    per_sample = sp.Add(
        *[frobenius_sq(x.T * A) * frobenius_sq(B * y) for x, y in zip(xs, ys)]
    )
    M = sp.zeros(d0 * dL, d0 * dL)
    for x, y in zip(xs, ys):
        M += kron(x * x.T, y * y.T)
    trace_data = (M * kron(A * A.T, B.T * B)).trace()
    return Identity(
        f"sum_(i=1..{n}) ||x_i^T A||^2 ||B y_i||^2 = tr(M (A A^T kron B^T B)), M = sum_i x_i x_i^T kron y_i y_i^T",
        per_sample,
        trace_data,
        {"A": A, "B": B, "xs": xs, "ys": ys},
    )


def kronecker_trace_factorization(
    d0: int, k0: int, kL: int, dL: int
) -> Identity:
    """Under the Kronecker assumption the trace of :func:`regularizer_trace` factorizes into Frobenius norms.

    Book: equation :eq:`asm-trace-kron` in :doc:`/chapters/assumption`.

    With :math:`A \\in \\mathbb R^{d_0 \\times k_0}`, :math:`B \\in \\mathbb R^{k_L \\times d_L}`
    and a moment :math:`M = X^\\top X \\otimes Y Y^\\top`,

    .. math::
        &\\operatorname{tr}\\big((X^\\top X \\otimes Y Y^\\top)(A A^\\top \\otimes B^\\top B)\\big) \\\\
        &\\qquad = \\|X A\\|_F^2 \\, \\|B Y\\|_F^2 .

    Parameters
    ----------
    d0, k0, kL, dL : int
        Shapes of ``A`` (``d0 x k0``) and ``B`` (``kL x dL``), each in ``[1, 3]``;
        ``X`` is ``d0 x d0`` and ``Y`` is ``dL x dL``.

    Returns
    -------
    Identity
        ``lhs`` the trace, ``rhs`` the product of Frobenius norms; ``symbols``
        ``{"A", "B", "X", "Y"}`` (the same ``A``, ``B`` as :func:`regularizer_trace`).

    Raises
    ------
    ValueError
        If a dimension is not an integer in ``[1, 3]``.
    """
    d0, k0, kL, dL = (
        _checks.integer(v, nm, 1, 3)
        for v, nm in zip((d0, k0, kL, dL), "d0 k0 kL dL".split())
    )
    A, B = _factor_pair(d0, k0, kL, dL)
    X = symbol_matrix("X", d0, d0)
    Y = symbol_matrix("Y", dL, dL)
    trace_kron = (kron(X.T * X, Y * Y.T) * kron(A * A.T, B.T * B)).trace()
    return Identity(
        "tr((X^T X kron Y Y^T)(A A^T kron B^T B)) = ||X A||_F^2 ||B Y||_F^2",
        trace_kron,
        frobenius_sq(X * A) * frobenius_sq(B * Y),
        {"A": A, "B": B, "X": X, "Y": Y},
    )


# ---------------------------------------------------------------------------
# whitening: W' = X W~ Y, x' = X^{-T} x, y' = Y^{-1} y
# ---------------------------------------------------------------------------


def _weights_and_inverses(
    d0, dL
) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix, sp.Matrix]:
    """Generic ``X`` (``d0 x d0``), ``Y`` (``dL x dL``) and their inverses, after checking the sizes."""
    d0 = _checks.integer(d0, "d0", 1, 3)
    dL = _checks.integer(dL, "dL", 1, 3)
    X = symbol_matrix("X", d0, d0)
    Y = symbol_matrix("Y", dL, dL)
    return X, Y, X.inv(), Y.inv()


def whitened_prediction(d0: int, dL: int) -> Identity:
    """The change of variables ``W' = X W~ Y`` keeps every prediction.

    Book: equation :eq:`concl-pred` in :doc:`/chapters/conclusion`.

    .. math:: x^\\top \\tilde W y = (x^\\top X^{-1}) \\, W' \\, (Y^{-1} y), \\qquad W' = X \\tilde W Y,

    for generic invertible :math:`X` (``d0 x d0``), :math:`Y` (``dL x dL``),
    :math:`\\tilde W` and data :math:`x`, :math:`y`.

    Parameters
    ----------
    d0, dL : int
        Sizes, each in ``1..3``.

    Returns
    -------
    Identity
        Scalar sides, ``method="cancel"`` (rational functions of the entries);
        ``symbols`` ``{"X", "Y", "W", "x", "y"}`` (``W`` is :math:`\\tilde W`).

    Raises
    ------
    ValueError
        If ``d0`` or ``dL`` is not an integer in ``1..3``.
    """
    X, Y, Xi, Yi = _weights_and_inverses(d0, dL)
    W = symbol_matrix("w", X.rows, Y.rows)
    x = symbol_matrix("x", X.rows, 1)
    y = symbol_matrix("y", Y.rows, 1)
    Wp = X * W * Y
    return Identity(
        "x^T W~ y = (x^T X^-1) W' (Y^-1 y) with W' = X W~ Y",
        (x.T * W * y)[0, 0],
        (x.T * Xi * Wp * Yi * y)[0, 0],
        {"X": X, "Y": Y, "W": W, "x": x, "y": y},
        method="cancel",
    )


def whitened_sample(d0: int, dL: int) -> Identity:
    """How one sample's term of the fourth moment changes under whitening.

    Book: equation :eq:`concl-white` in :doc:`/chapters/conclusion`.

    With :math:`x' = X^{-\\top} x` and :math:`y' = Y^{-1} y`,

    .. math::
        (x' x'^\\top) \\otimes (y' y'^\\top) &= (X^{-\\top} \\otimes Y^{-1})
            \\big((x x^\\top) \\otimes (y y^\\top)\\big) \\\\
            &\\qquad (X^{-1} \\otimes Y^{-\\top}).

    Parameters
    ----------
    d0, dL : int
        Sizes, each in ``1..3``.

    Returns
    -------
    Identity
        Sides of shape ``(d0 dL, d0 dL)``, ``method="cancel"``; ``symbols``
        ``{"X", "Y", "x", "y"}``.

    Raises
    ------
    ValueError
        If ``d0`` or ``dL`` is not an integer in ``1..3``.
    """
    X, Y, Xi, Yi = _weights_and_inverses(d0, dL)
    x = symbol_matrix("x", X.rows, 1)
    y = symbol_matrix("y", Y.rows, 1)
    xp, yp = Xi.T * x, Yi * y
    return Identity(
        "(x' x'^T) kron (y' y'^T) = (X^-T kron Y^-1) ((x x^T) kron (y y^T)) (X^-1 kron Y^-T)",
        kron(xp * xp.T, yp * yp.T),
        kron(Xi.T, Yi) * kron(x * x.T, y * y.T) * kron(Xi, Yi.T),
        {"X": X, "Y": Y, "x": x, "y": y},
        method="cancel",
    )


def whitened_moment(d0: int, dL: int) -> Identity:
    """Whitening turns a moment that satisfies the Kronecker assumption into the identity.

    Book: equation :eq:`concl-white` in :doc:`/chapters/conclusion`.

    .. math::
        &(X^{-\\top} \\otimes Y^{-1}) \\big((X^\\top X) \\otimes (Y Y^\\top)\\big) (X^{-1} \\otimes Y^{-\\top}) \\\\
        &\\qquad = I_{d_0} \\otimes I_{d_L},

    so, summing :func:`whitened_sample` over the data, data whose moment is
    :math:`X^\\top X \\otimes Y Y^\\top` become isotropic.

    Parameters
    ----------
    d0, dL : int
        Sizes, each in ``1..3``.

    Returns
    -------
    Identity
        Sides of shape ``(d0 dL, d0 dL)``, ``method="cancel"``; ``symbols`` ``{"X", "Y"}``.

    Raises
    ------
    ValueError
        If ``d0`` or ``dL`` is not an integer in ``1..3``.
    """
    X, Y, Xi, Yi = _weights_and_inverses(d0, dL)
    return Identity(
        "(X^-T kron Y^-1) ((X^T X) kron (Y Y^T)) (X^-1 kron Y^-T) = I kron I",
        kron(Xi.T, Yi) * kron(X.T * X, Y * Y.T) * kron(Xi, Yi.T),
        sp.eye(X.rows * Y.rows),
        {"X": X, "Y": Y},
        method="cancel",
    )
