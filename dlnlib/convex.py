"""The convex reference: the interpolating matrix of least (weighted) nuclear norm.

Under the Kronecker assumption the label-noise regularizer is minimized, over
the factorizations of the interpolating matrices, at the solution of

.. math:: \\min_{W \\in \\mathbb{R}^{d_0 \\times d_L}} \\|X W Y\\|_*
          \\quad \\text{subject to} \\quad x_i^\\top W y_i = t_i, \\quad i = 1, \\dots, n,

a convex program (a semidefinite program in disguise) solved here with cvxpy.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from . import _checks

__all__ = [
    "convex_references",
    "min_nuclear_norm",
    "nuclear_norm_regression",
    "nuclear_norm_regression_optimality",
    "PenalizedOptimality",
    "reference_weights",
    "round_rank",
]


#: End of the error message for a singular weight (see :func:`dlnlib._checks.invertible`).
_SINGULAR_WEIGHT = ": ||X W Y||_* would not determine W"


def _solve(problem, V, solver, clarabel_tol: float | None = None):
    """Solve a cvxpy problem in the matrix variable ``V``; return ``(status, solver name, V)``.

    ``clarabel_tol`` tightens Clarabel's gap and feasibility tolerances (default 1e-8).
    """
    import cvxpy as cp

    # Clarabel first; if it only reaches "optimal_inaccurate" (it happens on badly scaled
    # weights), SCS with tight tolerances. The status is checked here, so cvxpy's
    # "may be inaccurate" warning is not passed on.
    attempts = (
        [solver]
        if solver is not None
        else [s for s in ("CLARABEL", "SCS") if s in cp.installed_solvers()]
    )
    options = {"SCS": {"eps": 1e-10, "max_iters": 200_000}}
    if clarabel_tol is not None:
        options["CLARABEL"] = {
            key: clarabel_tol
            for key in ("tol_gap_abs", "tol_gap_rel", "tol_feas")
        }
    best = None
    for name in attempts:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                problem.solve(solver=name, **options.get(name, {}))
        except cp.error.SolverError as exc:
            if name == attempts[-1] and best is None:
                raise ValueError(
                    f"the convex solver {name} failed: {exc}"
                ) from None
            continue
        if (
            problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
            and V.value is not None
        ):
            best = (problem.status, name, V.value.copy())
            if problem.status == cp.OPTIMAL:
                break
    if best is None:
        raise ValueError(
            f"the convex solver(s) {attempts} returned status {problem.status!r}"
        )
    return best


def min_nuclear_norm(
    xs, ys, targets, X=None, Y=None, *, solver: str | None = None
) -> np.ndarray:
    """Minimum (weighted) nuclear norm matrix that fits the measurements exactly.

    Book: equation :eq:`concl-convex` in :doc:`/chapters/conclusion`.

    .. math:: W^\\star = \\arg\\min_W \\|X W Y\\|_* \\quad \\text{s.t.} \\quad
              x_i^\\top W y_i = t_i \\;\\; (i = 1, \\dots, n)

    Solved in the variable ``V = X W Y`` (so the objective is a plain nuclear
    norm) with the measurements ``X^{-T} x_i`` and ``Y^{-1} y_i``, then mapped
    back, ``W = X^{-1} V Y^{-1}``.  With ``X = Y = I`` this is the classical
    nuclear-norm minimization; with ``X = sqrt(n) diag(sqrt p)``,
    ``Y = diag(sqrt q)`` for completion it is the weighted trace norm of
    Srebro and Salakhutdinov.

    Parameters
    ----------
    xs : array_like, shape (n, d_0)
        Left measurement vectors as rows.
    ys : array_like, shape (n, d_L)
        Right measurement vectors as rows.
    targets : array_like, shape (n,)
        Values ``t_i`` to fit exactly.
    X : array_like, shape (d_0, d_0), optional
        Left weight, invertible (identity when omitted).
    Y : array_like, shape (d_L, d_L), optional
        Right weight, invertible (identity when omitted).
    solver : str, optional
        A cvxpy solver name. By default Clarabel, falling back to SCS (tight
        tolerances) when Clarabel only reaches an inaccurate solution.

    Returns
    -------
    ndarray, shape (d_0, d_L)
        The minimizer ``W``.

    Raises
    ------
    ValueError
        If the shapes disagree, an entry is not finite, ``X`` or ``Y`` is not
        square of the right size or is singular or badly conditioned
        (condition number above ``1e10``), or if the measurements are
        inconsistent (no matrix fits them) or the solver fails.

    Examples
    --------
    The Razin-Cohen entries ``W[0, 1] = W[1, 0] = 1``, ``W[1, 1] = 0``: every
    completion ``[[w, 1], [1, 0]]`` has ``||W||_* = sqrt(w^2 + 4)``, least at
    ``w = 0``.

    >>> xs, ys = np.eye(2)[[0, 1, 1]], np.eye(2)[[1, 0, 1]]
    >>> W = min_nuclear_norm(xs, ys, np.array([1.0, 1.0, 0.0]))
    >>> (np.round(W, 4) + 0.0).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    import cvxpy as cp

    xs, ys = _checks.data_pair(xs, ys)
    t = _checks.finite_array(targets, "targets", ndim=1)
    n, d0 = xs.shape
    dL = ys.shape[1]
    if t.shape[0] != n:
        raise ValueError(
            f"targets has length {t.shape[0]} but there are n = {n} samples"
        )
    X = (
        np.eye(d0)
        if X is None
        else _checks.invertible(X, "X", d0, _SINGULAR_WEIGHT)
    )
    Y = (
        np.eye(dL)
        if Y is None
        else _checks.invertible(Y, "Y", dL, _SINGULAR_WEIGHT)
    )
    # The measurements must be consistent: t in the range of the design
    # (x_i^T W y_i)_i = A_0 vec_C(W), up to round-off. The change of variables
    # below does not change that range, but it multiplies the round-off by
    # the condition numbers of X and Y, so the check uses the data as given.
    A_0 = (xs[:, :, None] * ys[:, None, :]).reshape(n, d0 * dL)
    coef, *_ = np.linalg.lstsq(A_0, t, rcond=None)
    misfit = np.linalg.norm(A_0 @ coef - t)
    if misfit > 1e-8 * max(1.0, np.linalg.norm(t)):
        raise ValueError(
            f"the measurements are inconsistent: no matrix fits them (least-squares misfit {misfit:.3g}); "
            "e.g. the same (x, y) pair appears with different targets"
        )

    # A vec_C(V) = (x_i^T W y_i)_i for V = X W Y
    xs_v = np.linalg.solve(X.T, xs.T).T  # rows X^{-T} x_i
    ys_v = np.linalg.solve(Y, ys.T).T  # rows Y^{-1} y_i
    A = (xs_v[:, :, None] * ys_v[:, None, :]).reshape(n, d0 * dL)

    V = cp.Variable((d0, dL))
    problem = cp.Problem(
        cp.Minimize(cp.normNuc(V)), [A @ cp.vec(V, order="C") == t]
    )
    status, name, Vval = _solve(problem, V, solver)
    misfit = np.max(np.abs(A @ Vval.ravel() - t))
    if misfit > 1e-6 * max(1.0, np.max(np.abs(t))):
        raise ValueError(
            f"the convex solver {name} ({status}) misses the constraints by {misfit:.3g}"
        )
    return np.linalg.solve(X, np.linalg.solve(Y.T, Vval.T).T)


