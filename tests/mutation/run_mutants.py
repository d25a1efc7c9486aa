"""Hand-made mutation testing of dlnlib: plausible one-line bugs, and whether the unit tests catch them.

Run by hand (not in CI, and not collected by pytest), from the repository root::

    .venv/bin/python tests/mutation/run_mutants.py               # every mutant, one at a time
    .venv/bin/python tests/mutation/run_mutants.py --list        # show the mutants and whether they apply
    .venv/bin/python tests/mutation/run_mutants.py -k squared_loss -k training   # a subset (substring of the id)
    .venv/bin/python tests/mutation/run_mutants.py --jobs 2      # two mutants at once (the machine is shared)
    .venv/bin/python tests/mutation/run_mutants.py --rev HEAD    # test a commit instead of the working tree

Each mutant is ``(id, old text, new text, why it is plausible)``: ``old`` must occur exactly once in
``dlnlib/*.py`` (searched across the package, so a function that moves to another module keeps its
mutant); a mutant whose text is no longer found is reported as STALE, not run. For every mutant the
script copies ``dlnlib/``, ``tests/`` (without ``tests/browser`` and ``tests/mutation``) and
``pyproject.toml`` into a fresh temporary directory, applies the one change there (the real files are
never touched), and runs

    python -m pytest -q -x -p no:cacheprovider <the copied tests/test_*.py>

(all of them except ``test_notebook_conventions.py``, which checks the notebooks, not dlnlib)

with ``PYTHONPATH`` set to the copy, so that the copy's ``dlnlib`` is imported (checked once, before the
mutants run, together with a baseline run of the unmutated copy, which must pass). A mutant is KILLED
when pytest fails (or times out), SURVIVED when every test passes. The score is killed / run; the
survivors are printed with their reason to exist, to be judged: a new test, or an argument why the
mutant is equivalent (no observable behaviour changes) or acceptable.

Needs nothing beyond the project's virtual environment. Takes about 40 minutes for all mutants on
one core, about 20 with ``--jobs 2`` (a killed mutant costs 5 to 20 s, a survivor a full test run,
35 to 110 s: mutants of ``weight_decay`` and ``_chains`` are mostly caught by the test files that run
last).

Survivors of the last full run (142 mutants, 136 killed; the four mutants added after it, for
``bound.relative_distance`` and ``book.glue_excess``, were run with ``-k`` and are killed: 140 of 146)
and why they are left (the six mutants of ``interpolant``, the certified least-R* search, were run
with ``-k interpolant`` after its rewrite: all killed, the Gauss-Newton one once the residual is
tested at rounding level):

- ``training.noise_block``, ``depth_two.symmetric_root``, ``kronecker.sign_boundary``,
  ``problems.targets_copy``: equivalent, no observable behaviour changes (the block length of the noise
  draws changes memory, not the numbers drawn, as documented; ``M_x^{-1/2}`` is symmetric; the trace of
  a nonzero semidefinite factor is never 0; fancy indexing already copies).
- ``training.explosion``: the divergence threshold is an undocumented tuning constant; once a run
  diverges its residuals grow by many orders of magnitude per step, so 1e12 and 1e14 stop it at the
  same step.
- ``construction.random_gauge_conditioning``: the rejection of badly conditioned random gauges only
  shapes the distribution of random factorizations; every draw still reproduces ``W``, which is tested.

The run before it (the same 142 mutants, 132 killed) had four more survivors, each killed since by a
new test: ``convex.consistency.tolerance``
(``test_validation.py::test_min_nuclear_norm_consistency_tolerance_boundary``),
``_chains.lr_spread`` (``test_training.py::test_divergence_names_only_the_chains_that_diverged``),
``weight_decay.objective.half`` (``test_weight_decay.py::test_loss_and_objective_are_the_documented_ones``)
and ``weight_decay.schatten.depth``
(``test_weight_decay.py::test_schatten_penalty_at_depth_one_is_the_squared_frobenius_norm``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: Test files run first (they are fast and sharp), so that -x stops early on most mutants.
FIRST = [
    "test_validation.py",
    "test_batch_axis.py",
    "test_training_reference.py",
    "test_full_rank.py",
    "test_factorizations.py",
]
#: Test files that check the book, not dlnlib (they need the notebooks, which are not copied).
SKIP = [
    "test_notebook_conventions.py",
    "test_claims_modes.py",
    "test_sweep.py",
]


@dataclass(frozen=True)
class Mutant:
    id: str
    old: str
    new: str
    why: str


M = Mutant
MUTANTS = [
    # --- _checks: the shared validators ------------------------------------------------------------
    M(
        "_checks.finite_array.ndim",
        "if ndim is not None and arr.ndim != ndim:",
        "if ndim is not None and arr.ndim < ndim:",
        "exact rank checked as a minimum",
    ),
    M(
        "_checks.finite_array.min_ndim",
        "if min_ndim is not None and arr.ndim < min_ndim:",
        "if min_ndim is not None and arr.ndim < min_ndim - 1:",
        "minimum rank off by one",
    ),
    M(
        "_checks.finite_array.inf",
        "if not np.all(np.isfinite(arr)):",
        "if np.any(np.isnan(arr)):",
        "only NaN rejected, infinities let through",
    ),
    M(
        "_checks.integer.low",
        "if int(value) < low:",
        "if int(value) <= low:",
        "lower bound off by one",
    ),
    M(
        "_checks.integer.high",
        "if high is not None and int(value) > high:",
        "if high is not None and int(value) >= high:",
        "upper bound off by one",
    ),
    M(
        "_checks.integer.bool",
        "        isinstance(value, bool)\n        or not isinstance(value, numbers.Real)\n",
        "        not isinstance(value, numbers.Real)\n",
        "True accepted as 1",
    ),
    M(
        "_checks.weight_list.depth",
        "if len(weights) < 2:",
        "if len(weights) < 1:",
        "depth-1 networks accepted",
    ),
    M(
        "_checks.weight_list.empty",
        "if 0 in w.shape[-2:]:",
        "if 0 in w.shape[-1:]:",
        "empty rows not detected",
    ),
    M(
        "_checks.dims_tuple.min_width",
        "if di < min_width:",
        "if di <= min_width:",
        "hidden width check off by one (the bug the first mutation test found)",
    ),
    M(
        "_checks.dims_tuple.depth",
        "if len(d) < 3:",
        "if len(d) < 2:",
        "depth-1 dims accepted",
    ),
    M(
        "_checks.dims_tuple.positive",
        "if min(d) < 1:",
        "if min(d) < 0:",
        "zero widths accepted",
    ),
    M(
        "_checks.data_pair.empty",
        'if xs.shape[0] == 0:\n        raise ValueError("xs and ys hold no samples',
        'if xs.shape[0] < 0:\n        raise ValueError("xs and ys hold no samples',
        "n = 0 accepted",
    ),
    M(
        "_checks.square_matrix.size",
        "if size is not None and M.shape[0] != size:",
        "if size is not None and M.shape[0] > size:",
        "too small a matrix accepted",
    ),
    M(
        "_checks.invertible.strict",
        "if s[0] == 0 or s[-1] <= s[0] / MAX_CONDITION:",
        "if s[0] == 0 or s[-1] < s[0] / MAX_CONDITION:",
        "condition number boundary off by one ulp",
    ),
    M(
        "_checks.MAX_CONDITION",
        "MAX_CONDITION = 1e10",
        "MAX_CONDITION = 1e12",
        "a looser threshold than documented",
    ),
    M(
        "_checks.positive.zero",
        "if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):",
        "if not math.isfinite(v) or v < 0:",
        "zero accepted where a positive number is required",
    ),
    M(
        "_checks.positive.inf",
        "if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):",
        "if math.isnan(v) or v < 0 or (v == 0 and not allow_zero):",
        "infinite step sizes accepted",
    ),
    M(
        "_checks.numerical_rank.strict",
        "return int(np.sum(singular_values > tol))",
        "return int(np.sum(singular_values >= tol))",
        "a singular value at the tolerance counted",
    ),
    M(
        "_checks.numerical_rank.max",
        "tol = singular_values[0] * max(shape) * np.finfo(float).eps",
        "tol = singular_values[0] * min(shape) * np.finfo(float).eps",
        "numpy's rule uses max(shape)",
    ),
    # --- network ---------------------------------------------------------------------------------------
    M(
        "network.squared_loss.axis",
        "return 0.5 * np.sum((P - t) ** 2, axis=-1)",
        "return 0.5 * np.sum((P - t) ** 2, axis=0)",
        "summed over the networks instead of the samples (the bug the first mutation test found)",
    ),
    M(
        "network.squared_loss.half",
        "return 0.5 * np.sum((P - t) ** 2, axis=-1)",
        "return np.sum((P - t) ** 2, axis=-1)",
        "the factor 1/2 dropped",
    ),
    M(
        "network.predict.axes",
        'np.einsum("ni,...ij,nj->...n", xs, W, ys)',
        'np.einsum("ni,...ij,nj->n...", xs, W, ys)',
        "samples axis first for stacked networks",
    ),
    M(
        "network.partial_products.reverse",
        "    rights.reverse()\n    return lefts, rights",
        "    return lefts, rights",
        "right products in the wrong order",
    ),
    M(
        "network.partial_products.batch",
        "lefts = [np.broadcast_to(np.eye(d0), batch + (d0, d0))]",
        "lefts = [np.eye(d0)]",
        "the first left product without the batch axis",
    ),
    M(
        "network.layer_gradients.transpose",
        "return [np.outer(A.T @ x, B @ y) for A, B in zip(lefts, rights)]",
        "return [np.outer(A.T @ x, B.T @ y) for A, B in zip(lefts, rights)]",
        "B_l transposed",
    ),
    M(
        "network.layer_gradients.single",
        'if ws[0].ndim != 2:\n        raise ValueError(\n            "layer_gradients',
        'if ws[0].ndim > 3:\n        raise ValueError(\n            "layer_gradients',
        "a stack accepted by a single-network function",
    ),
    M(
        "network.unflatten.length",
        "if theta.shape[-1] != sum(sizes):",
        "if theta.shape[-1] < sum(sizes):",
        "too long a parameter vector accepted",
    ),
    M(
        "network.jacobian.transpose",
        "((xs @ A)[:, :, None] * (ys @ B.T)[:, None, :])",
        "((xs @ A)[:, :, None] * (ys @ B)[:, None, :])",
        "B_l not transposed",
    ),
    M(
        "network.jacobian_derivative.length",
        "if c.shape[0] != xs.shape[0]:",
        "if c.shape[0] > xs.shape[0]:",
        "too few coefficients accepted",
    ),
    M(
        "network.random_weights.spread",
        'if spread < 0:\n        raise ValueError(f"spread must be nonnegative, got {spread!r}")',
        'if spread < -1:\n        raise ValueError(f"spread must be nonnegative, got {spread!r}")',
        "negative spread accepted",
    ),
    M(
        "network.unflatten.lead",
        "part.reshape(*lead, a, b)",
        "part.reshape(-1, a, b)",
        "a chain axis of length 1 added to a single parameter vector",
    ),
    M(
        "network.unflatten.rank",
        "if theta.ndim > 2:",
        "if theta.ndim > 3:",
        "a stack of stacks (C, C', p) accepted",
    ),
    # --- regularizer -----------------------------------------------------------------------------------
    M(
        "regularizer.terms.axis",
        "terms.append(np.sum(left_sq * right_sq, axis=-1))",
        "terms.append(np.sum(left_sq * right_sq, axis=0))",
        "summed over the networks instead of the samples",
    ),
    M(
        "regularizer.regularizer.axis",
        "return regularizer_terms(weights, xs, ys).sum(axis=-1)",
        "return regularizer_terms(weights, xs, ys).sum(axis=0)",
        "summed over the networks instead of the layers",
    ),
    M(
        "regularizer.kron.axis",
        "return regularizer_kron_terms(weights, X, Y).sum(axis=-1)",
        "return regularizer_kron_terms(weights, X, Y).sum()",
        "one total for a whole stack",
    ),
    M(
        "regularizer.kron_terms.axes",
        "np.sum((B @ Y) ** 2, axis=(-2, -1))",
        "np.sum((B @ Y) ** 2)",
        "Frobenius norm over the whole stack",
    ),
    M(
        "regularizer.gradient.factor",
        "g += 2 * (xa[k] * b[l][:, None]).T @ xa[l] @ between(k, l).T",
        "g += (xa[k] * b[l][:, None]).T @ xa[l] @ between(k, l).T",
        "factor 2 dropped in one sum",
    ),
    M(
        "regularizer.gradient.single",
        'raise ValueError(\n            "regularizer_gradient takes a single network',
        'print(\n            "regularizer_gradient takes a single network',
        "a stack accepted by a single-network function",
    ),
    # --- bound -----------------------------------------------------------------------------------------
    M(
        "bound.nuclear_norm.axis",
        "s = np.linalg.svd(M, compute_uv=False).sum(axis=-1)",
        "s = np.linalg.svd(M, compute_uv=False).sum()",
        "one nuclear norm for a whole stack",
    ),
    M(
        "bound.lower_bound.scale_exponent",
        "return L * scale ** (2.0 / L) * nuclear_norm(X @ W @ Y) ** (2.0 - 2.0 / L)",
        "return L * scale ** (1.0 / L) * nuclear_norm(X @ W @ Y) ** (2.0 - 2.0 / L)",
        "wrong exponent of ||X|| ||Y||",
    ),
    M(
        "bound.lower_bound.depth",
        'L = _checks.integer(depth, "depth L", 2)\n    W = _checks.finite_array(W, "W", min_ndim=2)',
        'L = _checks.integer(depth, "depth L", 1)\n    W = _checks.finite_array(W, "W", min_ndim=2)',
        "depth 1 accepted",
    ),
    # --- construction ----------------------------------------------------------------------------------
    M(
        "construction.scales.zero",
        'if r == 0:\n        raise ValueError(\n            "W is zero',
        'if r < 0:\n        raise ValueError(\n            "W is zero',
        "W = 0 not rejected",
    ),
    M(
        "construction.optimal.width",
        'if di < r:\n            raise ValueError(\n                f"hidden width d_{i} = {di} is below rank(W) = {r}: no depth-',
        'if di <= r:\n            raise ValueError(\n                f"hidden width d_{i} = {di} is below rank(W) = {r}: no depth-',
        "width equal to the rank rejected",
    ),
    M(
        "construction.optimal.zero",
        "    if r == 0:\n        return [np.zeros((d[l], d[l + 1])) for l in range(L)]",
        "    if r < 0:\n        return [np.zeros((d[l], d[l + 1])) for l in range(L)]",
        "W = 0 through the general formula",
    ),
    M(
        "construction.scales.gamma",
        "gamma = np.sqrt(ny / nx) * beta ** (1.0 - L / 2.0)",
        "gamma = np.sqrt(nx / ny) * beta ** (1.0 - L / 2.0)",
        "alpha and gamma swapped",
    ),
    M(
        "construction.optimal.solve",
        "last[:r, :] = sc.gamma * np.linalg.solve(Y.T,",
        "last[:r, :] = sc.gamma * np.linalg.solve(Y,",
        "Y^{-T} for Y^{-1}",
    ),
    M(
        "construction.balanced.root",
        "root = s[:r] ** (1.0 / L)\n    layers[0]",
        "root = s[:r] ** (1.0 / (L - 1))\n    layers[0]",
        "wrong root of the singular values",
    ),
    M(
        "construction.gauge.count",
        "if len(gauges) != len(ws) - 1:",
        "if len(gauges) < len(ws) - 1:",
        "extra gauges silently ignored",
    ),
    M(
        "construction.gauge.inverse",
        "out.append(np.linalg.solve(Gs[-1], ws[-1]))",
        "out.append(Gs[-1] @ ws[-1])",
        "G instead of G^{-1} on the last layer",
    ),
    # --- convex ----------------------------------------------------------------------------------------
    M(
        "convex.weight_condition",
        'else _checks.invertible(X, "X", d0, _SINGULAR_WEIGHT)',
        'else _checks.square_matrix(X, "X", d0)',
        "ill-conditioned X no longer rejected (the bug the first mutation test found)",
    ),
    M(
        "convex.targets_length",
        'if t.shape[0] != n:\n        raise ValueError(\n            f"targets has length {t.shape[0]} but there are n = {n} samples"\n        )\n    X = (',
        'if t.shape[0] > n:\n        raise ValueError(\n            f"targets has length {t.shape[0]} but there are n = {n} samples"\n        )\n    X = (',
        "too few targets accepted",
    ),
    M(
        "convex.consistency",
        "if misfit > 1e-8 * max(1.0, np.linalg.norm(t)):",
        "if misfit < 0:",
        "inconsistent measurements passed to the solver",
    ),
    M(
        "convex.back_transform",
        "return np.linalg.solve(X, np.linalg.solve(Y.T, Vval.T).T)",
        "return np.linalg.solve(X, np.linalg.solve(Y, Vval.T).T)",
        "Y^{-1} for Y^{-T}",
    ),
    M(
        "convex.round_rank.strict",
        "int(np.sum(s > rtol * s[0]))",
        "int(np.sum(s >= rtol * s[0]))",
        "a singular value at the tolerance kept",
    ),
    M(
        "convex.round_rank.rtol",
        "if rtol >= 1:",
        "if rtol > 1:",
        "rtol = 1 accepted",
    ),
    M(
        "convex.consistency.design",
        "A_0 = (xs[:, :, None] * ys[:, None, :]).reshape(n, d0 * dL)",
        "A_0 = (np.linalg.solve(X.T, xs.T).T[:, :, None] * np.linalg.solve(Y, ys.T).T[:, None, :]).reshape(n, d0 * dL)",
        "consistency checked on the transformed design again (round-off times cond X cond Y: the fixed bug)",
    ),
    M(
        "convex.consistency.tolerance",
        "if misfit > 1e-8 * max(1.0, np.linalg.norm(t)):",
        "if misfit > 1e-5 * max(1.0, np.linalg.norm(t)):",
        "a looser consistency tolerance: slightly inconsistent data passed to the solver",
    ),
    M(
        "convex.reference_weights.roots_swapped",
        '_psd_root(M_x, "M_x")[0], _psd_root(M_y, "M_y")[0]',
        '_psd_root(M_y, "M_y")[0], _psd_root(M_x, "M_x")[0]',
        "the depth-2 roots in the wrong order",
    ),
    M(
        "convex.reference_weights.kronecker_swapped",
        '"Kronecker-weighted": (kf.X, kf.Y)',
        '"Kronecker-weighted": (kf.Y, kf.X)',
        "the Kronecker factors in the wrong order",
    ),
    # --- induced ---------------------------------------------------------------------------------------
    M(
        "induced.starts",
        'starts = _checks.integer(starts, "starts", 1)',
        'starts = _checks.integer(starts, "starts", 0)',
        "zero starts accepted",
    ),
    M(
        "induced.width",
        'if di < r:\n            raise ValueError(\n                f"hidden width d_{i} = {di} is below rank(W) = {r}: no factorization',
        'if di <= r:\n            raise ValueError(\n                f"hidden width d_{i} = {di} is below rank(W) = {r}: no factorization',
        "width equal to the rank rejected",
    ),
    M(
        "induced.singular",
        "if np.any(w[..., :1] <= top * 1e-14)",
        "if np.any(w[..., :1] <= 0)",
        "numerically singular moments accepted",
    ),
    M(
        "interpolant.empty_candidates",
        "if len(candidates) == 0:",
        "if len(candidates) < 0:",
        "an empty list of candidates accepted",
    ),
    # --- depth_two -------------------------------------------------------------------------------------
    M(
        "depth_two.width",
        "if width < r:",
        "if width <= r:",
        "width equal to the rank rejected",
    ),
    M(
        "depth_two.condition",
        "if top <= 0 or evals[0] <= top / _checks.MAX_CONDITION:",
        "if top <= 0 or evals[0] <= 0:",
        "badly conditioned moments accepted",
    ),
    M(
        "depth_two.moments",
        "wx = np.sum(ys**2, axis=1)",
        "wx = np.sum(xs**2, axis=1)",
        "weights of M_x from the wrong side",
    ),
    M(
        "depth_two.minimum",
        "return float(2 * s.sum())",
        "return float(s.sum())",
        "factor 2 dropped",
    ),
    # --- drift -----------------------------------------------------------------------------------------
    M(
        "drift.leading.n",
        "-(eta**2) * sigma**2 / (4 * n**2) * space.project_tangent(grad_R)",
        "-(eta**2) * sigma**2 / (4 * n) * space.project_tangent(grad_R)",
        "one factor 1/n lost",
    ),
    M(
        "drift.stability",
        "if eta * lam[0] >= 2:",
        "if eta * lam[0] > 2:",
        "stability boundary off by one",
    ),
    M(
        "drift.hessian.n",
        "hessian_eigenvalues=s[:k] ** 2 / n",
        "hessian_eigenvalues=s[:k] ** 2",
        "Hessian of the summed instead of the mean loss",
    ),
    M(
        "drift.lyapunov.n",
        "eta * sigma**2 / (n * (2 - eta * lam))",
        "eta * sigma**2 / (2 - eta * lam)",
        "covariance without its 1/n",
    ),
    M(
        "drift.flow.pull_back",
        "return step - (10 / length) * back",
        "return step + (10 / length) * back",
        "the term that keeps the flow on the interpolating set has the wrong sign",
    ),
    M(
        "drift.fit.shift",
        "            return d - d.mean()",
        "            return d",
        "the constant shift of R by the fluctuation is not fitted",
    ),
    M(
        "drift.fit.stderr",
        "stderr=float(np.std(parts, ddof=1) / np.sqrt(groups)),",
        "stderr=float(np.std(parts, ddof=1)),",
        "standard deviation of the groups reported as the standard error",
    ),
    M(
        "drift.flow_length.fraction",
        "left = R - R[-1] <= (1 - fraction) * (R[0] - R[-1])",
        "left = R - R[-1] <= fraction * (R[0] - R[-1])",
        "the fraction of the descent done read as the fraction left",
    ),
    M(
        "drift.zero_jacobian",
        'if k == 0:\n        raise ValueError(\n            "the Jacobian',
        'if k < 0:\n        raise ValueError(\n            "the Jacobian',
        "zero Jacobian not rejected",
    ),
    # --- kronecker -------------------------------------------------------------------------------------
    M(
        "kronecker.rel_error",
        "rel = float(np.linalg.norm(ratios[1:]) / np.linalg.norm(ratios))",
        "rel = float(np.linalg.norm(ratios[2:]) / np.linalg.norm(ratios))",
        "second singular value forgotten",
    ),
    M(
        "kronecker.zero",
        'if s[0] == 0:\n        raise ValueError(\n            "every product',
        'if s[0] < 0:\n        raise ValueError(\n            "every product',
        "zero moment not rejected",
    ),
    M(
        "kronecker.product_design",
        "return np.repeat(X, dL, axis=0), np.tile(Y.T, (d0, 1))",
        "return np.repeat(X, dL, axis=0), np.tile(Y, (d0, 1))",
        "columns of Y taken as rows",
    ),
    M(
        "kronecker.rel_error.scale",
        "ratios = s / s[0]",
        "ratios = s",
        "rel_error from the raw singular values (their squares underflow at scale 1e-50: the fixed bug)",
    ),
    # --- problems --------------------------------------------------------------------------------------
    M(
        "problems.full_rank",
        "if rank > min(d0, dL):",
        "if rank >= min(d0, dL):",
        "rank = min(d0, dL) rejected (the bug the first mutation test found)",
    ),
    M(
        "problems.n",
        'n = _checks.integer(n, "n", 1)',
        'n = _checks.integer(n, "n", 0)',
        "n = 0 accepted",
    ),
    M(
        "problems.weights_sum",
        "if np.any(w < 0) or w.sum() <= 0:",
        "if np.any(w < 0):",
        "zero weights accepted",
    ),
    M(
        "problems.available",
        "if not replace and n > available:",
        "if not replace and n >= available:",
        "observing every entry rejected",
    ),
    M(
        "problems.pattern_empty",
        "if mask.ndim != 2 or 0 in mask.shape:",
        "if mask.ndim != 2:",
        "empty pattern accepted",
    ),
    M(
        "problems.sensing_scale",
        "W *= scale / np.linalg.svd(W, compute_uv=False).sum()",
        "W *= scale / np.linalg.norm(W)",
        "Frobenius instead of nuclear normalization",
    ),
    # --- training --------------------------------------------------------------------------------------
    M(
        "training.minibatch.noise_squared",
        "return t[rows] + sigmas[:, None] * noise, rows",
        "return t[rows] + sigmas[:, None] ** 2 * noise, rows",
        "mini-batch noise std squared (the bug the first mutation test found)",
    ),
    M(
        "training.minibatch.step_over_n",
        "None if cfg.batch_size is None else cfg.lrs[:, None] / cfg.batch_size\n",
        "None if cfg.batch_size is None else cfg.lrs[:, None] / cfg.batch_size / cfg.n\n",
        "mini-batch step divided by n twice (the bug the first mutation test found)",
    ),
    M(
        "training.fullbatch.noise_squared",
        "return t + sigmas[:, None] * noise, None",
        "return t + sigmas[:, None] ** 2 * noise, None",
        "full-batch noise std squared",
    ),
    M(
        "training.minibatch.rows",
        "np.argsort(g[2].random((block, n)), axis=1)[:, :b]",
        "np.argsort(g[2].random((block, n)), axis=1)[:, 1:b + 1]",
        "mini-batch rows shifted",
    ),
    M(
        "training.minibatch.stream",
        "[g[1].standard_normal((block, b)) for g in streams]",
        "[g[2].standard_normal((block, b)) for g in streams]",
        "mini-batch noise drawn from the batch stream",
    ),
    M(
        "training.minibatch.transpose",
        "(r[:, None, :] @ net.Zt[batch_rows])",
        "(r[:, None, :] @ net.Z[batch_rows])",
        "mini-batch gradient not transposed",
    ),
    M(
        "training.batch_size.boundary",
        "if batch_size > n:",
        "if batch_size >= n:",
        "batch_size = n rejected",
    ),
    M(
        "training.batch_size.full",
        "        if batch_size == n:\n            batch_size = None",
        "        if batch_size == n + 1:\n            batch_size = None",
        "batch_size = n not the full batch",
    ),
    M(
        "training.init.scale",
        "* (s ** (1.0 / L) / (d[l] * d[l + 1]) ** 0.25)",
        "* (s ** (2.0 / L) / (d[l] * d[l + 1]) ** 0.25)",
        "wrong share of the scale",
    ),
    M(
        "training.init.stream",
        "rng = _streams(seeds[0])[0]",
        "rng = _streams(seeds[0])[1]",
        "initialization from the noise stream",
    ),
    M(
        "training.final.chunk",
        "chunk = min(_FINAL_CHECK, cfg.max_final_steps - done)",
        "chunk = _FINAL_CHECK",
        "max_final_steps overshot",
    ),
    M(
        "training.final.restore",
        "            w[~active] = s",
        "            w[~active] = w[~active]",
        "converged chains keep moving",
    ),
    M(
        "training.measure.loss",
        "loss = 0.5 * np.mean((P - net.targets) ** 2, axis=-1)",
        "loss = 0.5 * np.sum((P - net.targets) ** 2, axis=-1)",
        "recorded loss summed, not averaged",
    ),
    M(
        "training.record_every.default",
        "max(1, steps // 200)\n        if record_every is None",
        "max(1, steps // 100)\n        if record_every is None",
        "documented default record interval changed",
    ),
    M(
        "training.record.offset",
        "if (step + k + 1) % cfg.every == 0 or step + k + 1 == steps:",
        "if (step + k) % cfg.every == 0 or step + k + 1 == steps:",
        "records one step early",
    ),
    M(
        "training.seed.negative",
        "if seeds < 0:",
        "if seeds < -1:",
        "seed -1 accepted",
    ),
    M(
        "training.initial_weights.chains",
        "if given[0].ndim == 3 and given[0].shape[0] == C:",
        "if given[0].ndim == 3:",
        "chain axis of the wrong length accepted",
    ),
    M(
        "training.per_chain_lr",
        "self.chain_lr = None if lr.ndim == 0 else lr[:, None]",
        "self.chain_lr = None if lr.ndim == 0 else lr[::-1, None]",
        "per-chain step sizes in the wrong order",
    ),
    # --- _chains: the arguments of training and weight decay, resolved per chain ----------------------
    M(
        "_chains.lengths",
        "if len(lengths) > 1:",
        "if len(lengths) > 2:",
        "sequences of two different lengths accepted",
    ),
    M(
        "_chains.batch_size.low",
        'batch_size = _checks.integer(batch_size, "batch_size", 1)',
        'batch_size = _checks.integer(batch_size, "batch_size", 0)',
        "batch_size = 0 accepted",
    ),
    M(
        "_chains.record_every.low",
        '_checks.integer(record_every, "record_every", 1)',
        '_checks.integer(record_every, "record_every", 0)',
        "record_every = 0 accepted",
    ),
    M(
        "_chains.lr_spread",
        "lrs=np.array(lr_list * C if not lr_seq else lr_list),",
        "lrs=np.array(lr_list),",
        "one lr not spread over the chains (numpy broadcasting may hide it)",
    ),
    # --- weight_decay ---------------------------------------------------------------------------------
    M(
        "weight_decay.decay.lr",
        "shrink = cfg.lrs[:, None, None] * decay",
        "shrink = np.full_like(cfg.lrs[:, None, None], decay)",
        "the decay term without the step size",
    ),
    M(
        "weight_decay.decay.after_step",
        "        decayed = None if shrink is None else [w * shrink for w in ws]\n        r = _step(ws, net, targets)\n",
        "        r = _step(ws, net, targets)\n        decayed = None if shrink is None else [w * shrink for w in ws]\n",
        "the decay taken from the weights after the gradient step",
    ),
    M(
        "weight_decay.tol.any",
        "if np.all(stationarity < tol):",
        "if np.any(stationarity < tol):",
        "stops when one chain is stationary, not all",
    ),
    M(
        "weight_decay.steps_reported",
        "return WeightDecayRun(ws, W, loss, objective, stationarity, step)",
        "return WeightDecayRun(ws, W, loss, objective, stationarity, cfg.steps)",
        "the steps asked reported instead of the steps taken",
    ),
    M(
        "weight_decay.stationarity.copy",
        "before = [w.copy() for w in ws]  # the last step's size decides tol",
        "before = list(ws)  # the last step's size decides tol",
        "a shallow copy: the in-place update moves the saved weights too",
    ),
    M(
        "weight_decay.objective.half",
        "objective = loss + 0.5 * decay * weight_decay_penalty(ws)",
        "objective = loss + decay * weight_decay_penalty(ws)",
        "the objective without the 1/2 of the penalty",
    ),
    M(
        "weight_decay.penalty.squares",
        "return sum(np.sum(w**2, axis=(-2, -1)) for w in ws)",
        "return sum(np.linalg.norm(w, axis=(-2, -1)) for w in ws)",
        "Frobenius norms summed, not their squares",
    ),
    M(
        "weight_decay.schatten.rank",
        "s = s[: _checks.numerical_rank(s, W.shape)]",
        "s = s[s > 0]",
        "rounding-level singular values counted (their root s^(2/L) is not small)",
    ),
    M(
        "weight_decay.schatten.depth",
        'L = _checks.integer(depth, "depth", 1)',
        'L = _checks.integer(depth, "depth", 2)',
        "depth 1 (the squared Frobenius norm) rejected",
    ),
    # --- subtler ones, some of them equivalent on purpose (see the report of the run) ------------------
    M(
        "_checks.data_pair.d0",
        "if d0 is not None and xs.shape[1] != d0:",
        "if d0 is not None and xs.shape[1] > d0:",
        "too few input columns accepted",
    ),
    M(
        "network.jacobian_derivative.term",
        "d_lefts.append(d_lefts[-1] @ ws[l] + lefts[l] @ vs[l])",
        "d_lefts.append(lefts[l] @ vs[l])",
        "product rule with one term forgotten",
    ),
    M(
        "regularizer.gradient.between",
        "g += 2 * between(l, k).T @ (yb[l] * a[l][:, None]).T @ yb[k]",
        "g += 2 * between(l, k) @ (yb[l] * a[l][:, None]).T @ yb[k]",
        "a transpose forgotten (square layers hide it)",
    ),
    M(
        "training.diverged.suggestion",
        "try a smaller learning rate (e.g. lr = {lr / 4:g})",
        "try a smaller learning rate (e.g. lr = {lr / 2:g})",
        "the advice in the message changed",
    ),
    M(
        "training.noise_block",
        "_NOISE_ENTRIES = 1 << 19",
        "_NOISE_ENTRIES = 1 << 8",
        "EQUIVALENT by design: the block length changes memory, not the numbers drawn",
    ),
    M(
        "training.explosion",
        "_EXPLOSION = 1e12",
        "_EXPLOSION = 1e14",
        "a looser divergence threshold",
    ),
    M(
        "depth_two.symmetric_root",
        "W1[:, :r] = Rx_inv @ (U[:, :r] * root)",
        "W1[:, :r] = Rx_inv.T @ (U[:, :r] * root)",
        "EQUIVALENT: M_x^{-1/2} is symmetric",
    ),
    M(
        "kronecker.sign_boundary",
        "u.reshape(d0, d0).trace() < 0",
        "u.reshape(d0, d0).trace() <= 0",
        "EQUIVALENT: the trace of a nonzero semidefinite factor is never 0",
    ),
    M(
        "problems.targets_copy",
        "targets=W[rows, cols].copy(),",
        "targets=W[rows, cols],",
        "EQUIVALENT: fancy indexing already copies",
    ),
    M(
        "construction.random_gauge_conditioning",
        "if s[-1] > 1e-3 * s[0]:",
        "if s[-1] > 1e-6 * s[0]:",
        "random gauges allowed to be worse conditioned",
    ),
    # --- book ------------------------------------------------------------------------------------------
    M(
        "book.require",
        "if not bool(condition):",
        "if condition is False:",
        "numpy booleans never fail",
    ),
    M(
        "book.claims.array",
        "return bool(values.all())",
        "return bool(values.any())",
        "an array claim true if any entry is",
    ),
    M(
        "book.claims.strict",
        'if self.mode == "strict":',
        'if self.mode == "reader":',
        "strict and reader mode swapped: a failed claim stops a reader, not the tests",
    ),
    M(
        "book.claims.undecided",
        'if holds is None:  # sympy\'s "cannot decide", e.g. ``expr.is_positive``\n        return False',
        'if holds is None:  # sympy\'s "cannot decide", e.g. ``expr.is_positive``\n        return True',
        "sympy's undecided counted as a proof",
    ),
    M(
        "book.claims.empty",
        "if values.size == 0:",
        "if values.size < 0:",
        "an empty array passes as a claim that holds",
    ),
    M(
        "book.claims.rerun",
        "self.records[k] = record\n                break",
        "self.records.append(record)\n                break",
        "a rerun cell lists its claim twice",
    ),
    M(
        "book.fill.tex_argument",
        "(?<![A-Za-z])\\{(?P<name>",
        "(?<![$])\\{(?P<name>",
        "TeX arguments such as \\operatorname{tr} filled as numbers",
    ),
    M(
        "book.myst_cell.heading",
        'if text[0] in "#>+*-" else text',
        'if text[0] in ">+*-" else text',
        "a cell starting with # becomes a heading in the MyST table",
    ),
    M(
        "book.coordinate_nudges.sign",
        "yield l, idx, [*before, up, *after], [*before, down, *after]",
        "yield l, idx, [*before, down, *after], [*before, up, *after]",
        "up and down swapped",
    ),
    M(
        "book.coordinate_nudges.size",
        "up[idx] += h\n",
        "up[idx] += h / 2\n",
        "half a step each way: up and down only h apart",
    ),
    M(
        "book.coordinate_nudges.copy",
        "up, down = w.copy(), w.copy()",
        "up, down = w, w.copy()",
        "the caller's weights nudged in place",
    ),
    M(
        "book.claims.refuses.kind",
        "if kind is not None and not issubclass(kind, self.error):",
        "if kind is not None and not issubclass(kind, Exception):",
        "any exception counts as a refusal",
    ),
    M(
        "book.claims.refuses.default",
        "self, text: str, error: type = ValueError, *, glue=(), **numbers",
        "self, text: str, error: type = Exception, *, glue=(), **numbers",
        "by default any exception counts as a refusal",
    ),
    # --- symbolic (any of dlnlib/symbolic*.py, dlnlib/certificates.py) --------------------------------
    M(
        "symbolic.symbol_matrix.rows",
        'rows = _checks.integer(rows, "rows", 1)',
        'rows = _checks.integer(rows, "rows", 0)',
        "empty symbol matrices accepted",
    ),
    M(
        "symbolic.whitening.high",
        'd0 = _checks.integer(d0, "d0", 1, 3)',
        'd0 = _checks.integer(d0, "d0", 1, 2)',
        "documented range cut short",
    ),
    M(
        "symbolic.hurwitz.high",
        'n = _checks.integer(n, "n", 2, 8)',
        'n = _checks.integer(n, "n", 2, 7)',
        "documented range cut short",
    ),
    M(
        "symbolic.symmetrize.high",
        "if not 1 <= len(xs) <= 8:",
        "if not 1 <= len(xs) < 8:",
        "8 variables rejected",
    ),
    M(
        "symbolic.verify.count",
        "if len(cert.bases) != len(cert.cofactors):",
        "if len(cert.bases) < len(cert.cofactors):",
        "more bases than cofactors silently zipped away",
    ),
    M(
        "symbolic.lagrange.low",
        'm = _checks.integer(m, "m", 1, 12)',
        'm = _checks.integer(m, "m", 2, 12)',
        "m = 1 rejected",
    ),
    M(
        "symbolic.sign.bool",
        "if sign not in (1, -1) or isinstance(sign, bool):",
        "if sign not in (1, -1):",
        "True accepted as a sign",
    ),
    M(
        "symbolic.rearrangement.high",
        'L = _checks.integer(L, "L", 2, 16)',
        'L = _checks.integer(L, "L", 2, 15)',
        "documented range cut short",
    ),
    M(
        "symbolic.split_position",
        "not (l.is_integer and 1 <= l <= L - 1)",
        "not (l.is_integer and 1 <= l <= L)",
        "split after the last layer accepted",
    ),
    M(
        "symbolic.scalars.positive",
        "if value.is_positive is False:",
        "if value.is_negative:",
        "zero norms accepted",
    ),
    M(
        "symbolic.generic.depth",
        "if not 3 <= len(d) <= 13:",
        "if not 3 <= len(d) <= 12:",
        "depth 12 rejected",
    ),
    M(
        "symbolic.generic.rank",
        'if di < r:\n            raise ValueError(\n                f"width d_{i} = {di} is below the rank r',
        'if di < r - 1:\n            raise ValueError(\n                f"width d_{i} = {di} is below the rank r',
        "widths below the rank accepted",
    ),
    # --- bound.relative_distance and book.glue_excess (added after the full run above) ----------
    M(
        "bound.relative_distance.denominator",
        "size = np.linalg.norm(B)",
        "size = np.linalg.norm(A)",
        "distance relative to the wrong matrix",
    ),
    M(
        "bound.relative_distance.shape",
        "if A.shape[-2:] != B.shape:",
        "if A.shape[-1] != B.shape[-1]:",
        "row count of the matrices not compared",
    ),
    M(
        "bound.relative_distance.zero",
        "if size == 0:",
        "if size < 0:",
        "B = 0 not refused (a silent division by zero)",
    ),
    M(
        "book.glue_excess.percent",
        "glue_number(name, 100 * float(excess), digits)",
        "glue_number(name, float(excess), digits)",
        "excess glued as a fraction, not in percent",
    ),
    # --- interpolant: the certified least-R* search ------------------------------------------------
    M(
        "interpolant.certificate.unprojected",
        "return float(np.linalg.norm(g - J.T @ multipliers)) / norm",
        "return float(np.linalg.norm(g)) / norm",
        "the certificate forgets to remove the part the constraints explain",
    ),
    M(
        "interpolant.certificate.unchecked",
        "if not (residual <= tol and certificate <= certify):",
        "if not (residual <= tol):",
        "an uncertified end accepted in silence",
    ),
    M(
        "interpolant.gauss_newton.none",
        "for _ in range(3):  # Gauss-Newton steps onto the interpolating set",
        "for _ in range(0):  # Gauss-Newton steps onto the interpolating set",
        "the SQP's end not put back on the interpolating set",
    ),
    M(
        "interpolant.least_found.argmax",
        "best = int(np.argmin(stars))",
        "best = int(np.argmax(stars))",
        "the search started from the worst candidate",
    ),
    M(
        "interpolant.start.misfit",
        "if misfit > 1e-4 * scale:",
        "if misfit > 1e4 * scale:",
        "a start that does not interpolate let through",
    ),
]


def copy_sources(dest: Path, rev: str | None) -> None:
    """dlnlib/, tests/ (without browser/ and mutation/) and pyproject.toml into dest."""
    ignore = shutil.ignore_patterns(
        "__pycache__", "*.pyc", ".hypothesis", "browser", "mutation"
    )
    if rev is None:
        shutil.copytree(REPO / "dlnlib", dest / "dlnlib", ignore=ignore)
        shutil.copytree(REPO / "tests", dest / "tests", ignore=ignore)
        shutil.copy2(REPO / "pyproject.toml", dest / "pyproject.toml")
        return
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        [
            "git",
            "-C",
            str(REPO),
            "archive",
            "--format=tar",
            rev,
            "dlnlib",
            "tests",
            "pyproject.toml",
        ],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    for sub in ("browser", "mutation"):
        shutil.rmtree(dest / "tests" / sub, ignore_errors=True)


def locate(root: Path, mutant: Mutant) -> tuple[Path | None, str]:
    """The one file of root/dlnlib that holds mutant.old, or (None, reason)."""
    hits = []
    for path in sorted((root / "dlnlib").glob("*.py")):
        count = path.read_text().count(mutant.old)
        hits += [path] * count
    if len(hits) == 1:
        return hits[0], ""
    if not hits:
        return None, "text not found (the source changed)"
    return None, f"text found {len(hits)} times"


def pytest_command(root: Path) -> list[str]:
    tests = root / "tests"
    first = [str(tests / name) for name in FIRST if (tests / name).exists()]
    rest = sorted(
        str(p) for p in tests.glob("test_*.py") if p.name not in FIRST + SKIP
    )
    return [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-x",
        "-p",
        "no:cacheprovider",
        *first,
        *rest,
    ]


def environment(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    return env


def run_tests(root: Path, timeout: float) -> tuple[str, float, str]:
    """('passed' | 'failed' | 'timeout', seconds, last lines of the output)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            pytest_command(root),
            cwd=root,
            env=environment(root),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start, ""
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-3:])
    return (
        ("passed" if proc.returncode == 0 else "failed"),
        time.perf_counter() - start,
        tail,
    )


