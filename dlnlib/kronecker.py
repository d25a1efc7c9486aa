"""The Kronecker assumption on the data, and how far data are from it.

The derivation assumes that the fourth-order moment of the data factorizes,

.. math:: \\sum_{i=1}^n (x_i x_i^\\top) \\otimes (y_i y_i^\\top) = (X^\\top X) \\otimes (Y Y^\\top),

an independence assumption between the ``x`` and the ``y`` second moments.
:func:`kronecker_factors` finds the nearest Kronecker product to the left-hand
side (Van Loan and Pitsianis, 1993) and reports how far it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks


def second_moment(xs, ys) -> np.ndarray:
    """The matrix ``sum_i (x_i x_i^T) kron (y_i y_i^T)``.

    Book: equation :eq:`asm-kron` in :doc:`/chapters/assumption`.

    .. math:: M = \\sum_{i=1}^n (x_i x_i^\\top) \\otimes (y_i y_i^\\top)

    Parameters
    ----------
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)

    Returns
    -------
    ndarray, shape (d_0 d_L, d_0 d_L)
        Symmetric positive semidefinite.

    Raises
    ------
    ValueError
        If ``xs``/``ys`` are not finite 2-d arrays with the same number of rows.
    """
    xs, ys = _checks.data_pair(xs, ys)
    z = (xs[:, :, None] * ys[:, None, :]).reshape(
        xs.shape[0], -1
    )  # rows x_i kron y_i
    return z.T @ z


@dataclass(frozen=True)
class KroneckerFactors:
    """Nearest Kronecker product ``(X^T X) kron (Y Y^T)`` to the data moment.

    Attributes
    ----------
    X : ndarray, shape (d_0, d_0)
        Symmetric positive semidefinite square root of the left factor.
    Y : ndarray, shape (d_L, d_L)
        Symmetric positive semidefinite square root of the right factor.
    rel_error : float
        ``||M - (X^T X) kron (Y Y^T)||_F / ||M||_F`` (0 when the assumption holds).
    spectrum : ndarray
        Singular values of the Van Loan-Pitsianis rearrangement of ``M``; the
        assumption holds exactly when only the first is nonzero.
    """

    X: np.ndarray
    Y: np.ndarray
    rel_error: float
    spectrum: np.ndarray


def _psd_sqrt(A: np.ndarray) -> np.ndarray:
    evals, evecs = np.linalg.eigh((A + A.T) / 2)
    return (evecs * np.sqrt(np.clip(evals, 0.0, None))) @ evecs.T


def kronecker_factors(xs, ys) -> KroneckerFactors:
    """Nearest Kronecker factorization of ``sum_i (x_i x_i^T) kron (y_i y_i^T)``.

    Book: equation :eq:`asm-relerr` in :doc:`/chapters/assumption`.

    The rearrangement of Van Loan and Pitsianis maps ``A kron B`` to the
    rank-one matrix ``vec(A) vec(B)^T``; here the moment rearranges to
    ``S_x^T S_y`` with rows ``vec(x_i x_i^T)`` and ``vec(y_i y_i^T)``. Its top
    singular triple ``(s_1, u, v)`` gives ``X^T X = sqrt(s_1) mat(u)`` and
    ``Y Y^T = sqrt(s_1) mat(v)``: the Frobenius-nearest Kronecker product,
    split so that both factors have Frobenius norm ``sqrt(s_1)`` (the product
    ``X kron Y`` is what matters; ``(cX, Y/c)`` is equivalent). ``X`` and ``Y``
    are the symmetric square roots.

    .. math:: \\text{rel\\_error} = \\frac{\\|M - (X^\\top X) \\otimes (Y Y^\\top)\\|_F}{\\|M\\|_F}
              = \\sqrt{\\frac{\\sum_{k \\ge 2} s_k^2}{\\sum_k s_k^2}}

    Parameters
    ----------
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)

    Returns
    -------
    KroneckerFactors
        With ``X`` of shape ``(d_0, d_0)``, ``Y`` of shape ``(d_L, d_L)``,
        ``rel_error`` and ``spectrum``.

    Raises
    ------
    ValueError
        If the data are not finite 2-d arrays with matching ``n``, or if every
        product ``x_i kron y_i`` is zero (nothing to factor).
    """
    xs, ys = _checks.data_pair(xs, ys)
    n, d0 = xs.shape
    dL = ys.shape[1]
    Sx = (xs[:, :, None] * xs[:, None, :]).reshape(n, d0 * d0)
    Sy = (ys[:, :, None] * ys[:, None, :]).reshape(n, dL * dL)
    U, s, Vt = np.linalg.svd(Sx.T @ Sy, full_matrices=False)
    if s[0] == 0:
        raise ValueError(
            "every product x_i kron y_i is zero: the data moment is 0 and has no Kronecker factors"
        )
    u, v = U[:, 0], Vt[0]
    if (
        u.reshape(d0, d0).trace() < 0
    ):  # singular vectors come with an arbitrary sign
        u, v = -u, -v
    A = np.sqrt(s[0]) * u.reshape(d0, d0)
    B = np.sqrt(s[0]) * v.reshape(dL, dL)
    # relative to s[0] first: squares of tiny singular values would underflow
    ratios = s / s[0]
    rel = float(np.linalg.norm(ratios[1:]) / np.linalg.norm(ratios))
    return KroneckerFactors(
        X=_psd_sqrt(A), Y=_psd_sqrt(B), rel_error=rel, spectrum=s
    )


def product_design(X, Y) -> tuple[np.ndarray, np.ndarray]:
    """Data for which the Kronecker assumption holds exactly.

    Book: equation :eq:`asm-kron` in :doc:`/chapters/assumption`.

    Pairs every row ``X[a]`` with every column ``Y[:, b]``; since
    ``X^T X = sum_a X[a] X[a]^T`` and ``Y Y^T = sum_b Y[:, b] Y[:, b]^T``,

    .. math:: \\sum_{a, b} (X_{a\\cdot} X_{a\\cdot}^\\top) \\otimes (Y_{\\cdot b} Y_{\\cdot b}^\\top)
              = (X^\\top X) \\otimes (Y Y^\\top).

    Parameters
    ----------
    X : array_like, shape (d_0, d_0)
    Y : array_like, shape (d_L, d_L)

    Returns
    -------
    xs : ndarray, shape (d_0 d_L, d_0)
    ys : ndarray, shape (d_0 d_L, d_L)

    Raises
    ------
    ValueError
        If ``X`` or ``Y`` is not a finite square matrix.
    """
    X = _checks.square_matrix(X, "X")
    Y = _checks.square_matrix(Y, "Y")
    d0, dL = X.shape[0], Y.shape[0]
    return np.repeat(X, dL, axis=0), np.tile(Y.T, (d0, 1))