def _penalized_data(xs, ys, targets, penalty):
    """The checked data and penalty of :eq:`ib-depth2-wd`."""
    xs, ys = _checks.data_pair(xs, ys)
    t = _checks.finite_array(targets, "targets", ndim=1)
    if t.shape[0] != xs.shape[0]:
        raise ValueError(
            f"targets has length {t.shape[0]} but there are n ="
            f" {xs.shape[0]} samples"
        )
    return xs, ys, t, _checks.positive(penalty, "penalty")


def nuclear_norm_regression(
    xs, ys, targets, penalty: float, *, solver: str | None = None
) -> np.ndarray:
    """The least-squares fit with a nuclear-norm penalty.

    Book: equation :eq:`ib-depth2-wd` in :doc:`/chapters/contrast`.

    .. math:: \\hat W = \\arg\\min_W \\frac{1}{2n} \\sum_{i=1}^n (x_i^\\top W y_i - t_i)^2
              + \\lambda \\|W\\|_* ,

    the problem that depth-2 gradient descent with weight decay ``lambda``
    solves, because ``min_{W_1 W_2 = W} (||W_1||_F^2 + ||W_2||_F^2) / 2 = ||W||_*``.
    It is convex and solved with cvxpy. Its least value and its fitted values
    ``x_i^T W y_i`` are unique, its minimizer need not be (an example in
    :func:`nuclear_norm_regression_optimality`): judge a candidate with that
    function, not by its distance to the matrix returned here.

    Parameters
    ----------
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    targets : array_like, shape (n,)
    penalty : float
        ``lambda > 0``.
    solver : str, optional
        A cvxpy solver name (default Clarabel, then SCS).

    Returns
    -------
    ndarray, shape (d_0, d_L)

    Raises
    ------
    ValueError
        If the shapes disagree, an entry is not finite, ``penalty <= 0``, or
        the solver fails.
    """
    import cvxpy as cp

    xs, ys, t, lam = _penalized_data(xs, ys, targets, penalty)
    n, d0 = xs.shape
    dL = ys.shape[1]
    A = (xs[:, :, None] * ys[:, None, :]).reshape(n, d0 * dL)
    V = cp.Variable((d0, dL))
    fit = cp.sum_squares(A @ cp.vec(V, order="C") - t) / (2 * n)
    problem = cp.Problem(cp.Minimize(fit + lam * cp.normNuc(V)))
    # the default tolerances leave the minimizer about 1e-4 off (the objective is
    # flat along the small singular values); 1e-10 brings it to about 1e-7
    return _solve(problem, V, solver, clarabel_tol=1e-10)[2]


