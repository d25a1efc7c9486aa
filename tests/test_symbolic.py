"""Tests for dlnlib.symbolic: the shared helpers and the Identity result type; that it is no longer
a facade (it exposes none of the checks and imports none of their modules, so the package has no
import cycle); and the Identity results of the checks the former deprecated aliases wrapped.

The checks themselves are tested per family: test_certificates.py, test_symbolic_bound.py,
test_symbolic_kronecker.py and test_symbolic_construction.py.
"""

import ast
import dataclasses
import importlib
import pkgutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import dlnlib
from dlnlib import (
    certificates,
    symbolic_bound,
    symbolic_construction,
    symbolic_kronecker,
)
from dlnlib import symbolic as S
from dlnlib.symbolic import Identity

# --- helpers ----------------------------------------------------------------------------------


def test_symbol_matrix_and_frobenius_sq():
    M = S.symbol_matrix("M", 2, 3)
    assert M.shape == (2, 3) and str(M[1, 2]) == "M_23" and M[0, 0].is_real
    assert sp.expand(S.frobenius_sq(M) - sum(e**2 for e in M)) == 0


def test_kron_matches_numpy():
    rng = np.random.default_rng(1)
    P = rng.integers(-3, 4, size=(2, 3))
    Q = rng.integers(-3, 4, size=(3, 2))
    assert np.array_equal(
        np.array(S.kron(sp.Matrix(P), sp.Matrix(Q)), dtype=int), np.kron(P, Q)
    )
    with pytest.raises(ValueError):
        S.kron(P, sp.Matrix(Q))


def test_equal_positive():
    x, y = sp.symbols("x y", positive=True)
    assert S.equal_positive((x**2 * y**2) ** sp.Rational(1, 2), x * y)
    assert not S.equal_positive((x**2 * y**2) ** sp.Rational(1, 2), x * y**2)


@pytest.mark.parametrize(
    "call",
    [
        lambda: S.symbol_matrix("", 2, 2),
        lambda: S.symbol_matrix("M", 0, 2),
        lambda: S.frobenius_sq([[1, 2]]),
        lambda: S.equal_positive(1, sp.Integer(1)),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


# --- Identity ---------------------------------------------------------------------------------


def test_identity_holds_by_each_method():
    a, b = sp.symbols("a b", real=True)
    square = Identity(
        "(a + b)^2 = a^2 + 2ab + b^2",
        (a + b) ** 2,
        a**2 + 2 * a * b + b**2,
        {"a": a, "b": b},
    )
    assert (
        square.holds()
        and not dataclasses.replace(square, rhs=a**2 + b**2).holds()
    )
    assert sp.expand(square.difference()) == 0
    ratio = Identity("a/(a b) = 1/b", a / (a * b), 1 / b, {}, method="cancel")
    assert ratio.holds()
    p = sp.Symbol("p", positive=True)
    power = Identity(
        "(p^4)^(1/2) = p^2",
        (p**4) ** sp.Rational(1, 2),
        p**2,
        {"p": p},
        method="positive",
    )
    assert power.holds() and not dataclasses.replace(power, rhs=p**3).holds()
    M = S.symbol_matrix("m", 2, 2)
    inverse = Identity(
        "M M^-1 = I", M * M.inv(), sp.eye(2), {"M": M}, method="cancel"
    )
    assert (
        inverse.holds()
        and not dataclasses.replace(inverse, rhs=2 * sp.eye(2)).holds()
    )
    assert (
        repr(square)
        == "Identity(statement='(a + b)^2 = a^2 + 2ab + b^2', method='expand')"
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(lhs=sp.Integer(1), rhs=sp.Integer(1), method="simplify"),
            "method must be one of",
        ),
        (
            dict(lhs=1, rhs=sp.Integer(1)),
            "lhs must be a sympy expression or matrix, got int",
        ),
        (
            dict(lhs=sp.eye(2), rhs=sp.Integer(1)),
            "lhs and rhs must both be matrices or both be scalars",
        ),
        (
            dict(lhs=sp.eye(2), rhs=sp.eye(3)),
            "lhs has shape (2, 2) but rhs has shape (3, 3)",
        ),
        (
            dict(lhs=sp.eye(2), rhs=sp.eye(2), method="positive"),
            "method 'positive' compares scalars",
        ),
    ],
)
def test_identity_rejects_malformed_input(kwargs, message):
    with pytest.raises(ValueError) as info:
        Identity("bad", symbols={}, **kwargs)
    assert str(info.value).startswith(message)


# --- no facade, no import cycle ---------------------------------------------------------------

#: The modules of the checks, which import dlnlib.symbolic (so it must not import them).
FAMILIES = (
    "certificates",
    "symbolic_bound",
    "symbolic_kronecker",
    "symbolic_construction",
)
#: The names the facade used to add: the former name of SymbolicConstructionScales and the six
#: deprecated aliases with the old tuple and dict return conventions.
REMOVED = (
    "ConstructionScalars",
    "exponent_collapse",
    "frobenius_nuclear_certificate_2x2",
    "kron_trace_identity",
    "lagrange_identity",
    "rearrangement_identity",
    "whitening_identities",
)


def _imported_modules(path: Path) -> set[str]:
    """The modules of dlnlib that the source file imports (anywhere in it, lazily or not)."""
    names = {m.name for m in pkgutil.iter_modules(dlnlib.__path__)}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {
                a.name.split(".")[1]
                for a in node.names
                if a.name.startswith("dlnlib.")
            }
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and module.split(".")[0] != "dlnlib":
                continue
            parts = (
                module.split(".")[1:] if node.level == 0 else module.split(".")
            )
            if parts and parts[0]:
                found.add(parts[0])
            else:  # from . import x / from dlnlib import x
                found |= {a.name for a in node.names if a.name in names}
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "import_module"
        ):
            found.add("<dynamic>")
    return found & (names | {"<dynamic>"})


