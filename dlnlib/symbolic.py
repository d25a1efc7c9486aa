"""Exact (sympy) checks of the steps of the derivation.

Every inequality of the lower bound is proved here by an *identity* that
sympy verifies exactly: the gap between the two sides is written as a sum of
terms that are nonnegative by inspection (a certificate).  Identities are
proved either for general depth ``L`` (positive symbols, ``powsimp``) or for
every ``L`` in a range.

Contents
--------
- symbolic matrices: :func:`symbol_matrix`, :func:`frobenius_sq`;
- AM-GM as a sum of squares (Hurwitz 1891): :func:`symmetrize`,
  :func:`hurwitz_certificate`, :func:`verify_amgm_certificate`;
- Cauchy-Schwarz through the Lagrange identity: :func:`lagrange_identity`;
- the 2 x 2 nuclear norm: :func:`nuclear_norm_2x2`,
  :func:`frobenius_nuclear_certificate_2x2`;
- the Kronecker assumption: :func:`kron_trace_identity`;
- the algebra of the bound: :func:`rearrangement_identity`,
  :func:`exponent_collapse`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from itertools import permutations

import sympy as sp

from . import _checks

# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------


def symbol_matrix(name: str, rows: int, cols: int, **assumptions) -> sp.Matrix:
    """An explicit ``rows x cols`` matrix of fresh real symbols ``name_ij``.

    .. math:: M = (m_{ij})_{1 \\le i \\le \\text{rows},\\ 1 \\le j \\le \\text{cols}}

    Parameters
    ----------
    name : str
        Stem of the symbol names (entries are ``{name}_{i}{j}``, 1-based).
    rows, cols : int
        Positive dimensions.
    **assumptions
        Extra sympy assumptions (``real=True`` is always set).

    Returns
    -------
    sympy.Matrix, shape (rows, cols)

    Raises
    ------
    ValueError
        If ``name`` is not a nonempty string or a dimension is not a positive integer.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a nonempty string, got {name!r}")
    rows = _checks.integer(rows, "rows", 1)
    cols = _checks.integer(cols, "cols", 1)
    assumptions.setdefault("real", True)
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", **assumptions))


def frobenius_sq(M) -> sp.Expr:
    """Squared Frobenius norm ``||M||_F^2 = sum_ij M_ij^2`` of an explicit sympy matrix.

    Parameters
    ----------
    M : sympy.Matrix
        Explicit (not a ``MatrixSymbol``) matrix with real entries.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ValueError
        If ``M`` is not an explicit sympy matrix.
    """
    if not isinstance(M, sp.MatrixBase):
        raise ValueError(f"M must be an explicit sympy Matrix, got {type(M).__name__}")
    return sp.Add(*[e**2 for e in M])


# ---------------------------------------------------------------------------
# AM-GM: Hurwitz's sum-of-squares certificate
# ---------------------------------------------------------------------------


def symmetrize(expr, xs) -> sp.Poly:
    """Sum of ``expr`` over all ``n!`` permutations of the variables ``xs``.

    .. math:: (\\mathcal P f)(x_1, \\dots, x_n) = \\sum_{\\sigma \\in S_n} f(x_{\\sigma(1)}, \\dots, x_{\\sigma(n)})

    Works on the exponent tuples of ``Poly.as_dict()`` (a permutation of the
    variables permutes each monomial's exponent tuple), which is orders of
    magnitude faster than ``subs`` over the permutations.

    Parameters
    ----------
    expr : sympy.Expr or sympy.Poly
        A polynomial in ``xs``.
    xs : sequence of sympy.Symbol
        The ``n`` variables, ``1 <= n <= 8``.

    Returns
    -------
    sympy.Poly
        In the generators ``xs``.

    Raises
    ------
    ValueError
        If ``xs`` is empty or longer than 8, or ``expr`` is not a polynomial in ``xs``.
    """
    xs = tuple(xs)
    if not 1 <= len(xs) <= 8:
        raise ValueError(f"need between 1 and 8 variables, got {len(xs)}")
    try:
        p = sp.Poly(expr, *xs)
    except sp.PolynomialError as exc:
        raise ValueError(f"expr is not a polynomial in {xs}: {exc}") from None
    terms = p.as_dict()
    out: dict[tuple[int, ...], sp.Expr] = defaultdict(lambda: sp.Integer(0))
    n = len(xs)
    for perm in permutations(range(n)):
        for exps, coeff in terms.items():
            out[tuple(exps[perm[j]] for j in range(n))] += coeff
    return sp.Poly.from_dict(dict(out), *xs)


@dataclass(frozen=True)
class AMGMCertificate:
    """A sum-of-squares certificate of AM-GM in ``n`` nonnegative variables.

    It claims

    .. math:: \\frac1n \\sum_{i=1}^n x_i^n - \\prod_{i=1}^n x_i
              = \\text{scale} \\sum_{k} \\mathcal P\\big[\\text{base}_k^2 \\,\\text{cofactor}_k\\big],

    where :math:`\\mathcal P` is :func:`symmetrize`, every ``cofactor_k`` has
    nonnegative coefficients (so it is nonnegative for ``x >= 0``) and
    ``scale > 0``: every term on the right is manifestly nonnegative.

    Attributes
    ----------
    n : int
    xs : tuple of sympy.Symbol
    gap : sympy.Expr
        ``(sum x_i^n)/n - prod x_i``.
    bases : tuple of sympy.Expr
        The squared factors, ``x_1 - x_2`` in Hurwitz's certificate.
    cofactors : tuple of sympy.Expr
    scale : sympy.Rational
    """

    n: int
    xs: tuple
    gap: sp.Expr
    bases: tuple
    cofactors: tuple
    scale: sp.Rational

    def terms(self) -> list[sp.Poly]:
        """The symmetrized terms ``scale * P[base_k^2 cofactor_k]``, one per ``k``."""
        return [symmetrize(self.scale * b**2 * c, self.xs) for b, c in zip(self.bases, self.cofactors)]


