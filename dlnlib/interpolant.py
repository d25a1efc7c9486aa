"""The interpolant of least induced regularizer: where label noise should land, for any data.

Among the networks that fit the data, label noise descends ``R``; on the
end-to-end matrices it descends the induced regularizer ``R*``
(:mod:`dlnlib.induced`). This module searches for the interpolating matrix of
least ``R*`` (book chapter *Beyond the assumption*, equation ``bey-induced``):
in the weights, where the problem is smooth, by an augmented Lagrangian
(:func:`least_regularizer_interpolant`), and among candidate interpolants
plus one descent from the best (:func:`least_found`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks
from .induced import min_regularizer
from .network import end_to_end

__all__ = ["LeastFound", "least_found", "least_regularizer_interpolant"]


def _augmented_lagrangian(
    theta, d, xs, ys, t, scale, tol, max_rounds, maxiter
):
    """min R(theta) s.t. P(theta) = t: L-BFGS on R + lam^T c + (mu/2)||c||^2, then lam += mu c."""
    from scipy.optimize import minimize

    from .network import flatten, jacobian, predict, unflatten
    from .regularizer import regularizer, regularizer_gradient

    lam = np.zeros_like(t)
    mu = 10 * float(regularizer(unflatten(theta, d), xs, ys)) / scale**2
    for _ in range(max_rounds):

        def objective(th, lam=lam, mu=mu):
            layers = unflatten(th, d)
            c = predict(layers, xs, ys) - t
            value = (
                float(regularizer(layers, xs, ys)) + lam @ c + 0.5 * mu * c @ c
            )
            grad = flatten(regularizer_gradient(layers, xs, ys))
            return value, grad + jacobian(layers, xs, ys).T @ (lam + mu * c)

        options = {"maxiter": maxiter, "gtol": 1e-12, "ftol": 1e-15}
        theta = minimize(
            objective, theta, jac=True, method="L-BFGS-B", options=options
        ).x
        c = predict(unflatten(theta, d), xs, ys) - t
        lam = lam + mu * c
        if np.linalg.norm(c) <= tol * scale:
            break
        mu *= 2
    return theta


def least_regularizer_interpolant(
    xs,
    ys,
    targets,
    dims,
    starts,
    *,
    seed: int = 0,
    jitter: float = 1e-3,
    tol: float = 1e-10,
    max_rounds: int = 40,
    maxiter: int = 5000,
) -> tuple[float, list[np.ndarray], np.ndarray]:
    """A local minimizer of ``R`` over the interpolating networks: where label noise should land.

    Book: equation :eq:`bey-induced` in :doc:`/chapters/beyond`.

    .. math:: \\min_{W_1, \\dots, W_L} R(W_1, \\dots, W_L) \\quad \\text{s.t.} \\quad
              x_i^\\top W_1 \\cdots W_L \\, y_i = t_i \\;\\; (i = 1, \\dots, n),

    equivalently the interpolating ``W~`` of least induced regularizer
    ``R*(W~)`` (:func:`dlnlib.induced.min_regularizer`). Solved in the weights, where the
    problem is smooth, by an augmented Lagrangian: L-BFGS (scipy) on
    ``R + lambda^T c + (mu / 2) ||c||^2`` with ``c_i = P_i - t_i``, then
    ``lambda += mu c`` and ``mu`` doubled, until ``||c|| <= tol ||t||``.
    Each start is a candidate end-to-end matrix: it is factorized
    optimally (:func:`dlnlib.induced.min_regularizer`) and every layer is moved by a
    relative ``jitter`` (a rank-deficient start is a saddle the descent
    cannot leave), and the lowest end point is returned. The problem is not
    convex; compare the ends of several starts.

    Parameters
    ----------
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    targets : array_like, shape (n,)
    dims : sequence of int
        ``(d_0, ..., d_L)``, ``L >= 2``.
    starts : sequence of array_like, shape (d_0, d_L)
        Candidate end-to-end matrices to start from (e.g. convex solutions).
    seed : int, optional
        Seed of the jitter.
    jitter : float, optional
        Relative size of the random move of every start (``>= 0``).
    tol : float, optional
        Relative interpolation residual at which a start stops.
    max_rounds : int, optional
        Budget of multiplier updates per start.
    maxiter : int, optional
        Budget of L-BFGS iterations per multiplier update. A start that does
        not reach ``tol`` within the budgets reports ``inf`` in ``ends``.

    Returns
    -------
    value : float
        ``R`` at the best end point.
    weights : list of ndarray
        The best end point, widths ``dims``.
    ends : ndarray, shape (len(starts),)
        ``R`` at every start's end point (for the spread).

    Raises
    ------
    ValueError
        If inputs are invalid (as :func:`dlnlib.induced.min_regularizer`), ``starts`` is
        empty, or no start reaches the interpolation tolerance.
    """

    from .network import flatten, predict, unflatten
    from .regularizer import regularizer

    d = _checks.dims_tuple(dims)
    xs, ys = _checks.data_pair(xs, ys, d[0], d[-1])
    t = _checks.finite_array(targets, "targets", ndim=1)
    if t.shape[0] != xs.shape[0]:
        raise ValueError(
            f"targets has length {t.shape[0]} but there are n = {xs.shape[0]} samples"
        )
    if len(starts) == 0:
        raise ValueError(
            "starts is empty: give at least one candidate end-to-end matrix"
        )
    jitter = _checks.positive(jitter, "jitter", allow_zero=True)
    tol = _checks.positive(tol, "tol")
    max_rounds = _checks.integer(max_rounds, "max_rounds", 1)
    maxiter = _checks.integer(maxiter, "maxiter", 1)
    rng = np.random.default_rng(_checks.integer(seed, "seed", 0))
    scale = max(float(np.linalg.norm(t)), 1e-300)
    ends, best = [], None
    for W0 in starts:
        _, ws = min_regularizer(
            W0, xs, ys, d, starts=2, seed=int(rng.integers(2**31))
        )
        ws = [
            w
            + jitter
            * np.linalg.norm(w)
            / np.sqrt(w.size)
            * rng.standard_normal(w.shape)
            for w in ws
        ]
        theta = _augmented_lagrangian(
            flatten(ws), d, xs, ys, t, scale, tol, max_rounds, maxiter
        )
        layers = unflatten(theta, d)
        residual = float(np.linalg.norm(predict(layers, xs, ys) - t)) / scale
        value = float(regularizer(layers, xs, ys))
        ends.append(value if residual <= 10 * tol else np.inf)
        if residual <= 10 * tol and (best is None or value < best[0]):
            best = (value, layers)
    if best is None:
        raise ValueError(
            f"no start reached the interpolation tolerance {tol:g} within {max_rounds} rounds"
        )
    return best[0], best[1], np.array(ends)


@dataclass(frozen=True)
class LeastFound:
    """Result of :func:`least_found`.

    Attributes
    ----------
    value : float
        The least ``R*`` found.
    matrix : ndarray, shape (d_0, d_L)
        The interpolating matrix that has it.
    stars : ndarray, shape (C,)
        ``R*`` of every one of the ``C`` candidates.
    start : int
        Index of the candidate of least ``R*``, where the descent started.
    improved : bool
        Whether the descent went below that candidate (else ``matrix`` is it).
    """

    value: float
    matrix: np.ndarray
    stars: np.ndarray
    start: int
    improved: bool


def least_found(
    xs, ys, targets, dims, candidates, *, starts: int = 2, **descent
) -> LeastFound:
    """The interpolating matrix of least ``R*`` among candidates and one descent from the best.

    Book: used in :doc:`/chapters/completion` and :doc:`/chapters/beyond`.

    ``R*`` (:func:`dlnlib.induced.min_regularizer`, ``starts`` starts) of every candidate
    interpolant, then :func:`least_regularizer_interpolant` from the best of
    them with the budget ``descent`` (its keyword arguments). The descent's
    end replaces the best candidate only if it is lower; a descent that does
    not finish within its budget keeps the candidate. The result is an upper
    bound on the least ``R*`` over all interpolants, not a certificate.

    Parameters
    ----------
    xs, ys, targets, dims
        As in :func:`least_regularizer_interpolant`.
    candidates : sequence of array_like, shape (d_0, d_L)
        Interpolating end-to-end matrices (convex solutions, training end points).
    starts : int, optional
        Starts of each :func:`dlnlib.induced.min_regularizer` call.
    **descent
        Passed to :func:`least_regularizer_interpolant` (``tol``, ``jitter``,
        ``max_rounds``, ``maxiter``).

    Returns
    -------
    LeastFound

    Raises
    ------
    ValueError
        If ``candidates`` is empty or an input is invalid (as
        :func:`dlnlib.induced.min_regularizer`).
    """
    if len(candidates) == 0:
        raise ValueError("candidates is empty: give at least one interpolant")
    stars = np.array(
        [
            min_regularizer(W, xs, ys, dims, starts=starts)[0]
            for W in candidates
        ]
    )
    best = int(np.argmin(stars))
    start = np.asarray(candidates[best], dtype=float)
    try:
        value, ws, _ = least_regularizer_interpolant(
            xs, ys, targets, dims, [start], **descent
        )
    except ValueError as exc:  # the descent did not finish within its budget
        if "no start reached" not in str(exc):
            raise
        return LeastFound(float(stars[best]), start, stars, best, False)
    if value < stars[best]:
        return LeastFound(value, end_to_end(ws), stars, best, True)
    return LeastFound(float(stars[best]), start, stars, best, False)
