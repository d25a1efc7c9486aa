"""The interpolant of least induced regularizer: where label noise should land, for any data.

Among the networks that fit the data, label noise descends ``R``; on the
end-to-end matrices it descends the induced regularizer ``R*``
(:mod:`dlnlib.induced`). This module searches for the interpolating matrix of
least ``R*`` (book chapter *Beyond the assumption*, equation ``bey-induced``)
in the weights, where the problem is smooth:

.. math:: \\min_\\theta R(\\theta) \\quad \\text{s.t.} \\quad P_i(\\theta) = t_i
          \\;\\; (i = 1, \\dots, n),

with scipy's trust-region SQP (``trust-constr``) and exact second derivatives
of the constraints (:func:`dlnlib.network.jacobian_derivative`). Its answer
comes with a first-order certificate (:func:`interpolant_certificate`): the
part of the gradient of ``R`` that the interpolation constraints do not
explain, relative to the gradient. A search that ends without it, or without
interpolating, raises :class:`RuntimeError` naming its budget; it never hands
back its start in silence.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from . import _checks
from .induced import min_regularizer
from .network import (
    end_to_end,
    flatten,
    jacobian,
    jacobian_derivative,
    predict,
    unflatten,
)
from .regularizer import regularizer, regularizer_gradient

__all__ = [
    "LeastFound",
    "LeastInterpolant",
    "interpolant_certificate",
    "least_found",
    "least_regularizer_interpolant",
]


def _kkt_residual(weights, xs, ys) -> float:
    """||g - J^T lambda*|| / ||g||, g = grad R, lambda* the least-squares multipliers."""
    g = flatten(regularizer_gradient(weights, xs, ys))
    norm = float(np.linalg.norm(g))
    if norm == 0.0:
        return 0.0
    J = jacobian(weights, xs, ys)
    multipliers = np.linalg.lstsq(J.T, g, rcond=None)[0]
    return float(np.linalg.norm(g - J.T @ multipliers)) / norm


def interpolant_certificate(W, xs, ys, dims, **kwargs) -> float:
    """How far an interpolating ``W~`` is from stationary for ``R*`` on the interpolating set.

    Book: the column "certificate" of :numref:`tbl-bey-interpolants` in
    :doc:`/chapters/beyond`.

    With the optimal factorization ``theta`` of ``W`` (:func:`dlnlib.induced.min_regularizer`),
    the gradient ``g`` of ``R`` in the weights and the Jacobian ``J`` of the
    predictions (:func:`dlnlib.network.jacobian`),

    .. math:: c(\\tilde W) = \\frac{\\|g - J^\\top \\lambda^\\star\\|}{\\|g\\|}, \\qquad
              \\lambda^\\star = \\arg\\min_\\lambda \\|g - J^\\top \\lambda\\|,

    the norm of the gradient projected on the directions that keep every
    prediction, relative to the gradient. ``c = 0`` is the first-order
    condition of a least-``R`` interpolating network. At a full-rank ``W``
    the envelope theorem (:func:`dlnlib.induced.induced_gradient`) gives
    ``g = D^T grad R*(W)`` with ``D`` the (onto) derivative of the product,
    so ``c = 0`` exactly when ``grad R*(W)`` projected on the interpolating
    matrices vanishes (the two norms differ, the zeros agree). A ``W`` with ``c`` well above the accuracy of its factorization
    is not a local minimizer: moving along the projected gradient lowers
    ``R*`` while it keeps interpolating. At a rank-deficient ``W`` the
    condition covers the directions that keep the rank (rank-raising
    directions are of second order in the weights).

    Parameters
    ----------
    W : array_like, shape (d_0, d_L)
    xs, ys, dims
        As in :func:`dlnlib.induced.min_regularizer`.
    **kwargs
        Passed to :func:`dlnlib.induced.min_regularizer` (``starts``, ``seed``, ...).

    Returns
    -------
    float
        ``c`` in ``[0, 1]`` (0 when the gradient vanishes).

    Raises
    ------
    ValueError
        As :func:`dlnlib.induced.min_regularizer`.

    Examples
    --------
    At depth 2 the exact depth-2 solution is the least-``R*`` interpolant, so
    its certificate is at the accuracy of the convex solver:

    >>> from dlnlib.convex import convex_references
    >>> from dlnlib.problems import gaussian_sensing
    >>> pb = gaussian_sensing(12, 4, 4, 1, seed=3)
    >>> refs = convex_references(pb.xs, pb.ys, pb.targets)
    >>> c = interpolant_certificate(refs["exact depth-2"], pb.xs, pb.ys, (4, 4, 4))
    >>> bool(c < 1e-4)
    True
    """
    _, weights = min_regularizer(W, xs, ys, dims, **kwargs)
    return _kkt_residual(weights, xs, ys)


@dataclass(frozen=True)
class LeastInterpolant:
    """Result of :func:`least_regularizer_interpolant`.

    Attributes
    ----------
    value : float
        ``R`` at ``weights``: ``R*(matrix)`` up to the accuracy of the search.
    matrix : ndarray, shape (d_0, d_L)
        The interpolating end-to-end matrix found.
    weights : list of ndarray
        The network found, widths ``dims``.
    start_value : float
        ``R*`` of the start.
    moved : float
        ``||matrix - start||_F / ||start||_F``.
    certificate : float
        :func:`interpolant_certificate` at ``weights`` (at most ``certify``).
    residual : float
        ``||P - t|| / ||t||`` at ``weights`` (at most ``tol``).
    iterations : int
        Iterations of the SQP, over all its rounds.
    rounds : int
        Runs of scipy's SQP, each from the last one's answer with a tenfold
        tighter tolerance, until the certificate passed.
    """

    value: float
    matrix: np.ndarray
    weights: list
    start_value: float
    moved: float
    certificate: float
    residual: float
    iterations: int
    rounds: int


def _sqp(theta, d, xs, ys, t, certify, max_iter):
    """trust-constr on min R(theta) s.t. P(theta) = t, exact constraint curvature.

    Near a low-rank interpolant the constraints are nearly dependent: the
    Jacobian has singular values far below the largest, to a power that
    grows with depth. The multipliers scipy hands to the curvature come
    from a fit that keeps singular values down to an absolute 1e-15 and blow
    up there (1.1e16 measured at depth 5, skewed completion), which
    overflowed the trust-region step. The curvature therefore uses the
    multipliers of the least-squares fit at numpy's numerical rank (singular
    values below ``eps * max(n, p)`` of the largest count as zero); a
    cut-off far above that (1e-10) left the model so poor that the steps
    stalled. Any symmetric curvature keeps the method a trust-region SQP,
    and the answer is judged by its own certificate.

    scipy stops on its own measure of optimality, which is not the
    certificate: it is rerun from its answer with a tenfold tighter tolerance
    until the certificate passes or ``max_iter`` is spent.

    Returns the weights, their certificate, the iterations run, the rounds
    and scipy's last stop (``max_iter >= 1``, so at least one round runs).
    """
    from scipy.optimize import NonlinearConstraint, minimize
    from scipy.sparse.linalg import LinearOperator

    def value(th):
        return float(regularizer(unflatten(th, d), xs, ys))

    def gradient(th):
        return flatten(regularizer_gradient(unflatten(th, d), xs, ys))

    def curvature(th, v):
        # Hessian of R times v, central differences of the gradient
        h = 1e-6 * max(1.0, float(np.linalg.norm(th)))
        h /= max(float(np.linalg.norm(v)), 1e-300)
        return (gradient(th + h * v) - gradient(th - h * v)) / (2 * h)

    def constraint_curvature(th, _multipliers):
        # sum_i v_i Hessian(P_i), exact, with the multipliers v = -lambda of
        # the least-squares fit g = J^T lambda at numpy's numerical rank
        # (scipy's Lagrangian is R + v^T (P - t))
        layers = unflatten(th, d)
        J = jacobian(layers, xs, ys)
        v = -np.linalg.lstsq(J.T, gradient(th), rcond=None)[0]
        return LinearOperator(
            (th.size, th.size),
            matvec=lambda u: jacobian_derivative(
                layers, xs, ys, np.ravel(u), v
            ),
        )

    fit = NonlinearConstraint(
        lambda th: predict(unflatten(th, d), xs, ys) - t,
        0.0,
        0.0,
        jac=lambda th: jacobian(unflatten(th, d), xs, ys),
        hess=constraint_curvature,
    )
    scale = float(np.abs(gradient(theta)).max())
    gtol, iterations, rounds, stop = 0.1 * certify * scale, 0, 0, ""
    while iterations < max_iter:
        rounds += 1
        with warnings.catch_warnings():
            # scipy says when it factorizes a rank-deficient Jacobian by SVD
            # instead of QR: expected at low-rank interpolants, where the SVD
            # is the exact method
            warnings.filterwarnings(
                "ignore", message="Singular Jacobian matrix"
            )
            result = minimize(
                value,
                theta,
                jac=gradient,
                hessp=curvature,
                constraints=[fit],
                method="trust-constr",
                options={
                    "maxiter": max_iter - iterations,
                    "gtol": gtol,
                    "xtol": 1e-15,
                },
            )
        iterations += int(result.nit)
        stop = str(result.message)
        theta = _onto_data(result.x, d, xs, ys, t)
        certificate = _kkt_residual(unflatten(theta, d), xs, ys)
        if certificate <= certify:
            break
        gtol *= 0.1
        if gtol < 1e-300 or result.nit == 0:
            break
    return theta, certificate, iterations, rounds, stop


def _onto_data(theta, d, xs, ys, t):
    """Three Gauss-Newton steps onto the interpolating set."""
    for _ in range(3):
        layers = unflatten(theta, d)
        c = predict(layers, xs, ys) - t
        theta = (
            theta - np.linalg.lstsq(jacobian(layers, xs, ys), c, rcond=None)[0]
        )
    return theta


def least_regularizer_interpolant(
    xs,
    ys,
    targets,
    dims,
    start,
    *,
    seed: int = 0,
    jitter: float = 1e-6,
    tol: float = 1e-10,
    certify: float = 1e-6,
    max_iter: int = 3000,
    starts: int = 2,
) -> LeastInterpolant:
    """A local minimizer of ``R`` over the interpolating networks: where label noise should land.

    Book: equation :eq:`bey-induced` in :doc:`/chapters/beyond`.

    .. math:: \\min_{W_1, \\dots, W_L} R(W_1, \\dots, W_L) \\quad \\text{s.t.} \\quad
              x_i^\\top W_1 \\cdots W_L \\, y_i = t_i \\;\\; (i = 1, \\dots, n),

    equivalently the interpolating ``W~`` of least induced regularizer
    ``R*(W~)`` (:func:`dlnlib.induced.min_regularizer`), near ``start``.
    The start is factorized optimally, every layer is moved by a relative
    ``jitter`` (a rank-deficient start is a saddle in the weights), and
    scipy's ``trust-constr`` (an SQP with a trust region) descends ``R``
    under the interpolation constraints, with the constraints' exact
    second derivatives (:func:`dlnlib.network.jacobian_derivative`) and
    central differences of the gradient of ``R`` for its curvature; the
    multipliers in that curvature come from a least-squares fit at numpy's
    numerical rank, since near a low-rank interpolant the constraints are
    nearly dependent and scipy's own multipliers overflowed the step. scipy
    stops on its own optimality measure; while the certificate is above ``certify``
    the SQP is run again from its answer with a tenfold tighter tolerance,
    within the ``max_iter`` budget (``rounds`` counts the runs). Three
    Gauss-Newton steps after each run put the answer on the interpolating
    set. The problem is not convex: the answer is a local minimizer,
    certified to first order (:func:`interpolant_certificate`).

    Parameters
    ----------
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    targets : array_like, shape (n,)
    dims : sequence of int
        ``(d_0, ..., d_L)``, ``L >= 2``.
    start : array_like, shape (d_0, d_L)
        An interpolating end-to-end matrix (relative residual below 1e-4),
        e.g. a convex solution.
    seed : int, optional
        Seed of the jitter.
    jitter : float, optional
        Relative size of the random move of every layer of the start (``>= 0``).
    tol : float, optional
        Largest relative interpolation residual ``||P - t|| / ||t||`` accepted.
    certify : float, optional
        Largest certificate accepted (``0 < certify < 1``).
    max_iter : int, optional
        Budget of SQP iterations.
    starts : int, optional
        Starts of the factorization of ``start`` (:func:`dlnlib.induced.min_regularizer`).

    Returns
    -------
    LeastInterpolant

    Raises
    ------
    ValueError
        If inputs are invalid (as :func:`dlnlib.induced.min_regularizer`), ``targets``
        has the wrong length, or ``start`` does not interpolate.
    RuntimeError
        If the search ends, within ``max_iter`` iterations, above the
        residual ``tol`` or the certificate ``certify``: the message names
        the budget and both numbers.

    Examples
    --------
    >>> from dlnlib.convex import convex_references
    >>> from dlnlib.problems import gaussian_sensing
    >>> pb = gaussian_sensing(12, 4, 4, 1, seed=3)
    >>> start = convex_references(pb.xs, pb.ys, pb.targets)["plain"]
    >>> found = least_regularizer_interpolant(pb.xs, pb.ys, pb.targets, (4, 4, 4, 4), start)
    >>> bool(found.value <= found.start_value and found.certificate <= 1e-6)
    True
    """
    d, xs, ys, t = _checks.regression_data(xs, ys, targets, dims)
    W0 = _checks.finite_array(start, "start", ndim=2)
    if W0.shape != (d[0], d[-1]):
        raise ValueError(
            f"start has shape {W0.shape}, expected (d_0, d_L) = {(d[0], d[-1])}"
        )
    jitter = _checks.positive(jitter, "jitter", allow_zero=True)
    tol = _checks.positive(tol, "tol")
    certify = _checks.positive(certify, "certify")
    if certify >= 1:
        raise ValueError(f"certify must be below 1, got {certify:g}")
    max_iter = _checks.integer(max_iter, "max_iter", 1)
    scale = max(float(np.linalg.norm(t)), 1e-300)
    misfit = float(np.linalg.norm(np.einsum("ij,jk,ik->i", xs, W0, ys) - t))
    if misfit > 1e-4 * scale:
        raise ValueError(
            f"start does not interpolate: relative residual {misfit / scale:.1e} > 1e-4"
        )
    rng = np.random.default_rng(_checks.integer(seed, "seed", 0))
    start_value, ws = min_regularizer(
        W0, xs, ys, d, starts=starts, seed=int(rng.integers(2**31))
    )
    ws = [
        w
        + jitter
        * np.linalg.norm(w)
        / np.sqrt(w.size)
        * rng.standard_normal(w.shape)
        for w in ws
    ]
    theta, certificate, iterations, rounds, stop = _sqp(
        flatten(ws), d, xs, ys, t, certify, max_iter
    )
    layers = unflatten(theta, d)
    residual = float(np.linalg.norm(predict(layers, xs, ys) - t)) / scale
    if not (residual <= tol and certificate <= certify):
        raise RuntimeError(
            f"the least-R* search did not converge within max_iter = {max_iter}"
            f" iterations ({iterations} run in {rounds} rounds; scipy's last"
            f" stop: {stop}): interpolation residual {residual:.1e}"
            f" (tolerance {tol:g}), certificate {certificate:.1e} (tolerance"
            f" {certify:g})"
        )
    W = end_to_end(layers)
    return LeastInterpolant(
        value=float(regularizer(layers, xs, ys)),
        matrix=W,
        weights=layers,
        start_value=float(start_value),
        moved=float(np.linalg.norm(W - W0) / max(np.linalg.norm(W0), 1e-300)),
        certificate=certificate,
        residual=residual,
        iterations=iterations,
        rounds=rounds,
    )


@dataclass(frozen=True)
class LeastFound:
    """Result of :func:`least_found`.

    Attributes
    ----------
    value : float
        The least ``R*`` found: over the candidates and the search's end.
    matrix : ndarray, shape (d_0, d_L)
        The interpolating matrix that has it.
    source : str
        ``"search"`` when the search's end is the least, else ``"candidate k"``
        (a search may end at a stationary point above its start).
    stars : ndarray, shape (C,)
        ``R*`` of every one of the ``C`` candidates.
    certificates : ndarray, shape (C,)
        :func:`interpolant_certificate` of every candidate.
    start : int
        Index of the candidate of least ``R*``, where the search started.
    search : LeastInterpolant
        The search from that candidate, whatever its end.
    """

    value: float
    matrix: np.ndarray
    source: str
    stars: np.ndarray
    certificates: np.ndarray
    start: int
    search: LeastInterpolant


def least_found(
    xs, ys, targets, dims, candidates, *, starts: int = 2, **search
) -> LeastFound:
    """The least-``R*`` search started from the best of several interpolants.

    Book: used in :doc:`/chapters/completion`, :doc:`/chapters/experiments` and
    :doc:`/chapters/beyond`.

    ``R*`` (:func:`dlnlib.induced.min_regularizer`, ``starts`` starts) and the
    certificate (:func:`interpolant_certificate`) of every candidate
    interpolant, then :func:`least_regularizer_interpolant` from the
    candidate of least ``R*``. The search either converges (interpolating,
    certified) or raises, and is returned whole (``search``). The least
    ``R*`` found is the lower of its end and the best candidate, and
    ``source`` says which: a search from a nearly stationary start may end at
    a stationary point slightly above it. The value is an upper bound on the
    least ``R*`` over all interpolants.

    Parameters
    ----------
    xs, ys, targets, dims
        As in :func:`least_regularizer_interpolant`.
    candidates : sequence of array_like, shape (d_0, d_L)
        Interpolating end-to-end matrices (convex solutions, training end points).
    starts : int, optional
        Starts of each :func:`dlnlib.induced.min_regularizer` call.
    **search
        Passed to :func:`least_regularizer_interpolant` (``tol``, ``certify``,
        ``jitter``, ``max_iter``, ``seed``).

    Returns
    -------
    LeastFound

    Raises
    ------
    ValueError
        If ``candidates`` is empty or an input is invalid (as
        :func:`least_regularizer_interpolant`).
    RuntimeError
        If the search does not converge within its budget.
    """
    if len(candidates) == 0:
        raise ValueError("candidates is empty: give at least one interpolant")
    factorized = [
        min_regularizer(W, xs, ys, dims, starts=starts) for W in candidates
    ]
    stars = np.array([value for value, _ in factorized])
    certificates = np.array(
        [_kkt_residual(ws, xs, ys) for _, ws in factorized]
    )
    best = int(np.argmin(stars))
    found = least_regularizer_interpolant(
        xs, ys, targets, dims, candidates[best], starts=starts, **search
    )
    if found.value <= stars[best]:
        return LeastFound(
            found.value,
            found.matrix,
            "search",
            stars,
            certificates,
            best,
            found,
        )
    start = np.asarray(candidates[best], dtype=float)
    return LeastFound(
        float(stars[best]),
        start,
        f"candidate {best}",
        stars,
        certificates,
        best,
        found,
    )
