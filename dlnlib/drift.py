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
from scipy.integrate import solve_ivp
from scipy.interpolate import make_interp_spline
from scipy.optimize import minimize_scalar

from . import _checks
from .network import (
    flatten,
    jacobian,
    jacobian_derivative,
    predict,
    unflatten,
)
from .regularizer import regularizer, regularizer_gradient

__all__ = [
    "FlowFit",
    "NormalSpace",
    "SlowFlow",
    "drift_vector",
    "fit_time_scale",
    "flow_length",
    "normal_space",
    "predicted_drift",
    "slow_flow",
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
    step = drift_vector(
        weights, xs, ys, lr=lr, noise_std=noise_std, covariance=covariance
    )
    return float(flatten(regularizer_gradient(weights, xs, ys)) @ step)


def drift_vector(
    weights: Sequence[np.ndarray],
    xs,
    ys,
    *,
    lr: float,
    noise_std: float,
    covariance: str = "leading",
) -> np.ndarray:
    """Predicted mean step of label-noise SGD along the interpolating set.

    Book: equations :eq:`mech-third` and :eq:`drift-rate` in
    :doc:`/chapters/mechanism`.

    With ``covariance="leading"``

    .. math:: \\mathbb E[P_T \\Delta\\theta] = -\\frac{\\eta^2 \\sigma^2}{4 n^2} P_T \\nabla R ,

    and with ``covariance="lyapunov"`` the exact fluctuation covariance
    ``S = (eta sigma^2 / n) (2 I - eta H)^+`` replaces its leading term in
    ``-(eta / 2) P_T (2 / n) sum_i Hess(P_i) S grad(P_i)``.
    :func:`predicted_drift` is ``grad R`` dotted with this vector and
    :func:`slow_flow` integrates it.

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]`` (no batch axis) of an interpolating network.
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    lr, noise_std : float
        ``eta > 0`` and ``sigma > 0``.
    covariance : {"leading", "lyapunov"}, optional

    Returns
    -------
    ndarray, shape (p,)
        Flattened as in :func:`dlnlib.network.flatten`; tangent to the set.

    Raises
    ------
    ValueError
        If the inputs are invalid, or ``covariance`` is unknown.
    FloatingPointError
        With ``covariance="lyapunov"`` when ``eta lambda_max(H) >= 2``.
    """
    eta = _checks.positive(lr, "lr")
    sigma = _checks.positive(noise_std, "noise_std")
    if covariance not in ("leading", "lyapunov"):
        raise ValueError(
            f"covariance must be 'leading' or 'lyapunov', got {covariance!r}"
        )
    space = normal_space(weights, xs, ys)
    n = space.n
    if covariance == "leading":
        grad_R = flatten(regularizer_gradient(weights, xs, ys))
        return (
            -(eta**2) * sigma**2 / (4 * n**2) * space.project_tangent(grad_R)
        )
    lam = space.hessian_eigenvalues
    if eta * lam[0] >= 2:
        raise FloatingPointError(
            f"lr * lambda_max(H) = {eta * lam[0]:.3g} >= 2: gradient descent is unstable at this point "
            f"(no stationary fluctuation); use lr < {2 / lam[0]:.3g}"
        )
    J = jacobian(weights, xs, ys)
    # S = sum_k s_k v_k v_k^T on the eigenvectors v_k of H in N
    s_k = eta * sigma**2 / (n * (2 - eta * lam))
    pull = sum(
        s * jacobian_derivative(weights, xs, ys, v, J @ v)
        for s, v in zip(s_k, space.basis.T)
    )
    return -(eta / 2) * space.project_tangent(2 / n * pull)


_FIT_GRID = 4001  # points at which fit_time_scale evaluates R along the flow


@dataclass(frozen=True)
class SlowFlow:
    """The predicted mean path of label-noise SGD along the interpolating set.

    Attributes
    ----------
    steps : float
        The flow is known for ``0 <= t <= steps`` noisy steps.
    dims : tuple of int
    solution : callable
        ``t -> theta(t)`` (SciPy's dense output), flattened weights.
    residual : float
        Largest relative interpolation residual ``||P - t|| / ||t||`` at the
        solver's steps.
    """

    steps: float
    dims: tuple
    solution: object
    residual: float
    xs: np.ndarray
    ys: np.ndarray

    def weights(self, t: float) -> list[np.ndarray]:
        """``[W_1, ..., W_L]`` of the flow after ``t`` steps."""
        if not 0 <= t <= self.steps:
            raise ValueError(
                f"the flow is known for 0 <= t <= {self.steps:g} steps, got t = {t:g}"
            )
        return unflatten(self.solution(t), self.dims)

    def regularizer(self, ts) -> np.ndarray:
        """``R`` along the flow at the steps ``ts``, shape ``(len(ts),)``."""
        ts = np.atleast_1d(np.asarray(ts, float))
        if ts.min() < 0 or ts.max() > self.steps:
            raise ValueError(
                f"the flow is known for 0 <= t <= {self.steps:g} steps, "
                f"got t from {ts.min():g} to {ts.max():g}"
            )
        stack = unflatten(self.solution(ts).T, self.dims)  # (len(ts), ...)
        return np.asarray(regularizer(stack, self.xs, self.ys))


def slow_flow(
    weights: Sequence[np.ndarray],
    xs,
    ys,
    *,
    lr: float,
    noise_std: float,
    steps: float,
    covariance: str = "leading",
    rtol: float = 1e-9,
    max_residual: float = 1e-6,
) -> SlowFlow:
    """Integrate the predicted drift along the interpolating set for ``steps`` steps.

    Book: the section *The drift along the whole run* of
    :doc:`/chapters/mechanism`.

    Solves ``d theta / dt = drift_vector(theta)`` (:func:`drift_vector`, per
    noisy step ``t``) from ``weights``, with SciPy's ``solve_ivp`` (LSODA).
    The exact flow stays on the interpolating set ``P(theta) = t``; to keep
    the numerical one there, the right-hand side adds
    ``-(10 / steps) J^+ (P(theta) - t)``, which vanishes on the set. With
    ``covariance="leading"`` this is the gradient flow of ``R`` on the set
    with time ``eta^2 sigma^2 t / (4 n^2)``, so ``R`` decreases along it at the
    rate :eq:`drift-rate` at every point, not only at the start.

    Parameters
    ----------
    weights : list of ndarray
        ``[W_1, ..., W_L]`` of a network that interpolates its targets
        ``t = P(weights)``, with a Jacobian of full rank ``n``.
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    lr, noise_std : float
        ``eta`` and ``sigma`` of the chains whose mean path this predicts.
    steps : float
        Length of the flow in noisy steps, ``> 0``.
    covariance : {"leading", "lyapunov"}, optional
        Passed to :func:`drift_vector`.
    rtol : float, optional
        Relative tolerance of the solver.
    max_residual : float, optional
        Largest relative interpolation residual allowed along the flow.

    Returns
    -------
    SlowFlow

    Raises
    ------
    ValueError
        If the inputs are invalid, or the Jacobian loses rank along the flow.
    RuntimeError
        If the solver fails or the flow leaves the interpolating set by more
        than ``max_residual``.
    """
    ws = _checks.weight_list(weights)
    dims = tuple([ws[0].shape[0]] + [w.shape[1] for w in ws])
    length = _checks.positive(steps, "steps")
    targets = predict(ws, xs, ys)
    scale = max(float(np.linalg.norm(targets)), np.finfo(float).tiny)
    n = len(targets)
    if normal_space(ws, xs, ys).basis.shape[1] < n:
        raise ValueError(
            "the Jacobian of the predictions has rank below n: the "
            "interpolating set is not smooth here, and the flow is not defined"
        )
    worst = [0.0]

    def field(t, theta):
        w = unflatten(theta, dims)
        r = predict(w, xs, ys) - targets
        worst[0] = max(worst[0], float(np.linalg.norm(r)) / scale)
        J = jacobian(w, xs, ys)
        back = np.linalg.lstsq(J, r, rcond=None)[0]
        step = drift_vector(
            w, xs, ys, lr=lr, noise_std=noise_std, covariance=covariance
        )
        return step - (10 / length) * back

    sol = solve_ivp(
        field,
        (0.0, length),
        flatten(ws),
        method="LSODA",
        rtol=rtol,
        atol=rtol * 1e-2,
        dense_output=True,
    )
    if not sol.success:
        raise RuntimeError(f"the slow flow did not integrate: {sol.message}")
    if worst[0] > max_residual:
        raise RuntimeError(
            f"the slow flow left the interpolating set: relative residual "
            f"{worst[0]:.2g} > max_residual = {max_residual:g}"
        )
    return SlowFlow(
        steps=length,
        dims=dims,
        solution=sol.sol,
        residual=worst[0],
        xs=np.asarray(xs, float),
        ys=np.asarray(ys, float),
    )


@dataclass(frozen=True)
class FlowFit:
    """The chains' mean ``R`` against the slow flow, fitted in time.

    Attributes
    ----------
    time_scale : float
        ``kappa``: the chains' mean ``R`` after ``t`` steps is the flow's
        ``R`` after ``kappa t`` steps (plus ``shift``); the measured drift over
        the predicted one along the whole run.
    stderr : float
        Standard error of ``time_scale`` from independent groups of chains.
    shift : float
        The constant that the fluctuation adds to the mean of ``R``.
    misfit : float
        Largest ``|mean R - shift - R_flow(kappa t)|`` over the fitted records,
        relative to the descent ``R_flow(0) - R_flow(kappa t_end)``.
    descent : float
        That descent: how far the flow moves ``R`` from its start to the
        last fitted record.
    """

    time_scale: float
    stderr: float
    shift: float
    misfit: float
    descent: float


def fit_time_scale(
    flow: SlowFlow,
    steps,
    R,
    *,
    start: int = 0,
    groups: int = 8,
    bounds: tuple[float, float] = (0.2, 5.0),
    block: int = 1,
) -> FlowFit:
    """Fit the chains' mean ``R`` to the slow flow: ``mean R(t) = shift + R_flow(kappa t)``.

    Book: the section *The drift along the whole run* of
    :doc:`/chapters/mechanism`.

    ``kappa`` minimizes the squared misfit over the records with
    ``steps >= start`` (for a given ``kappa`` the best ``shift`` is the mean
    difference), by SciPy's bounded scalar minimization.

    Parameters
    ----------
    flow : SlowFlow
        Long enough: ``bounds[1] * max(steps) <= flow.steps``.
    steps : array_like of int, shape (T,)
        The record steps of the chains.
    R : array_like, shape (T, C)
        ``R`` of every chain at every record.
    start : int, optional
        First step fitted (after the fluctuation has built up).
    groups : int, optional
        Independent groups of chains for the standard error, ``>= 2``.
    bounds : (float, float), optional
        Range searched for ``kappa``; a fit at either end raises.
    block : int, optional
        Chains that depend on each other come in consecutive blocks of this
        size (2 for the antithetic pairs of
        :func:`dlnlib.training.label_noise_sgd`); the groups are formed of
        whole blocks, so that they stay independent. Default 1.

    Returns
    -------
    FlowFit

    Raises
    ------
    ValueError
        On bad shapes, too few records or chains (fewer blocks than
        ``groups``, or chains that do not fill whole blocks), or a flow that
        is too short.
    RuntimeError
        If the best ``kappa`` lies at an end of ``bounds``.
    """
    t = np.asarray(steps, float)
    values = _checks.finite_array(R, "R")
    if values.ndim != 2 or values.shape[0] != t.shape[0]:
        raise ValueError(
            f"R must have shape (len(steps), chains) = ({t.shape[0]}, C), got {values.shape}"
        )
    groups = _checks.integer(groups, "groups", 2)
    block = _checks.integer(block, "block", 1)
    chains = values.shape[1]
    if chains % block:
        raise ValueError(
            f"{chains} chains do not fill whole blocks of {block}"
        )
    if chains // block < groups:
        raise ValueError(
            f"{chains} chains ({chains // block} blocks of {block}) cannot "
            f"form {groups} groups"
        )
    late = t >= start
    if late.sum() < 3:
        raise ValueError(f"fewer than 3 records at or after step {start}")
    if bounds[1] * t[late].max() > flow.steps:
        raise ValueError(
            f"the flow is {flow.steps:g} steps long; the fit needs "
            f"{bounds[1]:g} x {t[late].max():g}"
        )
    t_late = t[late]
    # R along the flow on a fine grid, between the grid points a cubic spline
    grid = np.linspace(0.0, flow.steps, _FIT_GRID)
    R_flow = make_interp_spline(grid, flow.regularizer(grid), k=3)

    def fit(mean_R):
        def misfit(kappa):
            d = mean_R - R_flow(kappa * t_late)
            return d - d.mean()

        best = minimize_scalar(
            lambda k: float(np.sum(misfit(k) ** 2)),
            bounds=bounds,
            method="bounded",
            options={"xatol": 1e-7},
        )
        kappa = float(best.x)
        width = bounds[1] - bounds[0]
        if min(kappa - bounds[0], bounds[1] - kappa) < 1e-4 * width:
            raise RuntimeError(
                f"the time scale {kappa:.4g} is at an end of bounds = {bounds}: "
                "the chains do not follow the flow within that range"
            )
        return kappa

    mean_R = values[late].mean(axis=1)
    kappa = fit(mean_R)
    difference = mean_R - R_flow(kappa * t_late)
    residual = difference - difference.mean()
    blocks = values[late].reshape(late.sum(), chains // block, block)
    parts = [
        fit(part.mean(axis=(1, 2)))
        for part in np.array_split(blocks, groups, axis=1)
    ]
    descent = float(R_flow(0.0) - R_flow(kappa * t_late[-1]))
    return FlowFit(
        time_scale=kappa,
        stderr=float(np.std(parts, ddof=1) / np.sqrt(groups)),
        shift=float(difference.mean()),
        misfit=float(np.abs(residual).max() / descent),
        descent=descent,
    )


def flow_length(
    weights: Sequence[np.ndarray],
    xs,
    ys,
    *,
    lr: float,
    noise_std: float,
    fraction: float = 0.9,
    horizon: float = 8.0,
) -> int:
    """Noisy steps after which the slow flow has done ``fraction`` of its descent of ``R``.

    Book: the section *The drift along the whole run* of
    :doc:`/chapters/mechanism`.

    The leading-order flow (:func:`slow_flow`) is integrated over a horizon
    of ``horizon * R(0) / |dR/dt(0)|`` steps, and the first of 1601 equally
    spaced steps at which ``R - R_end <= (1 - fraction) (R(0) - R_end)``,
    ``R_end`` being ``R`` at the horizon, is returned. Where the flow settles
    within the horizon this is the fraction of its whole descent; where it
    keeps descending slowly beyond it (deep networks), of the descent within
    the horizon.

    Parameters
    ----------
    weights : list of ndarray
        An interpolating network, as in :func:`slow_flow`.
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    lr, noise_std : float
        ``eta`` and ``sigma``.
    fraction : float, optional
        In ``(0, 1)``.
    horizon : float, optional
        The horizon in units of ``R(0) / |dR/dt(0)|``, ``> 0``.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the inputs are invalid, or the drift vanishes at ``weights``.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    rate = predicted_drift(weights, xs, ys, lr=lr, noise_std=noise_std)
    R0 = float(regularizer(weights, xs, ys))
    if abs(rate) <= 1e-14 * R0:
        raise ValueError(
            "the drift vanishes here: R is stationary on the interpolating set"
        )
    steps = _checks.positive(horizon, "horizon") * R0 / abs(rate)
    flow = slow_flow(weights, xs, ys, lr=lr, noise_std=noise_std, steps=steps)
    ts = np.linspace(0.0, steps, 1601)
    R = flow.regularizer(ts)
    left = R - R[-1] <= (1 - fraction) * (R[0] - R[-1])
    return int(np.ceil(ts[np.argmax(left)]))
