"""Gradient flow on a deep linear network, integrated until the loss is (near) zero.

Gradient descent with step ``eta`` follows the gradient flow

.. math:: \\dot\\theta(\\tau) = -\\nabla \\ell(\\theta(\\tau)), \\qquad
          \\ell(W_1, \\dots, W_L) = \\frac{1}{2n} \\sum_{i=1}^n
          \\big(x_i^\\top W_1 \\cdots W_L \\, y_i - t_i\\big)^2 ,

only while ``eta`` is small against the inverse curvature. From a small
initialization the flow crosses long plateaus near saddle points, where a
fixed step wastes most of its steps, and can end where the curvature is
large, where a fixed step is unstable. The theorem of Razin and Cohen (book
chapter *Label noise among the implicit biases*) is about the flow itself,
so this module integrates it with an adaptive stiff solver (scipy's
``solve_ivp``, LSODA) from the initialization of
:func:`dlnlib.descent.init_weights`, and stops each chain when its loss
falls to ``loss_tol`` times the loss of the zero network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _checks
from ._chains import _seed_list
from .descent import init_weights
from .network import end_to_end, flatten, unflatten

__all__ = ["FlowRun", "gradient_flow"]


@dataclass(frozen=True)
class FlowRun:
    """Result of :func:`gradient_flow`, one entry per chain (seed).

    Attributes
    ----------
    weights : list of ndarray
        The layers at the end, ``W_l`` of shape ``(C, d_{l-1}, d_l)``.
    end_to_end : ndarray, shape (C, d_0, d_L)
        ``W_1 ... W_L`` at the end.
    loss : ndarray, shape (C,)
        The training loss ``ell`` at the end.
    relative_loss : ndarray, shape (C,)
        ``loss`` over the loss of the zero network.
    time : ndarray, shape (C,)
        The flow time ``tau`` at which each chain stopped.
    converged : ndarray of bool, shape (C,)
        Whether the chain reached ``loss_tol`` before ``t_max``.
    evaluations : ndarray of int, shape (C,)
        Gradient evaluations of the solver.
    """

    weights: list
    end_to_end: np.ndarray
    loss: np.ndarray
    relative_loss: np.ndarray
    time: np.ndarray
    converged: np.ndarray
    evaluations: np.ndarray


def _flow_field(xs, ys, targets, dims):
    """The vector field -grad ell and the relative loss of a flat theta.

    The partial products are those of :func:`dlnlib.network.partial_products`,
    written out without its input checks: the solver calls the field thousands
    of times per chain.
    """
    shapes = list(zip(dims[:-1], dims[1:]))
    cuts = np.cumsum([a * b for a, b in shapes])[:-1]
    zero_loss = 0.5 * np.mean(targets**2)
    n = len(targets)

    def layers(theta):
        return [p.reshape(s) for p, s in zip(np.split(theta, cuts), shapes)]

    def parts(theta):
        ws = layers(theta)
        lefts = [np.eye(dims[0])]
        for w in ws[:-1]:
            lefts.append(lefts[-1] @ w)
        rights = [np.eye(dims[-1])]
        for w in reversed(ws[1:]):
            rights.append(w @ rights[-1])
        rights.reverse()
        W = lefts[-1] @ ws[-1]
        return lefts, rights, np.einsum("ni,ij,nj->n", xs, W, ys) - targets

    def field(_, theta):
        # grad_{W_l} ell = A_l^T G B_l^T with G = (1/n) sum_i r_i x_i y_i^T (setup-grad)
        lefts, rights, r = parts(theta)
        G = xs.T @ (r[:, None] * ys) / n
        return -np.concatenate(
            [(A.T @ G @ B.T).ravel() for A, B in zip(lefts, rights)]
        )

    def relative_loss(theta):
        return 0.5 * np.mean(parts(theta)[2] ** 2) / zero_loss

    return field, relative_loss


def gradient_flow(
    xs,
    ys,
    targets,
    dims,
    *,
    init_scale: float = 1.0,
    seeds=0,
    loss_tol: float = 1e-12,
    t_max: float = 1e9,
    rtol: float = 1e-8,
) -> FlowRun:
    """Gradient flow of the mean squared loss from a random initialization, to near-zero loss.

    Book: the runs of :numref:`tbl-ib-rc-ends` in :doc:`/chapters/contrast`.

    Integrates :math:`\\dot\\theta = -\\nabla \\ell(\\theta)` with
    :math:`\\ell = \\frac{1}{2n} \\sum_i (x_i^\\top W_1 \\cdots W_L y_i - t_i)^2`
    and :math:`\\nabla_{W_l} \\ell = A_l^\\top G B_l^\\top`,
    :math:`G = \\frac1n \\sum_i r_i x_i y_i^\\top` (equation ``setup-grad``), with
    ``scipy.integrate.solve_ivp`` (LSODA, relative tolerance ``rtol``), for
    each seed from :func:`dlnlib.descent.init_weights` (the start of
    :func:`dlnlib.training.label_noise_sgd` with the same seed and
    ``init_scale``), until the loss is at most ``loss_tol`` times that of the
    zero network or the flow time reaches ``t_max``.

    Parameters
    ----------
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    targets : array_like, shape (n,)
        Not all zero.
    dims : sequence of int
        ``(d_0, ..., d_L)``, ``L >= 2``.
    init_scale : float, optional
        Scale of the initialization (:func:`dlnlib.descent.init_weights`), > 0.
    seeds : int or sequence of int, optional
        One chain per seed.
    loss_tol : float, optional
        Relative loss at which a chain stops, in (0, 1).
    t_max : float, optional
        Largest flow time, > 0; a chain that has not reached ``loss_tol`` by
        then is returned with ``converged = False``.
    rtol : float, optional
        Relative tolerance of the solver, in [1e-13, 1e-3].

    Returns
    -------
    FlowRun

    Raises
    ------
    ValueError
        If the shapes disagree, an input is not finite, the targets are all
        zero, or a number is out of its range.
    RuntimeError
        If the solver fails (it names the seed, the flow time and the loss).

    Examples
    --------
    >>> import numpy as np
    >>> E = np.eye(2)
    >>> run = gradient_flow(E[[0, 1, 1]], E[[1, 0, 1]], np.array([1.0, 1.0, 0.0]),
    ...                     (2, 2, 2), init_scale=0.1, seeds=[0, 1])
    >>> bool(run.converged.all()), bool(run.relative_loss.max() <= 1e-12)
    (True, True)
    """
    from scipy.integrate import solve_ivp

    d, xs, ys, targets = _checks.regression_data(xs, ys, targets, dims)
    if not np.any(targets):
        raise ValueError(
            "targets are all zero: the zero network already fits them"
        )
    init_scale = _checks.positive(init_scale, "init_scale")
    loss_tol = _checks.positive(loss_tol, "loss_tol")
    if loss_tol >= 1:
        raise ValueError(f"loss_tol must be below 1, got {loss_tol:g}")
    t_max = _checks.positive(t_max, "t_max")
    rtol = _checks.positive(rtol, "rtol")
    if not 1e-13 <= rtol <= 1e-3:
        raise ValueError(f"rtol must be in [1e-13, 1e-3], got {rtol:g}")
    seeds, _ = _seed_list(seeds)

    field, relative_loss = _flow_field(xs, ys, targets, d)

    # zero a hair below loss_tol, so that the end is at most loss_tol
    def reached(_, theta):
        return np.log(relative_loss(theta)) - np.log(loss_tol) + 1e-6

    reached.terminal = True
    ends, times, evaluations, rel, converged = [], [], [], [], []
    for seed in seeds:
        theta0 = flatten(init_weights(d, init_scale, seed))
        with np.errstate(over="raise", invalid="raise"):
            try:
                sol = solve_ivp(
                    field,
                    (0.0, t_max),
                    theta0,
                    method="LSODA",
                    rtol=rtol,
                    atol=1e-14,
                    events=reached,
                )
            except FloatingPointError as exc:
                raise RuntimeError(
                    f"gradient flow of seed {seed} overflowed: {exc}"
                ) from exc
        if sol.status < 0:
            raise RuntimeError(
                f"gradient flow of seed {seed} failed at flow time {sol.t[-1]:.3g}"
                f" (relative loss {relative_loss(sol.y[:, -1]):.3g}): {sol.message}"
            )
        ends.append(sol.y[:, -1])
        times.append(sol.t[-1])
        evaluations.append(sol.nfev)
        rel.append(relative_loss(ends[-1]))
        converged.append(sol.status == 1 and rel[-1] <= loss_tol)
    weights = unflatten(np.stack(ends), d)
    rel = np.array(rel)
    return FlowRun(
        weights=weights,
        end_to_end=end_to_end(weights),
        loss=rel * 0.5 * np.mean(targets**2),
        relative_loss=rel,
        time=np.array(times),
        converged=np.array(converged),
        evaluations=np.array(evaluations),
    )