def hurwitz_certificate(n: int) -> AMGMCertificate:
    """Hurwitz's (1891) sum-of-squares certificate of AM-GM for ``n`` variables.

    With :math:`\\mathcal P` the sum over all permutations (:func:`symmetrize`),

    .. math::
        \\varphi_k = \\mathcal P\\big[(x_1^{n-k} - x_2^{n-k})(x_1 - x_2)\\, x_3 \\cdots x_{k+1}\\big],

        \\frac1n \\sum_{i=1}^n x_i^n - \\prod_{i=1}^n x_i = \\frac{1}{2\\, n!} \\sum_{k=1}^{n-1} \\varphi_k .

    Each bracket is :math:`(x_1 - x_2)^2 \\sum_{j=0}^{n-k-1} x_1^j x_2^{n-k-1-j} \\cdot x_3 \\cdots x_{k+1}`,
    a square times a polynomial with nonnegative coefficients. Substituting
    :math:`x_i \\to x_i^2` turns it into a sum of squares of polynomials.

    Parameters
    ----------
    n : int
        Number of variables, ``2 <= n <= 8`` (the verification is fast up to ``n = 7``).

    Returns
    -------
    AMGMCertificate
        Not yet verified: pass it to :func:`verify_amgm_certificate`.

    Raises
    ------
    ValueError
        If ``n`` is not an integer in ``[2, 8]``.
    """
    n = _checks.integer(n, "n", 2, 8)
    xs = sp.symbols(f"x1:{n + 1}", nonnegative=True)
    gap = sp.Add(*[x**n for x in xs]) / n - sp.Mul(*xs)
    bases, cofactors = [], []
    for k in range(1, n):
        m = n - k
        geometric = sp.Add(*[xs[0] ** j * xs[1] ** (m - 1 - j) for j in range(m)])
        bases.append(xs[0] - xs[1])
        cofactors.append(geometric * sp.Mul(*xs[2 : k + 1]))
    return AMGMCertificate(n, tuple(xs), gap, tuple(bases), tuple(cofactors), sp.Rational(1, 2 * math.factorial(n)))


def verify_amgm_certificate(cert: AMGMCertificate) -> bool:
    """Check a certificate of AM-GM exactly.

    Returns ``True`` iff (i) ``scale > 0``, (ii) every cofactor, expanded, has
    only nonnegative coefficients, (iii) every base is a real polynomial and
    (iv) ``scale * sum_k P[base_k^2 cofactor_k]`` equals the gap
    ``(sum x_i^n)/n - prod x_i`` as polynomials (exact rational arithmetic).
    Together these prove ``(sum x_i^n)/n >= prod x_i`` for ``x >= 0``.

    Parameters
    ----------
    cert : AMGMCertificate

    Returns
    -------
    bool

    Raises
    ------
    ValueError
        If ``cert`` is not an :class:`AMGMCertificate` or its bases and
        cofactors differ in number.
    """
    if not isinstance(cert, AMGMCertificate):
        raise ValueError(f"cert must be an AMGMCertificate, got {type(cert).__name__}")
    if len(cert.bases) != len(cert.cofactors):
        raise ValueError(f"{len(cert.bases)} bases but {len(cert.cofactors)} cofactors")
    scale = sp.nsimplify(cert.scale)
    if not (scale.is_real and scale > 0):
        return False
    xs = cert.xs
    total = sp.Poly(0, *xs)
    for base, cof in zip(cert.bases, cert.cofactors):
        try:
            pb = sp.Poly(base, *xs)
            pc = sp.Poly(cof, *xs)
        except sp.PolynomialError:
            return False
        if any(not (c.is_real and c >= 0) for c in pc.coeffs()) or not all(c.is_real for c in pb.coeffs()):
            return False
        total += symmetrize(pb**2 * pc, xs)
    return (total * scale - sp.Poly(cert.gap, *xs)).is_zero


# ---------------------------------------------------------------------------
# Cauchy-Schwarz and the Frobenius / nuclear inequality
# ---------------------------------------------------------------------------


def lagrange_identity(m: int) -> tuple[sp.Expr, sp.Expr, tuple, tuple]:
    """Lagrange's identity, the certificate of Cauchy-Schwarz in ``R^m``.

    .. math:: \\Big(\\sum_i u_i^2\\Big)\\Big(\\sum_i v_i^2\\Big) - \\Big(\\sum_i u_i v_i\\Big)^2
              = \\sum_{i < j} (u_i v_j - u_j v_i)^2

    Parameters
    ----------
    m : int
        Length of the vectors, ``1 <= m <= 12``.

    Returns
    -------
    gap : sympy.Expr
        The left-hand side.
    certificate : sympy.Expr
        The right-hand side, a sum of squares.
    u, v : tuple of sympy.Symbol
        The real symbols used.

    Raises
    ------
    ValueError
        If ``m`` is not an integer in ``[1, 12]``.
    """
    m = _checks.integer(m, "m", 1, 12)
    u = sp.symbols(f"u1:{m + 1}", real=True)
    v = sp.symbols(f"v1:{m + 1}", real=True)
    gap = sp.Add(*[a**2 for a in u]) * sp.Add(*[b**2 for b in v]) - sp.Add(*[a * b for a, b in zip(u, v)]) ** 2
    cert = sp.Add(*[(u[i] * v[j] - u[j] * v[i]) ** 2 for i in range(m) for j in range(i + 1, m)])
    return gap, cert, u, v