class PenalizedOptimality(NamedTuple):
    """The optimality numbers of :func:`nuclear_norm_regression_optimality`."""

    objective: float | np.ndarray
    dual_ratio: float | np.ndarray
    alignment: float | np.ndarray


def nuclear_norm_regression_optimality(
    W, xs, ys, targets, penalty
) -> PenalizedOptimality:
    """How well ``W`` solves :eq:`ib-depth2-wd`: its objective and its optimality conditions.

    Book: equation :eq:`ib-depth2-wd` in :doc:`/chapters/contrast`.

    With the residuals ``r_i = x_i^T W y_i - t_i`` (``x_i``, ``y_i`` the rows of
    ``xs``, ``ys``; ``n`` samples) and the gradient of the loss
    ``G = (1/n) sum_i r_i x_i y_i^T``,

    .. math::

       f(W) = \\frac{1}{2n} \\sum_{i=1}^n r_i^2 + \\lambda \\|W\\|_* ,

       \\rho(W) = \\frac{\\|G\\|_{\\mathrm{op}}}{\\lambda} ,

       a(W) = 1 + \\frac{\\langle G, W \\rangle}{\\lambda \\|W\\|_*}
       \\quad (a(0) = 0) .

    ``W`` is a minimizer exactly when ``-G`` is ``lambda`` times a subgradient
    of the nuclear norm at ``W``, and those subgradients are the ``Z`` with
    ``||Z||_op <= 1`` and ``<Z, W> = ||W||_*``. So ``W`` is a minimizer if and
    only if ``rho <= 1`` and ``a = 0`` (and ``a >= 0`` whenever ``rho <= 1``);
    at a minimizer other than 0, ``rho = 1``. Neither condition alone is
    enough: an interpolating matrix has ``G = 0``, so ``rho = 0``, and
    ``a = 1``. The two conditions need no solver; to compare with one,
    evaluate ``f`` at the matrix of :func:`nuclear_norm_regression` too. The
    least value and the fitted values are the same at every minimizer, the
    minimizer need not be unique (the example).

    Parameters
    ----------
    W : array_like, shape (d_0, d_L) or (C, d_0, d_L)
        One matrix or a stack of ``C``.
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    targets : array_like, shape (n,)
    penalty : float
        ``lambda``, positive and finite.

    Returns
    -------
    PenalizedOptimality
        ``(objective, dual_ratio, alignment)``: ``f``, ``rho`` and ``a``,
        floats for one matrix, arrays of shape ``(C,)`` for a stack.

    Raises
    ------
    ValueError
        If the shapes disagree, an entry is not finite, or ``penalty`` is not
        a positive finite number.

    Examples
    --------
    Two observed diagonal entries: every ``[[0.8, b], [b, 0.3]]`` with
    ``b**2 <= 0.24`` is a minimizer (value 0.13), the fitted values are 0.8
    and 0.3.

    >>> import numpy as np
    >>> xs = ys = np.eye(2)
    >>> for b in (0.0, 0.4):
    ...     W = np.array([[0.8, b], [b, 0.3]])
    ...     f, rho, a = nuclear_norm_regression_optimality(W, xs, ys, [1.0, 0.5], 0.1)
    ...     print(f"{f:.4f} {rho:.4f} {abs(a) < 1e-12}")
    0.1300 1.0000 True
    0.1300 1.0000 True
    """
    xs, ys, t, lam = _penalized_data(xs, ys, targets, penalty)
    Ws = _checks.finite_array(W, "W")
    n, d0 = xs.shape
    dL = ys.shape[1]
    if Ws.ndim not in (2, 3) or Ws.shape[-2:] != (d0, dL):
        raise ValueError(
            f"W must have shape ({d0}, {dL}) or (C, {d0}, {dL}), got {Ws.shape}"
        )
    stack = Ws.reshape((-1, d0, dL))
    r = np.einsum("ni,cij,nj->cn", xs, stack, ys) - t
    G = np.einsum("cn,ni,nj->cij", r, xs, ys) / n
    nuclear = np.linalg.svd(stack, compute_uv=False).sum(axis=-1)
    objective = 0.5 * np.mean(r**2, axis=-1) + lam * nuclear
    dual_ratio = np.linalg.norm(G, ord=2, axis=(1, 2)) / lam
    inner = np.einsum("cij,cij->c", G, stack)
    alignment = np.where(
        nuclear > 0, 1 + inner / (lam * np.where(nuclear > 0, nuclear, 1)), 0.0
    )
    if Ws.ndim == 2:
        return PenalizedOptimality(
            float(objective[0]), float(dual_ratio[0]), float(alignment[0])
        )
    return PenalizedOptimality(objective, dual_ratio, alignment)


