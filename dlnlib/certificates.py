"""Certificates of the inequalities of the lower bound, checked exactly by sympy.

Each inequality ``f >= g`` used by the lower bound is proved by an identity
``f - g = (a sum of manifestly nonnegative terms)``:

- AM-GM in ``n`` variables, by Hurwitz's (1891) sum-of-squares certificate:
  :func:`hurwitz_certificate`, :func:`verify_amgm_certificate` (with
  :func:`symmetrize`, the sum over all permutations of the variables);
- Cauchy-Schwarz in ``R^m``, by Lagrange's identity: :func:`cauchy_schwarz_certificate`;
- :math:`\\|A\\|_F \\|B\\|_F \\ge \\|AB\\|_*` for 2 x 2 matrices, by a sum of two squares:
  :func:`frobenius_nuclear_certificate`, with the closed form :func:`nuclear_norm_2x2`.

The two identities are returned as :class:`~dlnlib.symbolic.Identity`; the
AM-GM certificate, which carries its bases and cofactors, as :class:`AMGMCertificate`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from itertools import permutations

import sympy as sp

from . import _checks
from .symbolic import Identity, frobenius_sq

__all__ = [
    "AMGMCertificate",
    "cauchy_schwarz_certificate",
    "frobenius_nuclear_certificate",
    "hurwitz_certificate",
    "nuclear_norm_2x2",
    "symmetrize",
    "verify_amgm_certificate",
]

# ---------------------------------------------------------------------------
# AM-GM: Hurwitz's sum-of-squares certificate
# ---------------------------------------------------------------------------


def symmetrize(expr, xs) -> sp.Poly:
    """Sum of ``expr`` over all ``n!`` permutations of the variables ``xs``.

    Book: equation :eq:`lb-hurwitz` in :doc:`/chapters/lower_bound`.

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

    Book: equation :eq:`lb-hurwitz` in :doc:`/chapters/lower_bound`.

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
        return [
            symmetrize(self.scale * b**2 * c, self.xs)
            for b, c in zip(self.bases, self.cofactors)
        ]

    def holds(self) -> bool:
        """Check the certificate exactly, as :func:`verify_amgm_certificate` does.

        Returns
        -------
        bool
            ``True`` iff the certificate proves AM-GM in ``n`` variables.
        """
        return verify_amgm_certificate(self)


def hurwitz_certificate(n: int) -> AMGMCertificate:
    """Hurwitz's (1891) sum-of-squares certificate of AM-GM for ``n`` variables.

    Book: equation :eq:`lb-hurwitz` in :doc:`/chapters/lower_bound`.

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
        geometric = sp.Add(
            *[xs[0] ** j * xs[1] ** (m - 1 - j) for j in range(m)]
        )
        bases.append(xs[0] - xs[1])
        cofactors.append(geometric * sp.Mul(*xs[2 : k + 1]))
    return AMGMCertificate(
        n,
        tuple(xs),
        gap,
        tuple(bases),
        tuple(cofactors),
        sp.Rational(1, 2 * math.factorial(n)),
    )


def verify_amgm_certificate(cert: AMGMCertificate) -> bool:
    """Check a certificate of AM-GM exactly.

    Book: equation :eq:`lb-hurwitz` in :doc:`/chapters/lower_bound`.

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
        raise ValueError(
            f"cert must be an AMGMCertificate, got {type(cert).__name__}"
        )
    if len(cert.bases) != len(cert.cofactors):
        raise ValueError(
            f"{len(cert.bases)} bases but {len(cert.cofactors)} cofactors"
        )
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
        if any(not (c.is_real and c >= 0) for c in pc.coeffs()) or not all(
            c.is_real for c in pb.coeffs()
        ):
            return False
        total += symmetrize(pb**2 * pc, xs)
    return (total * scale - sp.Poly(cert.gap, *xs)).is_zero


# ---------------------------------------------------------------------------
# Cauchy-Schwarz and the Frobenius / nuclear inequality
# ---------------------------------------------------------------------------


def cauchy_schwarz_certificate(m: int) -> Identity:
    """Lagrange's identity, the certificate of Cauchy-Schwarz in ``R^m``.

    Book: equation :eq:`lb-lagrange` in :doc:`/chapters/lower_bound`.

    .. math:: \\Big(\\sum_i u_i^2\\Big)\\Big(\\sum_i v_i^2\\Big) - \\Big(\\sum_i u_i v_i\\Big)^2
              = \\sum_{i < j} (u_i v_j - u_j v_i)^2

    Parameters
    ----------
    m : int
        Length of the vectors, ``1 <= m <= 12``.

    Returns
    -------
    Identity
        ``lhs`` the gap of Cauchy-Schwarz, ``rhs`` the sum of squares,
        ``symbols`` ``{"u": (u1, ..., um), "v": (v1, ..., vm)}`` (real symbols);
        :meth:`~dlnlib.symbolic.Identity.holds` expands the difference.

    Raises
    ------
    ValueError
        If ``m`` is not an integer in ``[1, 12]``.
    """
    m = _checks.integer(m, "m", 1, 12)
    u = sp.symbols(f"u1:{m + 1}", real=True)
    v = sp.symbols(f"v1:{m + 1}", real=True)
    gap = (
        sp.Add(*[a**2 for a in u]) * sp.Add(*[b**2 for b in v])
        - sp.Add(*[a * b for a, b in zip(u, v)]) ** 2
    )
    cert = sp.Add(
        *[
            (u[i] * v[j] - u[j] * v[i]) ** 2
            for i in range(m)
            for j in range(i + 1, m)
        ]
    )
    return Identity(
        f"Lagrange (m = {m}): (sum u_i^2)(sum v_i^2) - (sum u_i v_i)^2 = sum_(i<j) (u_i v_j - u_j v_i)^2",
        gap,
        cert,
        {"u": u, "v": v},
    )


def nuclear_norm_2x2(M) -> sp.Expr:
    """Nuclear norm of a 2 x 2 matrix in closed form.

    Book: equation :eq:`lb-nuc2` in :doc:`/chapters/lower_bound`.

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
        raise ValueError(
            f"M must be an explicit 2 x 2 sympy Matrix, got {getattr(M, 'shape', type(M).__name__)}"
        )
    return sp.sqrt(frobenius_sq(M) + 2 * sp.Abs(M.det()))


def frobenius_nuclear_certificate(A, B, sign: int) -> Identity:
    """Sum-of-squares certificate of ``||A||_F^2 ||B||_F^2 >= ||AB||_*^2`` for 2 x 2 matrices.

    Book: equation :eq:`lb-cert2` in :doc:`/chapters/lower_bound`.

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
    Identity
        ``lhs`` the gap :math:`\\|A\\|_F^2 \\|B\\|_F^2 - \\|AB\\|_F^2 - 2 s \\det A \\det B`,
        ``rhs`` the sum of two squares, ``symbols`` ``{"A": A, "B": B}``.

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
    gap = (
        frobenius_sq(A) * frobenius_sq(B)
        - frobenius_sq(A * B)
        - 2 * sign * A.det() * B.det()
    )
    cert = (C[0, 0] - sign * C[1, 1]) ** 2 + (C[0, 1] + sign * C[1, 0]) ** 2
    minus, plus = ("-", "+") if sign == 1 else ("+", "-")
    return Identity(
        f"||A||_F^2 ||B||_F^2 - ||AB||_F^2 {minus} 2 det A det B = (c11 {minus} c22)^2 + (c12 {plus} c21)^2"
        " with C = A J B",
        gap,
        cert,
        {"A": A, "B": B},
    )