def nuclear_norm_2x2(M) -> sp.Expr:
    """Nuclear norm of a 2 x 2 matrix in closed form.

    .. math:: \\|M\\|_* = \\sigma_1 + \\sigma_2 = \\sqrt{\\|M\\|_F^2 + 2\\,|\\det M|}

    because :math:`\\sigma_1^2 + \\sigma_2^2 = \\operatorname{tr} M^\\top M = \\|M\\|_F^2` and
    :math:`\\sigma_1 \\sigma_2 = |\\det M|`.

    Parameters
    ----------
    M : sympy.Matrix, shape (2, 2)
        Real entries (symbols or numbers).

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ValueError
        If ``M`` is not an explicit 2 x 2 sympy matrix.
    """
    if not isinstance(M, sp.MatrixBase) or M.shape != (2, 2):
        raise ValueError(f"M must be an explicit 2 x 2 sympy Matrix, got {getattr(M, 'shape', type(M).__name__)}")
    return sp.sqrt(frobenius_sq(M) + 2 * sp.Abs(M.det()))


def frobenius_nuclear_certificate_2x2(A, B, sign: int) -> tuple[sp.Expr, sp.Expr]:
    """Sum-of-squares certificate of ``||A||_F^2 ||B||_F^2 >= ||AB||_*^2`` for 2 x 2 matrices.

    By :func:`nuclear_norm_2x2`, :math:`\\|AB\\|_*^2 = \\|AB\\|_F^2 + 2 s \\det A \\det B`
    with :math:`s = \\operatorname{sign}(\\det A \\det B)`. With
    :math:`C = A J B`, :math:`J = \\begin{pmatrix} 0 & 1 \\\\ -1 & 0 \\end{pmatrix}`,

    .. math:: \\|A\\|_F^2 \\|B\\|_F^2 - \\|AB\\|_F^2 - 2 s \\det A \\det B
              = (c_{11} - s\\, c_{22})^2 + (c_{12} + s\\, c_{21})^2 ,

    (the Lagrange identity row by column gives :math:`\\|C\\|_F^2`, and
    :math:`\\det C = \\det A \\det B`). Both signs ``s = +1, -1`` hold, so the
    inequality holds whatever the sign of the determinants.

    Parameters
    ----------
    A, B : sympy.Matrix, shape (2, 2)
    sign : {+1, -1}

    Returns
    -------
    gap : sympy.Expr
        :math:`\\|A\\|_F^2 \\|B\\|_F^2 - \\|AB\\|_F^2 - 2 s \\det A \\det B`.
    certificate : sympy.Expr
        The sum of two squares on the right.

    Raises
    ------
    ValueError
        If ``A`` or ``B`` is not a 2 x 2 sympy matrix or ``sign`` is not +1 or -1.
    """
    for name, M in (("A", A), ("B", B)):
        if not isinstance(M, sp.MatrixBase) or M.shape != (2, 2):
            raise ValueError(f"{name} must be an explicit 2 x 2 sympy Matrix")
    if sign not in (1, -1) or isinstance(sign, bool):
        raise ValueError(f"sign must be +1 or -1, got {sign!r}")
    J = sp.Matrix([[0, 1], [-1, 0]])
    C = A * J * B
    gap = frobenius_sq(A) * frobenius_sq(B) - frobenius_sq(A * B) - 2 * sign * A.det() * B.det()
    cert = (C[0, 0] - sign * C[1, 1]) ** 2 + (C[0, 1] + sign * C[1, 0]) ** 2
    return gap, cert


# ---------------------------------------------------------------------------
# The Kronecker assumption
# ---------------------------------------------------------------------------