def round_rank(W, rtol: float = 1e-6) -> tuple[np.ndarray, int]:
    """Round the singular values of a solver's answer that are solver noise to zero.

    Book: used in :doc:`/chapters/experiments`.

    .. math:: W_r = \\sum_{k : \\sigma_k > \\text{rtol} \\, \\sigma_1} \\sigma_k u_k v_k^\\top

    Interior-point solvers return low-rank minimizers with singular values of
    order ``1e-8`` where the exact answer has zeros; functions that need a
    rank (:func:`dlnlib.induced.min_regularizer`,
    :func:`dlnlib.construction.optimal_factorization`) would otherwise see a
    full-rank matrix with nearly singular directions.

    Parameters
    ----------
    W : array_like, shape (d_0, d_L)
    rtol : float, optional
        Singular values at or below ``rtol`` times the largest are set to zero
        (``0 < rtol < 1``).

    Returns
    -------
    W_r : ndarray, shape (d_0, d_L)
    rank : int

    Raises
    ------
    ValueError
        If ``W`` is not a finite matrix or ``rtol`` is not in ``(0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> W_r, r = round_rank(np.diag([2.0, 1e-9]))
    >>> r, float(W_r[1, 1])
    (1, 0.0)
    """
    W = _checks.finite_array(W, "W", ndim=2)
    rtol = _checks.positive(rtol, "rtol")
    if rtol >= 1:
        raise ValueError(f"rtol must be below 1, got {rtol!r}")
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    r = 0 if s.size == 0 or s[0] == 0 else int(np.sum(s > rtol * s[0]))
    return (U[:, :r] * s[:r]) @ Vt[:r], r