def test_symbolic_is_no_facade_and_the_package_has_no_import_cycle():
    assert sorted(S.__all__) == [
        "Identity",
        "equal_positive",
        "frobenius_sq",
        "kron",
        "symbol_matrix",
    ]
    moved = [
        name
        for module in FAMILIES
        for name in importlib.import_module(f"dlnlib.{module}").__all__
    ]
    assert moved
    exposed = [name for name in (*moved, *REMOVED) if hasattr(S, name)]
    assert not exposed, f"dlnlib.symbolic still exposes {exposed}"

    # dlnlib/symbolic.py imports none of the family modules, not even lazily
    imports = _imported_modules(Path(S.__file__))
    assert imports == {"_checks"}, imports
    # and the import graph of the whole package is acyclic
    graph = {
        path.stem: _imported_modules(path) - {"<dynamic>"}
        for path in Path(dlnlib.__file__).parent.glob("*.py")
        if path.stem != "__init__"
    }
    # (the parse does see the family modules' imports of dlnlib.symbolic)
    assert all("symbolic" in graph[m] for m in FAMILIES)
    done, visiting = set(), []

    def visit(module):
        assert module not in visiting, (
            f"import cycle: {' -> '.join(visiting + [module])}"
        )
        if module not in done:
            visiting.append(module)
            for dep in sorted(graph.get(module, ())):
                visit(dep)
            visiting.pop()
            done.add(module)

    for module in sorted(graph):
        visit(module)

    # each module imports in a fresh interpreter, on its own (this copy of dlnlib)
    modules = sorted(m.name for m in pkgutil.iter_modules(dlnlib.__path__))
    root = Path(dlnlib.__file__).resolve().parents[1]
    runs = {
        m: subprocess.Popen(
            [sys.executable, "-c", f"import dlnlib.{m}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        for m in modules
    }
    failed = {}
    for m, run in runs.items():
        _, err = run.communicate(timeout=120)
        if run.returncode:
            failed[m] = err.strip().splitlines()[-1:]
    assert not failed, failed


# --- the checks the former aliases wrapped: Identity results, no warning ---------------------


def test_the_checks_behind_the_former_aliases_hold_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter(
            "error"
        )  # the chapters call these: a warning would show in their outputs
        cs = certificates.cauchy_schwarz_certificate(3)
        assert sp.expand(cs.lhs - cs.rhs) == 0
        assert len(cs.symbols["u"]) == len(cs.symbols["v"]) == 3

        A, B = S.symbol_matrix("A", 2, 2), S.symbol_matrix("B", 2, 2)
        fn = certificates.frobenius_nuclear_certificate(A, B, -1)
        assert sp.expand(fn.lhs - fn.rhs) == 0

        rearranged = symbolic_bound.geometric_mean_rearrangement(4)
        a, b = rearranged.symbols["a"], rearranged.symbols["b"]
        assert S.equal_positive(rearranged.lhs, rearranged.rhs)
        assert len(a) == len(b) == 4

        collapsed = symbolic_bound.collapsed_exponents()
        sym = collapsed.symbols
        assert S.equal_positive(collapsed.lhs, collapsed.rhs)
        assert set(sym) == {"L", "x", "y", "nu", "l"}
        assert (sym["L"], sym["x"], sym["y"], sym["nu"]) == tuple(
            getattr(symbolic_construction.construction_scalars(), k)
            for k in ("L", "x", "y", "nu")
        )

        data = symbolic_kronecker.regularizer_trace(2, 2, 3, 2, n=2)
        factored = symbolic_kronecker.kronecker_trace_factorization(2, 2, 3, 2)
        assert {"A", "B", "xs", "ys"} <= set(data.symbols)
        assert {"X", "Y"} <= set(factored.symbols)
        assert sp.expand(data.lhs - data.rhs) == 0
        assert sp.expand(factored.lhs - factored.rhs) == 0
        assert sp.expand(data.rhs - factored.rhs) != 0

        # small: the identities themselves are tested in test_symbolic_kronecker
        prediction = symbolic_kronecker.whitened_prediction(2, 1)
        assert set(prediction.symbols) == {"X", "Y", "W", "x", "y"}
        assert sp.cancel(prediction.lhs - prediction.rhs) == 0
        for make in (
            symbolic_kronecker.whitened_sample,
            symbolic_kronecker.whitened_moment,
        ):
            ident = make(2, 1)
            assert (
                (ident.lhs - ident.rhs).applyfunc(sp.cancel).is_zero_matrix
            ), make.__name__


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: certificates.cauchy_schwarz_certificate(0),
            "m must be an integer >= 1, got 0",
        ),
        (
            lambda: certificates.frobenius_nuclear_certificate(
                sp.eye(2), sp.eye(2), 0
            ),
            "sign must be +1 or -1, got 0",
        ),
        (
            lambda: symbolic_bound.geometric_mean_rearrangement(1),
            "L must be an integer >= 2, got 1",
        ),
        (
            lambda: symbolic_kronecker.regularizer_trace(1, 1, 1, 1, 4),
            "n must be at most 3, got 4",
        ),
        (
            lambda: symbolic_kronecker.regularizer_trace(2, 2, 2, 4),
            "dL must be at most 3, got 4",
        ),
        (
            lambda: symbolic_kronecker.whitened_prediction(0, 2),
            "d0 must be an integer >= 1, got 0",
        ),
    ],
)
def test_the_checks_behind_the_former_aliases_keep_their_errors(call, message):
    with pytest.raises(ValueError) as info:
        call()
    assert str(info.value) == message