def check_import(root: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import dlnlib; print(dlnlib.__file__)"],
        cwd=root,
        env=environment(root),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(out).resolve().is_relative_to(root.resolve()):
        sys.exit(
            f"the copy's dlnlib is not the one imported ({out}); cannot run mutants safely"
        )


def run_mutant(
    mutant: Mutant, pristine: Path, timeout: float
) -> tuple[Mutant, str, float, str, str]:
    with tempfile.TemporaryDirectory(prefix="dlnlib-mutant-") as tmp:
        root = Path(tmp)
        shutil.copytree(pristine, root, dirs_exist_ok=True)
        path, reason = locate(root, mutant)
        if path is None:
            return mutant, "STALE", 0.0, reason, ""
        source = path.read_text()
        mutated = source.replace(mutant.old, mutant.new, 1)
        try:
            compile(mutated, str(path), "exec")
        except SyntaxError as exc:
            return (
                mutant,
                "INVALID",
                0.0,
                f"the mutant does not compile: {exc}",
                path.name,
            )
        path.write_text(mutated)
        outcome, seconds, tail = run_tests(root, timeout)
    status = {
        "passed": "SURVIVED",
        "failed": "KILLED",
        "timeout": "KILLED (timeout)",
    }[outcome]
    return mutant, status, seconds, tail, path.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-k",
        action="append",
        default=[],
        help="run the mutants whose id contains this (repeatable)",
    )
    parser.add_argument(
        "--list",
        action="store_true",
        help="list the mutants and whether they apply, run nothing",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="mutants run at once (default 1)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds per test run (default 300)",
    )
    parser.add_argument(
        "--rev",
        help="test this git revision (git archive) instead of the working tree",
    )
    args = parser.parse_args()

    mutants = [
        m for m in MUTANTS if not args.k or any(k in m.id for k in args.k)
    ]
    ids = [m.id for m in MUTANTS]
    assert len(set(ids)) == len(ids), "duplicate mutant ids"

    with tempfile.TemporaryDirectory(prefix="dlnlib-pristine-") as tmp:
        pristine = Path(tmp)
        copy_sources(pristine, args.rev)
        if args.list:
            for m in mutants:
                path, reason = locate(pristine, m)
                print(
                    f"{m.id:40s} {path.name if path else 'STALE: ' + reason:24s} {m.why}"
                )
            return
        check_import(pristine)
        print(
            f"baseline: unmutated tests of {'the working tree' if args.rev is None else args.rev} ...",
            flush=True,
        )
        outcome, seconds, tail = run_tests(pristine, args.timeout)
        if outcome != "passed":
            sys.exit(
                f"the unmutated tests do not pass ({outcome}), nothing to compare with:\n{tail}"
            )
        print(
            f"baseline passed in {seconds:.0f} s; {len(mutants)} mutants",
            flush=True,
        )

        results = []
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for mutant, status, seconds, tail, where in pool.map(
                lambda m: run_mutant(m, pristine, args.timeout), mutants
            ):
                results.append((mutant, status, where, tail))
                print(
                    f"{status:17s} {seconds:5.0f} s  {mutant.id:40s} {where}",
                    flush=True,
                )

    run = [r for r in results if r[1] not in ("STALE", "INVALID")]
    killed = [r for r in run if r[1].startswith("KILLED")]
    survived = [r for r in run if r[1] == "SURVIVED"]
    skipped = [r for r in results if r[1] in ("STALE", "INVALID")]
    modules = sorted({where.removesuffix(".py") for _, _, where, _ in run})
    print()
    print(
        f"score: {len(killed)} killed / {len(run)} run ({100 * len(killed) / max(len(run), 1):.0f} %), "
        f"{len(survived)} survived, {len(skipped)} skipped; modules mutated: {', '.join(modules)}"
    )
    for mutant, status, _where, tail in skipped:
        print(f"  {status}: {mutant.id}: {tail}")
    if survived:
        print("survivors:")
        for mutant, _, where, _ in survived:
            print(
                f"  {mutant.id} ({where}): {mutant.why}\n      - {mutant.old!r}\n      + {mutant.new!r}"
            )


if __name__ == "__main__":
    main()