def _kron(P: sp.Matrix, Q: sp.Matrix) -> sp.Matrix:
    return sp.Matrix(
        P.rows * Q.rows, P.cols * Q.cols, lambda i, j: P[i // Q.rows, j // Q.cols] * Q[i % Q.rows, j % Q.cols]
    )


def kron(P, Q) -> sp.Matrix:
    """Kronecker product of two explicit sympy matrices (the same convention as ``numpy.kron``).

    .. math:: (P \\otimes Q)_{(i, k), (j, l)} = P_{ij} Q_{kl}

    Parameters
    ----------
    P : sympy.Matrix, shape (p, q)
    Q : sympy.Matrix, shape (r, s)

    Returns
    -------
    sympy.Matrix, shape (p r, q s)

    Raises
    ------
    ValueError
        If ``P`` or ``Q`` is not an explicit sympy matrix.
    """
    for name, M in (("P", P), ("Q", Q)):
        if not isinstance(M, sp.MatrixBase):
            raise ValueError(f"{name} must be an explicit sympy Matrix, got {type(M).__name__}")
    return _kron(P, Q)


def kron_trace_identity(d0: int, k0: int, kL: int, dL: int, n: int = 2) -> dict[str, sp.Expr]:
    """The two identities that turn the per-sample regularizer into Frobenius norms.

    With :math:`A \\in \\mathbb R^{d_0 \\times k_0}`, :math:`B \\in \\mathbb R^{k_L \\times d_L}`
    and :math:`M = \\sum_i (x_i x_i^\\top) \\otimes (y_i y_i^\\top)`,

    .. math::
        \\sum_{i=1}^n \\|x_i^\\top A\\|_2^2 \\, \\|B y_i\\|_2^2
        &= \\operatorname{tr}\\big(M \\, (A A^\\top \\otimes B^\\top B)\\big) \\quad\\text{(any data)},\\\\
        \\operatorname{tr}\\big((X^\\top X \\otimes Y Y^\\top)(A A^\\top \\otimes B^\\top B)\\big)
        &= \\|X A\\|_F^2 \\, \\|B Y\\|_F^2 .

    All matrices and data are explicit symbol matrices; the returned
    differences are zero iff the identities hold (check with ``sp.expand``).

    Parameters
    ----------
    d0, k0, kL, dL : int
        Shapes of ``A`` (``d0 x k0``) and ``B`` (``kL x dL``), each in ``[1, 3]``.
    n : int, optional
        Number of symbolic samples ``(x_i, y_i)``, in ``[1, 3]``.

    Returns
    -------
    dict
        ``"per_sample"``, ``"trace_data"``: the two sides of the first identity;
        ``"trace_kron"``, ``"frobenius"``: the two sides of the second;
        ``"A"``, ``"B"``, ``"X"``, ``"Y"``, ``"xs"``, ``"ys"``: the symbols used.

    Raises
    ------
    ValueError
        If a dimension is not an integer in ``[1, 3]``.
    """
    d0, k0, kL, dL, n = (_checks.integer(v, nm, 1, 3) for v, nm in zip((d0, k0, kL, dL, n), "d0 k0 kL dL n".split()))
    A = symbol_matrix("a", d0, k0)
    B = symbol_matrix("b", kL, dL)
    X = symbol_matrix("X", d0, d0)
    Y = symbol_matrix("Y", dL, dL)
    xs = [symbol_matrix(f"x{i + 1}", d0, 1) for i in range(n)]
    ys = [symbol_matrix(f"y{i + 1}", dL, 1) for i in range(n)]
    per_sample = sp.Add(*[frobenius_sq(x.T * A) * frobenius_sq(B * y) for x, y in zip(xs, ys)])
    M = sp.zeros(d0 * dL, d0 * dL)
    for x, y in zip(xs, ys):
        M += _kron(x * x.T, y * y.T)
    G = _kron(A * A.T, B.T * B)
    trace_data = (M * G).trace()
    trace_kron = (_kron(X.T * X, Y * Y.T) * G).trace()
    frob = frobenius_sq(X * A) * frobenius_sq(B * Y)
    return {
        "per_sample": per_sample,
        "trace_data": trace_data,
        "trace_kron": trace_kron,
        "frobenius": frob,
        "A": A,
        "B": B,
        "X": X,
        "Y": Y,
        "xs": xs,
        "ys": ys,
    }


# ---------------------------------------------------------------------------
# The algebra of the lower bound
# ---------------------------------------------------------------------------


def rearrangement_identity(L: int) -> tuple[sp.Expr, sp.Expr, tuple, tuple]:
    """Rearranging the AM-GM product, for one depth ``L``.

    With positive symbols :math:`a_l = \\|X W_1 \\cdots W_l\\|_F` (``l = 0..L-1``, so
    :math:`a_0 = \\|X\\|_F`) and :math:`b_l = \\|W_{l+1} \\cdots W_L Y\\|_F`
    (``l = 1..L``, so :math:`b_L = \\|Y\\|_F`), the ``l``-th term of ``R`` is
    :math:`a_{l-1}^2 b_l^2` and

    .. math:: \\Big(\\prod_{l=1}^L a_{l-1}^2 b_l^2\\Big)^{1/L}
              = \\Big(a_0 \\, b_L \\prod_{l=1}^{L-1} a_l b_l\\Big)^{2/L}.

    Parameters
    ----------
    L : int
        Depth, ``2 <= L <= 16``.

    Returns
    -------
    lhs, rhs : sympy.Expr
        The two sides (equal after ``powsimp``/``expand_power_base``, see
        :func:`equal_positive`).
    a, b : tuple of sympy.Symbol
        ``a[l]`` is :math:`a_l` (``l = 0..L-1``); ``b[l-1]`` is :math:`b_l` (``l = 1..L``).

    Raises
    ------
    ValueError
        If ``L`` is not an integer in ``[2, 16]``.
    """
    L = _checks.integer(L, "L", 2, 16)
    a = sp.symbols(f"a0:{L}", positive=True)
    b = sp.symbols(f"b1:{L + 1}", positive=True)
    lhs = sp.Mul(*[a[l - 1] ** 2 * b[l - 1] ** 2 for l in range(1, L + 1)]) ** sp.Rational(1, L)
    rhs = (a[0] * b[L - 1] * sp.Mul(*[a[l] * b[l - 1] for l in range(1, L)])) ** sp.Rational(2, L)
    return lhs, rhs, a, b


def equal_positive(lhs, rhs) -> bool:
    """Exact equality of two expressions in positive symbols, via power simplification.

    Returns ``True`` iff ``lhs - rhs`` simplifies to 0 after
    ``expand_power_base``/``powdenest``/``powsimp`` with ``force=False`` (safe
    for positive symbols) and, failing that, ``sympy.simplify``.

    Parameters
    ----------
    lhs, rhs : sympy.Expr

    Returns
    -------
    bool

    Raises
    ------
    ValueError
        If an argument is not a sympy expression.
    """
    for name, e in (("lhs", lhs), ("rhs", rhs)):
        if not isinstance(e, sp.Basic):
            raise ValueError(f"{name} must be a sympy expression, got {type(e).__name__}")

    def norm(e):
        return sp.powsimp(sp.powdenest(sp.expand_power_base(sp.expand(e))))

    diff = norm(lhs) - norm(rhs)
    if sp.expand(diff) == 0:
        return True
    return sp.simplify(diff) == 0


def exponent_collapse() -> tuple[sp.Expr, sp.Expr, dict[str, sp.Symbol]]:
    """Collapsing the exponents of the bound, for general depth ``L``.

    With positive symbols :math:`x = \\|X\\|_F`, :math:`y = \\|Y\\|_F`,
    :math:`\\nu = \\|X \\tilde W Y\\|_*` and a positive integer ``L``,

    .. math:: L \\Big(x y \\prod_{l=1}^{L-1} \\nu\\Big)^{2/L} = L\\, (x y)^{2/L} \\, \\nu^{2 - 2/L}.

    The product of ``L - 1`` equal factors is written ``Product(nu, (l, 1, L-1))``
    and evaluated by sympy to ``nu**(L-1)``.

    Returns
    -------
    lhs, rhs : sympy.Expr
        Equal for every ``L`` (check with :func:`equal_positive`).
    symbols : dict
        ``{"L", "x", "y", "nu", "l"}``.
    """
    L = sp.Symbol("L", integer=True, positive=True)
    x, y, nu = sp.symbols("x y nu", positive=True)
    l = sp.Symbol("l", integer=True, positive=True)
    prod = sp.Product(nu, (l, 1, L - 1)).doit()
    lhs = L * (x * y * prod) ** (2 / L)
    rhs = L * (x * y) ** (2 / L) * nu ** (2 - 2 / L)
    return lhs, rhs, {"L": L, "x": x, "y": y, "nu": nu, "l": l}


# ---------------------------------------------------------------------------
# The construction that attains the bound, and the change of variables
# (chapters "Construction" and "Conclusion")
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConstructionScalars:
    """The scalars of the construction as sympy expressions.

    .. math::
        \\beta = \\Big(\\frac{\\nu}{x y}\\Big)^{1/L}, \\\\
        \\alpha = \\sqrt{x / y}\\, \\beta^{1 - L/2}, \\\\
        \\gamma = \\sqrt{y / x}\\, \\beta^{1 - L/2},

    with :math:`x = \\|X\\|_F`, :math:`y = \\|Y\\|_F`, :math:`\\nu = \\|X \\tilde W Y\\|_*`.

    Attributes
    ----------
    alpha, beta, gamma : sympy.Expr
    L, x, y, nu : sympy.Expr
        The depth and the three norms the scalars are built from (symbols by default).
    """

    alpha: sp.Expr
    beta: sp.Expr
    gamma: sp.Expr
    L: sp.Expr
    x: sp.Expr
    y: sp.Expr
    nu: sp.Expr


def construction_scalars(L=None, x=None, y=None, nu=None) -> ConstructionScalars:
    """The construction's ``alpha``, ``beta``, ``gamma`` for general (symbolic) depth.

    .. math::
        \\beta = \\Big(\\frac{\\nu}{x y}\\Big)^{1/L}, \\\\
        \\alpha = \\sqrt{x / y}\\, \\beta^{1 - L/2}, \\\\
        \\gamma = \\sqrt{y / x}\\, \\beta^{1 - L/2}

    By default ``L`` is a positive integer symbol and ``x``, ``y``, ``nu`` are
    positive symbols with the same names and assumptions as in
    :func:`exponent_collapse`, so expressions from both functions combine.

    Parameters
    ----------
    L : int or sympy.Expr, optional
        Depth; an integer must be ``>= 2``.
    x, y, nu : sympy.Expr or number, optional
        :math:`\\|X\\|_F`, :math:`\\|Y\\|_F`, :math:`\\|X \\tilde W Y\\|_*`; must not be
        known to be nonpositive.

    Returns
    -------
    ConstructionScalars

    Raises
    ------
    ValueError
        If ``L`` is a number that is not an integer ``>= 2``, or one of
        ``x``, ``y``, ``nu`` is known to be zero or negative.
    """
    if L is None:
        L = sp.Symbol("L", integer=True, positive=True)
    else:
        L = sp.sympify(L)
        if L.is_number and not (L.is_integer and L >= 2):
            raise ValueError(f"depth L must be an integer >= 2, got {L}")
    defaults = {"x": x, "y": y, "nu": nu}
    values = {}
    for name, value in defaults.items():
        value = sp.Symbol(name, positive=True) if value is None else sp.sympify(value)
        if value.is_positive is False:
            raise ValueError(f"{name} must be positive, got {value}")
        values[name] = value
    x, y, nu = values["x"], values["y"], values["nu"]
    beta = (nu / (x * y)) ** (1 / L)
    alpha = sp.sqrt(x / y) * beta ** (1 - L / 2)
    gamma = sp.sqrt(y / x) * beta ** (1 - L / 2)
    return ConstructionScalars(alpha, beta, gamma, L, x, y, nu)


def _a_sq(j, alpha, beta, kappa):
    return alpha**2 * beta ** (2 * (j - 1)) * kappa


def _b_sq(j, L, beta, gamma, eta):
    return beta ** (2 * (L - 1 - j)) * gamma**2 * eta


def _check_depth(L) -> sp.Expr:
    L = sp.sympify(L)
    if L.is_number and not (L.is_integer and L >= 2):
        raise ValueError(f"depth L must be an integer >= 2, got {L}")
    return L


def construction_partial_norms(l, L, alpha, beta, gamma, kappa, eta) -> tuple[sp.Expr, sp.Expr]:
    """Squared Frobenius norms of the two halves of the construction split after layer ``l``.

    For ``1 <= l <= L - 1`` the construction has
    :math:`X W_1 \\cdots W_l = \\alpha \\beta^{l-1} (U \\Sigma^{1/2} \\;\\, 0)` and
    :math:`W_{l+1} \\cdots W_L Y = \\beta^{L-1-l} \\gamma\\, (\\Sigma^{1/2} V^\\top ; 0)`, so

    .. math:: a_l^2 = \\alpha^2 \\beta^{2(l-1)} \\kappa, \\qquad
              b_l^2 = \\beta^{2(L-1-l)} \\gamma^2 \\eta,

    with :math:`\\kappa = \\|U \\Sigma^{1/2}\\|_F^2` and :math:`\\eta = \\|\\Sigma^{1/2} V^\\top\\|_F^2`
    (both equal :math:`\\operatorname{tr} \\Sigma = \\|X \\tilde W Y\\|_*`). The boundary values are
    :math:`a_0 = \\|X\\|_F` and :math:`b_L = \\|Y\\|_F`.

    Parameters
    ----------
    l, L : int or sympy.Expr
        Split position and depth; symbols are allowed (then ``1 <= l <= L-1`` is assumed).
    alpha, beta, gamma, kappa, eta : sympy.Expr or number

    Returns
    -------
    a_sq, b_sq : sympy.Expr
        :math:`a_l^2` and :math:`b_l^2`.

    Raises
    ------
    ValueError
        If ``L`` is a number that is not an integer ``>= 2``, or ``l`` and ``L``
        are numbers with ``l`` outside ``1..L-1``.
    """
    l, L = sp.sympify(l), _check_depth(L)
    if l.is_number and L.is_number and not (l.is_integer and 1 <= l <= L - 1):
        raise ValueError(f"split position l must be an integer in 1..L-1 = 1..{L - 1}, got {l}")
    return _a_sq(l, alpha, beta, kappa), _b_sq(l, L, beta, gamma, eta)


def construction_terms(L, alpha, beta, gamma, x_sq, y_sq, kappa, eta, l=None) -> dict[str, sp.Expr]:
    """The terms ``T_l = a_{l-1}^2 b_l^2`` of the regularizer for the construction.

    From :func:`construction_partial_norms`, with :math:`a_0^2 = x^2 = \\|X\\|_F^2` and
    :math:`b_L^2 = y^2 = \\|Y\\|_F^2`:

    .. math::
        T_1 = x^2 \\beta^{2(L-2)} \\gamma^2 \\eta, \\\\
        T_l = \\alpha^2 \\beta^{2(l-2)} \\kappa \\cdot \\beta^{2(L-1-l)} \\gamma^2 \\eta
        \\;\\; (2 \\le l \\le L-1), \\\\
        T_L = \\alpha^2 \\beta^{2(L-2)} \\kappa \\, y^2 .

    Parameters
    ----------
    L : int or sympy.Expr
        Depth (``>= 2`` if a number).
    alpha, beta, gamma, x_sq, y_sq, kappa, eta : sympy.Expr or number
    l : sympy.Symbol or int, optional
        Position of the interior term; a fresh positive integer symbol ``l`` by default.

    Returns
    -------
    dict
        ``"first"`` (:math:`T_1`), ``"interior"`` (:math:`T_l`, meaningful for
        ``2 <= l <= L-1``, so only when ``L >= 3``), ``"last"`` (:math:`T_L`) and ``"l"``.

    Raises
    ------
    ValueError
        If ``L`` is a number that is not an integer ``>= 2``.
    """
    L = _check_depth(L)
    l = sp.Symbol("l", integer=True, positive=True) if l is None else sp.sympify(l)
    return {
        "first": x_sq * _b_sq(1, L, beta, gamma, eta),
        "interior": _a_sq(l - 1, alpha, beta, kappa) * _b_sq(l, L, beta, gamma, eta),
        "last": _a_sq(L - 1, alpha, beta, kappa) * y_sq,
        "l": l,
    }


def rational_semi_orthogonal(m: int, r: int, name: str = "t") -> tuple[sp.Matrix, tuple]:
    """An ``m x r`` matrix with orthonormal columns and rational entries in free parameters.

    The product of Givens rotations :math:`G_{ji}(t)` with the rational
    (Cayley) parametrization :math:`\\cos = (1 - t^2)/(1 + t^2)`,
    :math:`\\sin = 2t/(1 + t^2)`, one per pair ``j < i`` with ``j < r``,
    restricted to its first ``r`` columns. So :math:`U^\\top U = I_r`
    holds as an identity of rational functions, which sympy verifies exactly
    (no trigonometric simplification needed).

    Parameters
    ----------
    m, r : int
        ``1 <= r <= m <= 3`` (larger sizes make the exact check slow).
    name : str, optional
        Stem of the parameter names ``{name}1, {name}2, ...``.

    Returns
    -------
    U : sympy.Matrix, shape (m, r)
    params : tuple of sympy.Symbol
        The real parameters.

    Raises
    ------
    ValueError
        If ``m`` or ``r`` is not an integer with ``1 <= r <= m <= 3``, or ``name`` is empty.
    """
    m = _checks.integer(m, "m", 1, 3)
    r = _checks.integer(r, "r", 1, m)
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a nonempty string, got {name!r}")
    Q = sp.eye(m)
    params = []
    for j in range(min(r, m - 1)):
        for i in range(j + 1, m):
            t = sp.Symbol(f"{name}{len(params) + 1}", real=True)
            params.append(t)
            G = sp.eye(m)
            c, s = (1 - t**2) / (1 + t**2), 2 * t / (1 + t**2)
            G[j, j], G[i, i], G[j, i], G[i, j] = c, c, -s, s
            Q = Q * G
    return Q[:, :r], tuple(params)


@dataclass(frozen=True)
class GenericConstruction:
    """The construction built from generic symbolic matrices (see :func:`generic_construction`).

    Attributes
    ----------
    widths : tuple of int
        ``(d_0, ..., d_L)``.
    rank : int
        ``r``.
    X, Y : sympy.Matrix
        Generic ``d_0 x d_0`` and ``d_L x d_L`` symbol matrices.
    K, H : sympy.Matrix
        Generic ``d_0 x r`` and ``r x d_L`` symbol matrices standing for
        :math:`U \\Sigma^{1/2}` and :math:`\\Sigma^{1/2} V^\\top`.
    alpha, beta, gamma : sympy.Symbol
        Free positive symbols (the construction's values are not substituted).
    factors : tuple of sympy.polys.matrices.DomainMatrix
        ``W_1, ..., W_L`` over the field of rational functions in all symbols.
    """

    widths: tuple
    rank: int
    X: sp.Matrix
    Y: sp.Matrix
    K: sp.Matrix
    H: sp.Matrix
    alpha: sp.Symbol
    beta: sp.Symbol
    gamma: sp.Symbol
    factors: tuple


def _selector(rows: int, cols: int, r: int, field):
    from sympy.polys.matrices import DomainMatrix

    return DomainMatrix({k: {k: field.one} for k in range(r)}, (rows, cols), field)


def generic_construction(widths, rank: int) -> GenericConstruction:
    """The post's factors with generic symbolic ``X``, ``Y``, ``U Sigma^{1/2}``, ``Sigma^{1/2} V^T``.

    With :math:`E_i = (I_r \\;\\, 0) \\in \\mathbb R^{r \\times d_i}`, :math:`K = U \\Sigma^{1/2}`
    and :math:`H = \\Sigma^{1/2} V^\\top`,

    .. math::
        W_1 = \\alpha X^{-1} K E_1, \\\\
        W_i = \\beta E_{i-1}^\\top E_i \\;\\; (i = 2, \\dots, L-1), \\\\
        W_L = \\gamma E_{L-1}^\\top H Y^{-1},

    which is the block form of the construction (:math:`E_{i-1}^\\top E_i` is the
    :math:`d_{i-1} \\times d_i` matrix with :math:`I_r` in its top-left corner).
    ``X``, ``Y``, ``K``, ``H`` have independent symbols as entries, and
    ``alpha``, ``beta``, ``gamma`` are left free, so whatever
    :func:`verify_generic_construction` proves holds for all values. The
    arithmetic is exact, in sympy's field of rational functions (``DomainMatrix``).

    Parameters
    ----------
    widths : sequence of int
        ``(d_0, ..., d_L)``, depth ``2 <= L <= 12``, every ``d_i`` in ``1..4``.
    rank : int
        ``r >= 1`` with ``r <= d_i`` for every ``i`` (hidden widths at least the rank,
        and ``r <= min(d_0, d_L)``).

    Returns
    -------
    GenericConstruction

    Raises
    ------
    ValueError
        If ``widths`` is malformed, the depth or a width is out of range, or some
        ``d_i < rank``.
    """
    from sympy.polys.matrices import DomainMatrix

    try:
        d = tuple(_checks.integer(k, "every width d_i", 1, 4) for k in widths)
    except TypeError:
        raise ValueError(f"widths must be a sequence of integers (d_0, ..., d_L), got {widths!r}") from None
    if not 3 <= len(d) <= 13:
        raise ValueError(f"widths (d_0, ..., d_L) must describe a depth 2 <= L <= 12, got {len(d) - 1}")
    r = _checks.integer(rank, "rank", 1)
    for i, di in enumerate(d):
        if di < r:
            raise ValueError(f"width d_{i} = {di} is below the rank r = {r}: the construction needs every d_i >= r")
    L = len(d) - 1
    X = symbol_matrix("X", d[0], d[0])
    Y = symbol_matrix("Y", d[-1], d[-1])
    K = symbol_matrix("k", d[0], r)
    H = symbol_matrix("h", r, d[-1])
    alpha, beta, gamma = sp.symbols("alpha beta gamma", positive=True)
    gens = sorted(set().union(X.free_symbols, Y.free_symbols, K.free_symbols, H.free_symbols), key=str)
    field = sp.QQ.frac_field(*gens, alpha, beta, gamma)

    def dm(M):
        return DomainMatrix.from_Matrix(M).convert_to(field)

    a, b, g = (field.from_sympy(s) for s in (alpha, beta, gamma))
    first = dm(X).inv() * dm(K) * _selector(r, d[1], r, field) * a
    middle = [_selector(d[i - 1], r, r, field) * _selector(r, d[i], r, field) * b for i in range(2, L)]
    last = _selector(d[L - 1], r, r, field) * dm(H) * dm(Y).inv() * g
    return GenericConstruction(d, r, X, Y, K, H, alpha, beta, gamma, (first, *middle, last))


@dataclass(frozen=True)
class ConstructionCheck:
    """What :func:`verify_generic_construction` found, one flag per claim.

    Attributes
    ----------
    product : bool
        :math:`W_1 \\cdots W_L = \\alpha \\beta^{L-2} \\gamma \\, X^{-1} K H Y^{-1}`.
    left, right : tuple of bool
        For ``l = 1..L-1``: :math:`\\|X W_1 \\cdots W_l\\|_F^2 = a_l^2` and
        :math:`\\|W_{l+1} \\cdots W_L Y\\|_F^2 = b_l^2` as in
        :func:`construction_partial_norms` (with :math:`\\kappa = \\|K\\|_F^2`,
        :math:`\\eta = \\|H\\|_F^2`).
    terms : tuple of bool
        For ``l = 1..L``: :math:`T_l` equals the formula of :func:`construction_terms`.
    """

    product: bool
    left: tuple
    right: tuple
    terms: tuple

    @property
    def ok(self) -> bool:
        """All claims hold."""
        return self.product and all(self.left) and all(self.right) and all(self.terms)


def verify_generic_construction(gc: GenericConstruction) -> ConstructionCheck:
    """Check the structure of the construction exactly, for one depth and set of widths.

    Verifies, as identities of rational functions in all the symbols of
    :func:`generic_construction`,

    .. math::
        W_1 \\cdots W_L = \\alpha \\beta^{L-2} \\gamma \\; X^{-1} K H Y^{-1}, \\\\
        \\|X W_1 \\cdots W_l\\|_F^2 = a_l^2, \\\\ \\|W_{l+1} \\cdots W_L Y\\|_F^2 = b_l^2,

    and :math:`T_l = \\|X W_1 \\cdots W_{l-1}\\|_F^2 \\|W_{l+1} \\cdots W_L Y\\|_F^2` equal to
    :func:`construction_terms`, with :math:`\\kappa = \\|K\\|_F^2`, :math:`\\eta = \\|H\\|_F^2`.

    Parameters
    ----------
    gc : GenericConstruction

    Returns
    -------
    ConstructionCheck

    Raises
    ------
    ValueError
        If ``gc`` is not a :class:`GenericConstruction`.
    """
    from sympy.polys.matrices import DomainMatrix

    if not isinstance(gc, GenericConstruction):
        raise ValueError(f"gc must be a GenericConstruction, got {type(gc).__name__}")
    ws = gc.factors
    L = len(ws)
    field = ws[0].domain

    def dm(M):
        return DomainMatrix.from_Matrix(M).convert_to(field)

    def fro(M):
        return sum((e**2 for e in M.to_list_flat()), field.zero)

    def el(expr):
        return field.from_sympy(sp.sympify(expr))

    X, Y = dm(gc.X), dm(gc.Y)
    kappa_e, eta_e = frobenius_sq(gc.K), frobenius_sq(gc.H)
    a, b, g = gc.alpha, gc.beta, gc.gamma

    lefts = [DomainMatrix.eye(gc.widths[0], field)]  # lefts[l] = W_1 ... W_l
    for w in ws[:-1]:
        lefts.append(lefts[-1] * w)
    rights = [DomainMatrix.eye(gc.widths[-1], field)]  # built from the right: W_{l+1} ... W_L
    for w in reversed(ws[1:]):
        rights.append(w * rights[-1])
    rights.reverse()  # rights[l-1] = W_{l+1} ... W_L for l = 1..L
    product = lefts[-1] * ws[-1]
    target = dm(gc.X).inv() * dm(gc.K) * dm(gc.H) * dm(gc.Y).inv() * el(a * b ** (L - 2) * g)
    left_sq = [fro(X * A) for A in lefts]  # left_sq[l] = ||X W_1 ... W_l||_F^2
    right_sq = [fro(B * Y) for B in rights]  # right_sq[l-1] = ||W_{l+1} ... W_L Y||_F^2
    left_ok, right_ok = [], []
    for l in range(1, L):
        a_sq, b_sq = construction_partial_norms(l, L, a, b, g, kappa_e, eta_e)
        left_ok.append(left_sq[l] == el(a_sq))
        right_ok.append(right_sq[l - 1] == el(b_sq))
    formulas = construction_terms(L, a, b, g, frobenius_sq(gc.X), frobenius_sq(gc.Y), kappa_e, eta_e)
    terms_ok = []
    for l in range(1, L + 1):
        T = left_sq[l - 1] * right_sq[l - 1]
        if l == 1:
            f = formulas["first"]
        elif l == L:
            f = formulas["last"]
        else:
            f = formulas["interior"].subs(formulas["l"], l)
        terms_ok.append(T == el(f))
    return ConstructionCheck(bool((product - target).is_zero_matrix), tuple(left_ok), tuple(right_ok), tuple(terms_ok))


def whitening_identities(d0: int, dL: int) -> dict[str, tuple]:
    """The change of variables ``W' = X W~ Y`` and the whitened data, for generic symbolic matrices.

    With :math:`x' = X^{-\\top} x`, :math:`y' = Y^{-1} y` and :math:`W' = X \\tilde W Y`,

    .. math::
        x^\\top \\tilde W y &= (x^\\top X^{-1}) \\, W' \\, (Y^{-1} y), \\\\
        (x' x'^\\top) \\otimes (y' y'^\\top) &= (X^{-\\top} \\otimes Y^{-1})
            \\big((x x^\\top) \\otimes (y y^\\top)\\big) \\\\
            &\\qquad (X^{-1} \\otimes Y^{-\\top}),

        &(X^{-\\top} \\otimes Y^{-1}) \\big((X^\\top X) \\otimes (Y Y^\\top)\\big) (X^{-1} \\otimes Y^{-\\top}) \\\\
        &\\qquad = I_{d_0} \\otimes I_{d_L},

    so summing the second line over the data turns a moment that satisfies the
    Kronecker assumption with :math:`(X, Y)` into one that satisfies it with
    :math:`(I, I)`: the whitened data are isotropic.

    Parameters
    ----------
    d0, dL : int
        Sizes, each in ``1..3``.

    Returns
    -------
    dict
        ``"prediction"``, ``"sample"``, ``"moment"``: pairs ``(lhs, rhs)`` of the
        three identities (scalars or explicit matrices; their difference is
        zero after ``sympy.cancel`` entry by entry), and ``"symbols"``: the
        matrices ``X``, ``Y``, ``W``, ``x``, ``y`` used.

    Raises
    ------
    ValueError
        If ``d0`` or ``dL`` is not an integer in ``1..3``.
    """
    d0 = _checks.integer(d0, "d0", 1, 3)
    dL = _checks.integer(dL, "dL", 1, 3)
    X = symbol_matrix("X", d0, d0)
    Y = symbol_matrix("Y", dL, dL)
    W = symbol_matrix("w", d0, dL)
    x = symbol_matrix("x", d0, 1)
    y = symbol_matrix("y", dL, 1)
    Xi, Yi = X.inv(), Y.inv()
    Wp = X * W * Y
    prediction = ((x.T * W * y)[0, 0], (x.T * Xi * Wp * Yi * y)[0, 0])
    xp, yp = Xi.T * x, Yi * y
    left, right = _kron(Xi.T, Yi), _kron(Xi, Yi.T)
    sample = (_kron(xp * xp.T, yp * yp.T), left * _kron(x * x.T, y * y.T) * right)
    moment = (left * _kron(X.T * X, Y * Y.T) * right, sp.eye(d0 * dL))
    return {
        "prediction": prediction,
        "sample": sample,
        "moment": moment,
        "symbols": {"X": X, "Y": Y, "W": W, "x": x, "y": y},
    }
