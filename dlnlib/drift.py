"""Why label noise descends ``R``: the drift of label-noise gradient descent.

One noisy step of :func:`dlnlib.training.label_noise_sgd` is

.. math:: \\theta \\leftarrow \\theta - \\eta \\nabla_\\theta \\frac{1}{2n}
          \\sum_{i=1}^n (P_i - t_i - \\sigma \\xi_i)^2 .

Near an interpolating point ``theta*`` write ``J`` for the Jacobian of the
predictions (:func:`dlnlib.network.jacobian`) and ``H = J^T J / n`` for the
Hessian of the loss. The noise kicks the parameters by ``(eta sigma / n) J^T xi``
into the normal space ``N = range(J^T)``; the gradient pulls them back. The
fluctuation settles at the covariance ``S`` that solves the discrete
Lyapunov equation

.. math:: S = (I - \\eta H) S (I - \\eta H) + \\frac{\\eta^2 \\sigma^2}{n} H,
          \\qquad S = \\frac{\\eta \\sigma^2}{n} (2 I - \\eta H)^{+}
          \\approx \\frac{\\eta \\sigma^2}{2n} P_N,

and the third derivative of the loss turns it into a mean drift along the
set of interpolating points (chapter *Why label noise follows R*),

.. math:: \\mathbb E[\\Delta \\theta] = -\\frac{\\eta}{2} P_T \\nabla_\\theta
          \\operatorname{tr}(H S) \\big|_{S \\text{ fixed}}
          \\approx -\\frac{\\eta^2 \\sigma^2}{4 n^2} P_T \\nabla R ,

so that ``R`` decreases by ``(eta^2 sigma^2 / (4 n^2)) ||P_T grad R||^2``
per step, to leading order in ``eta``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import _checks
from .network import flatten, jacobian, jacobian_derivative
from .regularizer import regularizer_gradient

__all__ = [
    "NormalSpace",
    "normal_space",
    "predicted_drift",
    "tangent_gradient",
]


@dataclass(frozen=True)
class NormalSpace:
    """The normal space of the interpolating set at a point, and the loss Hessian on it.

    Attributes
    ----------
    basis : ndarray, shape (p, k)
        Orthonormal columns spanning ``N = range(J^T)``, ``k = rank J``.
    hessian_eigenvalues : ndarray, shape (k,)
        Eigenvalues ``lambda`` of ``H = J^T J / n`` on ``N``, decreasing;
        ``H = basis @ diag(hessian_eigenvalues) @ basis.T``.
    n : int
        Number of samples.
    """

    basis: np.ndarray
    hessian_eigenvalues: np.ndarray
    n: int

    def project_tangent(self, v: np.ndarray) -> np.ndarray:
        """``P_T v = v - P_N v``: the part of ``v`` along the interpolating set."""
        return v - self.basis @ (self.basis.T @ v)


def normal_space(weights: Sequence[np.ndarray], xs, ys) -> NormalSpace:
    """Normal space and Hessian spectrum of the mean squared loss at a point.

    Book: equation :eq:`mech-hessian` in :doc:`/chapters/mechanism`.

    From the SVD ``J = U diag(s) V^T`` of the prediction Jacobian: the basis is
    ``V`` (directions with ``s`` above ``max(n, p) * eps * s_max``) and the
    eigenvalues of ``H = J^T J / n`` are ``s^2 / n``.

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]`` (no batch axis).
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)

    Returns
    -------
    NormalSpace

    Raises
    ------
    ValueError
        If the inputs are invalid or the Jacobian is zero.
    """
    J = jacobian(weights, xs, ys)
    _, s, Vt = np.linalg.svd(J, full_matrices=False)
    k = _checks.numerical_rank(s, J.shape)
    if k == 0:
        raise ValueError(
            "the Jacobian of the predictions is zero: there is no normal space (all weights zero?)"
        )
    n = J.shape[0]
    return NormalSpace(basis=Vt[:k].T, hessian_eigenvalues=s[:k] ** 2 / n, n=n)


def tangent_gradient(weights: Sequence[np.ndarray], xs, ys) -> np.ndarray:
    """``P_T grad R``: the gradient of ``R`` along the set of interpolating points.

    Book: equation :eq:`drift-rate` in :doc:`/chapters/mechanism`.

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]`` (no batch axis).
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)

    Returns
    -------
    ndarray, shape (p,)
        Flattened as in :func:`dlnlib.network.flatten`.

    Raises
    ------
    ValueError
        If the inputs are invalid.
    """
    space = normal_space(weights, xs, ys)
    return space.project_tangent(
        flatten(regularizer_gradient(weights, xs, ys))
    )


def predicted_drift(
    weights: Sequence[np.ndarray],
    xs,
    ys,
    *,
    lr: float,
    noise_std: float,
    covariance: str = "leading",
) -> float:
    """Predicted expected change of ``R`` per noisy step at an interpolating point.

    Book: equation :eq:`drift-rate` in :doc:`/chapters/mechanism`.

    With ``covariance="leading"`` (the default) this is the leading order
    in ``eta`` (equation ``drift-rate`` of the book),

    .. math:: \\mathbb E[\\Delta R] = -\\frac{\\eta^2 \\sigma^2}{4 n^2} \\, \\|P_T \\nabla R\\|^2 .

    With ``covariance="lyapunov"`` the fluctuation covariance is the exact
    solution ``S = (eta sigma^2 / n) (2 I - eta H)^+`` of the discrete
    Lyapunov equation (module docstring) instead of its leading term, and

    .. math:: \\mathbb E[\\Delta R] = -\\frac{\\eta}{2} \\, \\nabla R \\cdot P_T
              \\frac{2}{n} \\sum_i \\nabla^2 P_i \\, S \\, \\nabla P_i ,

    which keeps every order in ``eta lambda`` of the covariance (but not of
    the rest of the expansion).

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]`` (no batch axis) of a network that interpolates the
        data (the formula assumes zero residuals; it is not checked here).
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    lr : float
        Step size ``eta > 0``.
    noise_std : float
        Label-noise standard deviation ``sigma > 0``.
    covariance : {"leading", "lyapunov"}, optional

    Returns
    -------
    float
        Negative or zero: ``R`` decreases on average.

    Raises
    ------
    ValueError
        If the inputs are invalid, or ``covariance`` is unknown.
    FloatingPointError
        With ``covariance="lyapunov"`` when ``eta lambda_max(H) >= 2``: then
        gradient descent is unstable at this point and has no stationary
        fluctuation.

    Examples
    --------
    >>> import numpy as np
    >>> xs, ys = np.array([[1.0]]), np.array([[1.0]])
    >>> # scalar network a b = 1 at (a, b) = (2, 1/2): R = a^2 + b^2
    >>> ws = [np.array([[2.0]]), np.array([[0.5]])]
    >>> round(predicted_drift(ws, xs, ys, lr=0.1, noise_std=1.0), 6)
    -0.033088
    """
    eta = _checks.positive(lr, "lr")
    sigma = _checks.positive(noise_std, "noise_std")
    if covariance not in ("leading", "lyapunov"):
        raise ValueError(
            f"covariance must be 'leading' or 'lyapunov', got {covariance!r}"
        )
    space = normal_space(weights, xs, ys)
    n = space.n
    grad_R = flatten(regularizer_gradient(weights, xs, ys))
    tangent = space.project_tangent(grad_R)
    if covariance == "leading":
        return float(-(eta**2) * sigma**2 / (4 * n**2) * tangent @ tangent)
    lam = space.hessian_eigenvalues
    if eta * lam[0] >= 2:
        raise FloatingPointError(
            f"lr * lambda_max(H) = {eta * lam[0]:.3g} >= 2: gradient descent is unstable at this point "
            f"(no stationary fluctuation); use lr < {2 / lam[0]:.3g}"
        )
    J = jacobian(weights, xs, ys)
    weights_S = (
        eta * sigma**2 / (n * (2 - eta * lam))
    )  # S = sum_k weights_S[k] v_k v_k^T
    pull = np.zeros_like(grad_R)
    for s_k, v in zip(weights_S, space.basis.T):
        pull += s_k * jacobian_derivative(weights, xs, ys, v, J @ v)
    drift = -(eta / 2) * space.project_tangent(2 / n * pull)
    return float(grad_R @ drift)