def reference_weights(xs, ys) -> dict:
    """The weights ``(A, B)`` of the three reference objectives ``||A W B||_*``.

    Book: the weights of equation :eq:`asm-depth2-min` in
    :doc:`/chapters/assumption`; used in :doc:`/chapters/experiments`.

    - ``"plain"``: ``A = I_{d_0}``, ``B = I_{d_L}``;
    - ``"Kronecker-weighted"``: the nearest Kronecker factors ``X``, ``Y`` of
      the data (:func:`dlnlib.kronecker.kronecker_factors`);
    - ``"exact depth-2"``: ``A = M_x^{1/2}``, ``B = M_y^{1/2}``, the symmetric
      roots of the moments of :func:`dlnlib.depth_two.depth_two_moments`.

    Parameters
    ----------
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)

    Returns
    -------
    dict of str to (ndarray, ndarray)
        ``(A, B)`` of shapes ``(d_0, d_0)`` and ``(d_L, d_L)`` per objective.

    Raises
    ------
    ValueError
        If the data are invalid, or a moment is singular (some direction of
        ``R^{d_0}`` or ``R^{d_L}`` is never sampled).

    Examples
    --------
    >>> import numpy as np
    >>> xs = np.eye(2)[[0, 0, 1, 1, 1, 1]]  # row 1 sampled twice as often
    >>> ys = np.eye(2)[[0, 1, 0, 1, 0, 1]]
    >>> A, B = reference_weights(xs, ys)["exact depth-2"]
    >>> np.round(A @ A, 12).tolist(), np.round(B @ B, 12).tolist()
    ([[2.0, 0.0], [0.0, 4.0]], [[3.0, 0.0], [0.0, 3.0]])
    """
    from .depth_two import _psd_root, depth_two_moments
    from .kronecker import kronecker_factors

    xs, ys = _checks.data_pair(xs, ys)
    kf = kronecker_factors(xs, ys)
    M_x, M_y = depth_two_moments(xs, ys)
    return {
        "plain": (np.eye(xs.shape[1]), np.eye(ys.shape[1])),
        "Kronecker-weighted": (kf.X, kf.Y),
        "exact depth-2": (_psd_root(M_x, "M_x")[0], _psd_root(M_y, "M_y")[0]),
    }


def convex_references(xs, ys, targets) -> dict:
    """The three convex interpolants the training chapters compare with.

    Book: used in :doc:`/chapters/experiments`, :doc:`/chapters/completion`
    and :doc:`/chapters/beyond`.

    :func:`min_nuclear_norm` with the three weights of
    :func:`reference_weights`, each answer cleaned by :func:`round_rank`:

    - ``"plain"``: ``X = Y = I``, the least nuclear norm;
    - ``"Kronecker-weighted"``: the nearest Kronecker factors of the data
      (:func:`dlnlib.kronecker.kronecker_factors`), the post's surrogate;
    - ``"exact depth-2"``: ``X = M_x^{1/2}``, ``Y = M_y^{1/2}``
      (:func:`dlnlib.depth_two.depth_two_moments`), whose solution is the
      interpolant of least ``R*`` at depth two for any data.

    Parameters
    ----------
    xs : array_like, shape (n, d_0)
    ys : array_like, shape (n, d_L)
    targets : array_like, shape (n,)

    Returns
    -------
    dict of str to ndarray
        The three interpolants, in the order above.

    Raises
    ------
    ValueError
        As :func:`min_nuclear_norm` (inconsistent data, a singular weight).
    """
    return {
        name: round_rank(min_nuclear_norm(xs, ys, targets, A, B))[0]
        for name, (A, B) in reference_weights(xs, ys).items()
    }
