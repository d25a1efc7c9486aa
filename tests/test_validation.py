"""Every validation of dlnlib at its boundary, with the message of every error matched.

For each check the last accepted value must pass and the first rejected value
must raise a ``ValueError`` (or ``FloatingPointError``) whose message names
the problem: a test that only asks for "some ValueError" passes when a
different check, further down, happens to raise (a mutation test found
exactly that). Messages are matched literally (``re.escape``) unless a
pattern is needed.

Only public functions are called, so a refactor of the private helpers does
not break these tests.
"""

import re
import warnings

import numpy as np
import pytest
import sympy as sp

import dlnlib
from dlnlib import book, descent
from dlnlib import certificates as C
from dlnlib import symbolic as S
from dlnlib import symbolic_bound as SB
from dlnlib import symbolic_construction as SC
from dlnlib import symbolic_kronecker as K
from dlnlib.construction import (
    balanced_factorization,
    gauge_transform,
    numerical_rank,
    random_factorization,
)
from dlnlib.depth_two import (
    depth_two_factorization,
    depth_two_minimum,
    depth_two_moments,
)
from dlnlib.drift import normal_space, predicted_drift, tangent_gradient
from dlnlib.network import flatten, jacobian, jacobian_derivative, unflatten
from dlnlib.problems import (
    completion_from_pattern,
    gaussian_sensing,
    matrix_completion,
)
from dlnlib.regularizer import regularizer_gradient

EPS = np.finfo(float).eps


def lit(message):
    """A literal message as a ``match`` pattern."""
    return re.escape(message)


def check_boundary(accepted, rejected, message, error=ValueError):
    """``accepted()`` returns, ``rejected()`` raises ``error`` matching ``message``."""
    accepted()
    with pytest.raises(error, match=message):
        rejected()


W2 = [
    np.ones((3, 4)),
    np.ones((4, 2)),
]  # a valid depth-2 network, d_0 = 3, d_L = 2
XS, YS = np.ones((5, 3)), np.ones((5, 2))


# --- _checks.finite_array, through the public functions --------------------------------------


@pytest.mark.parametrize(
    "accepted, rejected, message",
    [
        # real numeric arrays
        (
            lambda: dlnlib.predict(W2, XS, YS),
            lambda: dlnlib.predict(W2, [["a", "b", "c"]] * 5, YS),
            r"xs must be a real numeric array \(",
        ),
        (
            lambda: dlnlib.end_to_end(W2),
            lambda: dlnlib.end_to_end([[["a"]], [[1.0]]]),
            lit("weights[0] (W_1) must be a real numeric array ("),
        ),
        # exact rank: 2-d accepted, 1-d and 3-d rejected
        (
            lambda: dlnlib.predict(W2, XS, YS),
            lambda: dlnlib.predict(W2, np.ones(3), YS),
            lit("xs must be 2-dimensional, got shape (3,)"),
        ),
        (
            lambda: dlnlib.predict(W2, XS, YS),
            lambda: dlnlib.predict(W2, XS, np.ones((1, 5, 2))),
            lit("ys must be 2-dimensional, got shape (1, 5, 2)"),
        ),
        # minimum rank: a 1 x 1 matrix is accepted, a vector is not
        (
            lambda: dlnlib.nuclear_norm(np.ones((1, 1))),
            lambda: dlnlib.nuclear_norm(np.ones(3)),
            lit("M must have at least 2 dimensions, got shape (3,)"),
        ),
        (
            lambda: dlnlib.end_to_end([np.ones((1, 1)), np.ones((1, 1))]),
            lambda: dlnlib.end_to_end([np.ones(3), np.ones((3, 2))]),
            lit(
                "weights[0] (W_1) must have at least 2 dimensions, got shape (3,)"
            ),
        ),
        # finite: the largest float is accepted, inf, -inf and NaN are not
        (
            lambda: dlnlib.predict(
                W2, np.full((5, 3), np.finfo(float).max), YS
            ),
            lambda: dlnlib.predict(W2, np.full((5, 3), np.inf), YS),
            lit("xs contains NaN or infinite entries"),
        ),
        (
            lambda: dlnlib.predict(
                W2, XS, np.full((5, 2), -np.finfo(float).max)
            ),
            lambda: dlnlib.predict(W2, XS, np.full((5, 2), -np.inf)),
            lit("ys contains NaN or infinite entries"),
        ),
        (
            lambda: dlnlib.end_to_end(W2),
            lambda: dlnlib.end_to_end([W2[0], np.full((4, 2), np.nan)]),
            lit("weights[1] (W_2) contains NaN or infinite entries"),
        ),
    ],
)
def test_finite_array(accepted, rejected, message):
    check_boundary(accepted, rejected, message)


def test_finite_array_rejects_one_bad_entry_among_good_ones():
    xs = XS.copy()
    xs[4, 2] = np.nan
    with pytest.raises(
        ValueError, match=lit("xs contains NaN or infinite entries")
    ):
        dlnlib.predict(W2, xs, YS)


# --- _checks.integer ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [1, 0, -3, 2.5, True, "2", None, np.nan])
def test_integer_lower_bound_and_type(bad):
    W, X, Y = np.ones((3, 2)), np.eye(3), np.eye(2)
    assert dlnlib.lower_bound(W, X, Y, 2) == pytest.approx(
        2 * np.sqrt(6) * np.sqrt(6)
    )
    with pytest.raises(
        ValueError, match=lit(f"depth L must be an integer >= 2, got {bad!r}")
    ):
        dlnlib.lower_bound(W, X, Y, bad)


@pytest.mark.parametrize("good", [2, 2.0, np.int64(2), np.float64(3.0), 7])
def test_integer_accepts_integral_numbers(good):
    W, X, Y = np.ones((3, 2)), np.eye(3), np.eye(2)
    assert dlnlib.lower_bound(W, X, Y, good) == dlnlib.lower_bound(
        W, X, Y, int(good)
    )


def test_integer_rejects_booleans_even_where_their_value_is_in_range():
    check_boundary(
        lambda: C.cauchy_schwarz_certificate(1),
        lambda: C.cauchy_schwarz_certificate(True),
        lit("m must be an integer >= 1, got True"),
    )
    xs, ys = np.eye(2)[[0, 0, 1, 1]], np.eye(2)[[0, 1, 0, 1]]
    check_boundary(
        lambda: depth_two_factorization(np.eye(2), xs, ys, 2),
        lambda: depth_two_factorization(
            np.outer([1.0, 0.0], [0.0, 1.0]), xs, ys, True
        ),
        lit("width d_1 must be an integer >= 1, got True"),
    )


def test_integer_upper_bound():
    check_boundary(
        lambda: C.hurwitz_certificate(8),
        lambda: C.hurwitz_certificate(9),
        lit("n must be at most 8, got 9"),
    )
    check_boundary(
        lambda: C.hurwitz_certificate(2),
        lambda: C.hurwitz_certificate(1),
        lit("n must be an integer >= 2, got 1"),
    )


# --- _checks.weight_list ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accepted, rejected, message",
    [
        (
            lambda: dlnlib.end_to_end(tuple(W2)),
            lambda: dlnlib.end_to_end(np.ones((2, 3, 3))),
            lit("weights must be a list of matrices W_1, ..., W_L"),
        ),
        (
            lambda: dlnlib.end_to_end(W2),
            lambda: dlnlib.end_to_end(w for w in W2),
            lit("weights must be a list of matrices W_1, ..., W_L"),
        ),
        (
            lambda: dlnlib.end_to_end([np.ones((3, 3))] * 2),
            lambda: dlnlib.end_to_end([np.ones((3, 3))]),
            lit("depth L = len(weights) must be at least 2, got 1"),
        ),
        (
            lambda: dlnlib.end_to_end([np.ones((3, 3))] * 2),
            lambda: dlnlib.end_to_end([]),
            lit("depth L = len(weights) must be at least 2, got 0"),
        ),
        (
            lambda: dlnlib.end_to_end([np.ones((2, 3, 3))] * 2),
            lambda: dlnlib.end_to_end(
                [np.ones((2, 3, 3)), np.ones((3, 3, 3))]
            ),
            lit(
                "weights[1] has leading (batch) shape (3,), expected (2,) like weights[0]"
            ),
        ),
        (
            lambda: dlnlib.end_to_end(
                [np.ones((3, 3)), np.ones((3, 3)), np.ones((3, 3))]
            ),
            lambda: dlnlib.end_to_end(
                [np.ones((3, 3)), np.ones((3, 3)), np.ones((1, 3, 3))]
            ),
            lit(
                "weights[2] has leading (batch) shape (1,), expected () like weights[0]"
            ),
        ),
        # width 1 is the narrowest layer; width 0 is empty
        (
            lambda: dlnlib.end_to_end([np.ones((2, 1)), np.ones((1, 2))]),
            lambda: dlnlib.end_to_end([np.ones((2, 0)), np.ones((0, 2))]),
            lit("weights[0] has an empty dimension: shape (2, 0)"),
        ),
        (
            lambda: dlnlib.end_to_end([np.ones((1, 2)), np.ones((2, 1))]),
            lambda: dlnlib.end_to_end([np.ones((0, 2)), np.ones((2, 1))]),
            lit("weights[0] has an empty dimension: shape (0, 2)"),
        ),
        (
            lambda: dlnlib.end_to_end(
                [np.ones((3, 4)), np.ones((4, 5)), np.ones((5, 2))]
            ),
            lambda: dlnlib.end_to_end(
                [np.ones((3, 4)), np.ones((4, 5)), np.ones((6, 2))]
            ),
            lit(
                "weights[1] has shape (4, 5) but weights[2] has shape (6, 2): W_2 W_3 is undefined (5 != 6)"
            ),
        ),
    ],
)
def test_weight_list(accepted, rejected, message):
    check_boundary(accepted, rejected, message)


# --- _checks.dims_tuple -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "good, bad, message",
    [
        (
            (2, 3, 4),
            ("a", 3, 4),
            lit(
                "dims must be a sequence of integers (d_0, ..., d_L), got ('a', 3, 4)"
            ),
        ),
        (
            (2, 3, 4),
            5,
            lit("dims must be a sequence of integers (d_0, ..., d_L), got 5"),
        ),
        (
            (2, 3.0, 4),
            (2, 3.5, 4),
            lit("dims must be integers, got (2, 3.5, 4)"),
        ),
        (
            (2, 3, 4),
            (2, 3),
            lit(
                "dims = (d_0, ..., d_L) needs depth L >= 2, i.e. at least 3 entries, got (2, 3)"
            ),
        ),
        (
            (1, 1, 1),
            (1, 0, 1),
            lit("every dimension must be positive, got dims = (1, 0, 1)"),
        ),
        (
            (1, 1, 1),
            (0, 1, 1),
            lit("every dimension must be positive, got dims = (0, 1, 1)"),
        ),
        (
            (1, 1, 1),
            (1, 1, -1),
            lit("every dimension must be positive, got dims = (1, 1, -1)"),
        ),
    ],
)
def test_dims_tuple(good, bad, message):
    d = [int(k) for k in good]
    check_boundary(
        lambda: dlnlib.descent.init_weights(good),
        lambda: dlnlib.descent.init_weights(bad),
        message,
    )
    p = sum(a * b for a, b in zip(d[:-1], d[1:]))
    check_boundary(
        lambda: unflatten(np.zeros(p), good),
        lambda: unflatten(np.zeros(p), bad),
        message,
    )


@pytest.mark.parametrize("d0, dL", [(3, 3), (2, 4), (4, 2)])
def test_label_noise_sgd_hidden_width_boundary(d0, dL):
    """Every hidden width must be at least min(d_0, d_L): equal is accepted, one less is not."""
    pb = gaussian_sensing(8, d0, dL, 1, seed=0)
    m = min(d0, dL)
    for dims in [(d0, m, dL), (d0, m, m, dL), (d0, m + 1, m, dL)]:
        run_sgd(pb, dims=dims)
    for i, dims in [
        (1, (d0, m - 1, dL)),
        (2, (d0, m, m - 1, dL)),
        (1, (d0, m - 1, m + 1, dL)),
    ]:
        message = (
            f"hidden width d_{i} = {m - 1} is below {m} = min(d_0, d_L): the network could not "
            "represent every end-to-end matrix"
        )
        with pytest.raises(ValueError, match=lit(message)):
            run_sgd(pb, dims=dims)


# --- _checks.data_pair --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accepted, rejected, message",
    [
        (
            lambda: dlnlib.predict(W2, XS, YS),
            lambda: dlnlib.predict(W2, XS, np.ones((4, 2))),
            lit("xs and ys must have the same number of rows n, got 5 and 4"),
        ),
        (
            lambda: dlnlib.predict(W2, XS[:1], YS[:1]),
            lambda: dlnlib.predict(W2, XS[:0], YS[:0]),
            lit("xs and ys hold no samples (n = 0)"),
        ),
        (
            lambda: dlnlib.predict(W2, XS, YS),
            lambda: dlnlib.predict(W2, np.ones((5, 2)), YS),
            lit(
                "xs has 2 columns but the network's input dimension is d_0 = 3"
            ),
        ),
        (
            lambda: dlnlib.predict(W2, XS, YS),
            lambda: dlnlib.predict(W2, np.ones((5, 4)), YS),
            lit(
                "xs has 4 columns but the network's input dimension is d_0 = 3"
            ),
        ),
        (
            lambda: dlnlib.predict(W2, XS, YS),
            lambda: dlnlib.predict(W2, XS, np.ones((5, 3))),
            lit(
                "ys has 3 columns but the network's output dimension is d_L = 2"
            ),
        ),
        (
            lambda: dlnlib.regularizer(W2, XS, YS),
            lambda: dlnlib.regularizer(W2, XS, np.ones((5, 1))),
            lit(
                "ys has 1 columns but the network's output dimension is d_L = 2"
            ),
        ),
        (
            lambda: dlnlib.regularizer_terms(W2, XS, YS),
            lambda: dlnlib.regularizer_terms(W2, np.ones((5, 1)), YS),
            lit(
                "xs has 1 columns but the network's input dimension is d_0 = 3"
            ),
        ),
        (
            lambda: dlnlib.second_moment(XS, YS),
            lambda: dlnlib.second_moment(XS, YS[:3]),
            lit("xs and ys must have the same number of rows n, got 5 and 3"),
        ),
        (
            lambda: depth_two_moments(XS, YS),
            lambda: depth_two_moments(XS[:0], YS[:0]),
            lit("xs and ys hold no samples (n = 0)"),
        ),
    ],
)
def test_data_pair(accepted, rejected, message):
    check_boundary(accepted, rejected, message)


# --- _checks.square_matrix and invertible --------------------------------------------------------


@pytest.mark.parametrize(
    "accepted, rejected, message",
    [
        (
            lambda: dlnlib.regularizer_kron(W2, np.eye(3), np.eye(2)),
            lambda: dlnlib.regularizer_kron(W2, np.ones((3, 2)), np.eye(2)),
            lit("X must be square, got shape (3, 2)"),
        ),
        (
            lambda: dlnlib.regularizer_kron(W2, np.eye(3), np.eye(2)),
            lambda: dlnlib.regularizer_kron(W2, np.eye(4), np.eye(2)),
            lit("X must be 3 x 3 to match the network, got shape (4, 4)"),
        ),
        (
            lambda: dlnlib.regularizer_kron_terms(W2, np.eye(3), np.eye(2)),
            lambda: dlnlib.regularizer_kron_terms(W2, np.eye(3), np.eye(1)),
            lit("Y must be 2 x 2 to match the network, got shape (1, 1)"),
        ),
        (
            lambda: dlnlib.lower_bound(
                np.ones((3, 2)), np.eye(3), np.eye(2), 2
            ),
            lambda: dlnlib.lower_bound(
                np.ones((3, 2)), np.eye(3), np.eye(3), 2
            ),
            lit("Y must be 2 x 2 to match the network, got shape (3, 3)"),
        ),
        (
            lambda: dlnlib.product_design(np.eye(2), np.eye(3)),
            lambda: dlnlib.product_design(np.eye(2), np.ones((3, 2))),
            lit("Y must be square, got shape (3, 2)"),
        ),
        (
            lambda: dlnlib.product_design(np.eye(2), np.eye(3)),
            lambda: dlnlib.product_design(np.ones(2), np.eye(3)),
            lit("X must be 2-dimensional, got shape (2,)"),
        ),
    ],
)
def test_square_matrix(accepted, rejected, message):
    check_boundary(accepted, rejected, message)


def diag_with_condition(top):
    """diag(top, 1): its condition number is exactly ``top`` (checked)."""
    M = np.diag([float(top), 1.0])
    s = np.linalg.svd(M, compute_uv=False)
    assert s[0] == top and s[-1] == 1.0
    return M


LAST_INVERTIBLE = diag_with_condition(
    1e10 - 1
)  # condition number just below 1e10
FIRST_SINGULAR = diag_with_condition(
    1e10
)  # condition number exactly 1e10: rejected


@pytest.mark.parametrize("name", ["X", "Y"])
def test_invertible_condition_boundary(name):
    W = np.array([[1.0, 2.0], [3.0, 4.0]])

    def call(M, which):
        X, Y = (M, np.eye(2)) if which == "X" else (np.eye(2), M)
        return [
            dlnlib.construction_scales(W, X, Y, 3),
            dlnlib.optimal_factorization(W, X, Y, (2, 2, 2)),
        ]

    call(LAST_INVERTIBLE, name)
    for M, cond in [
        (FIRST_SINGULAR, "1e+10"),
        (diag_with_condition(1e11), "1e+11"),
        (np.diag([1.0, 0.0]), "inf"),
        (np.zeros((2, 2)), "inf"),
    ]:
        message = (
            f"{name} is singular or badly conditioned (condition number {cond} > 1e+10); "
            "the construction needs its inverse"
        )
        with pytest.raises(ValueError, match=lit(message)):
            dlnlib.construction_scales(
                W, *((M, np.eye(2)) if name == "X" else (np.eye(2), M)), 3
            )
        with pytest.raises(ValueError, match=lit(message)):
            dlnlib.optimal_factorization(
                W,
                *((M, np.eye(2)) if name == "X" else (np.eye(2), M)),
                (2, 2, 2),
            )


def test_invertible_also_checks_shape():
    with pytest.raises(
        ValueError,
        match=lit("X must be 2 x 2 to match the network, got shape (3, 3)"),
    ):
        dlnlib.construction_scales(np.ones((2, 2)), np.eye(3), np.eye(2), 2)
    with pytest.raises(
        ValueError, match=lit("Y must be square, got shape (2, 3)")
    ):
        dlnlib.optimal_factorization(
            np.ones((2, 2)), np.eye(2), np.ones((2, 3)), (2, 2, 2)
        )


# --- _checks.numerical_rank (public in dlnlib.construction) --------------------------------------


def test_numerical_rank_threshold():
    # tol = sigma_max * max(shape) * eps; a singular value equal to tol does not count
    for shape in [(3, 3), (2, 5), (5, 2)]:
        tol = 2.0 * max(shape) * EPS
        assert numerical_rank(np.array([2.0, tol]), shape) == 1
        assert (
            numerical_rank(np.array([2.0, np.nextafter(tol, 1.0)]), shape) == 2
        )
    assert (
        numerical_rank(np.array([2.0, 3 * EPS]), (2, 5)) == 1
    )  # max(shape), not min(shape)
    assert numerical_rank(np.array([0.0, 0.0]), (2, 2)) == 0
    assert numerical_rank(np.array([]), (0, 3)) == 0
    assert (
        numerical_rank(np.array([1e-300]), (1, 1)) == 1
    )  # relative, not absolute


# --- network --------------------------------------------------------------------------------------


def test_single_network_functions_reject_a_batch_axis():
    stacked = [np.ones((2, 3, 4)), np.ones((2, 4, 2))]
    x, y = np.ones(3), np.ones(2)
    dlnlib.layer_gradients(W2, x, y)
    with pytest.raises(
        ValueError,
        match=lit(
            "layer_gradients takes a single network: weights must be 2-dimensional matrices"
        ),
    ):
        dlnlib.layer_gradients(stacked, x, y)
    for name, call in [
        ("flatten", lambda ws: flatten(ws)),
        ("jacobian", lambda ws: jacobian(ws, XS, YS)),
        (
            "jacobian_derivative",
            lambda ws: jacobian_derivative(
                ws, XS, YS, np.zeros(20), np.zeros(5)
            ),
        ),
    ]:
        call(W2)
        with pytest.raises(
            ValueError,
            match=lit(
                f"{name} takes a single network: weights must be 2-dimensional"
            ),
        ):
            call(stacked)
    regularizer_gradient(W2, XS, YS)
    with pytest.raises(
        ValueError,
        match=lit(
            "regularizer_gradient takes a single network: weights must be 2-dimensional matrices"
        ),
    ):
        regularizer_gradient(stacked, XS, YS)


def test_layer_gradients_checks_the_vectors():
    x, y = np.ones(3), np.ones(2)
    with pytest.raises(
        ValueError, match=lit("x must be 1-dimensional, got shape (1, 3)")
    ):
        dlnlib.layer_gradients(W2, x[None], y)
    with pytest.raises(
        ValueError, match=lit("y must be 1-dimensional, got shape ()")
    ):
        dlnlib.layer_gradients(W2, x, 1.0)
    with pytest.raises(
        ValueError,
        match=lit(
            "xs has 4 columns but the network's input dimension is d_0 = 3"
        ),
    ):
        dlnlib.layer_gradients(W2, np.ones(4), y)
    with pytest.raises(
        ValueError,
        match=lit(
            "ys has 3 columns but the network's output dimension is d_L = 2"
        ),
    ):
        dlnlib.layer_gradients(W2, x, np.ones(3))
    with pytest.raises(
        ValueError, match=lit("y contains NaN or infinite entries")
    ):
        dlnlib.layer_gradients(W2, x, np.array([1.0, np.inf]))


def test_squared_loss_checks_the_targets():
    check_boundary(
        lambda: dlnlib.squared_loss(W2, XS, YS, np.ones(5)),
        lambda: dlnlib.squared_loss(W2, XS, YS, np.ones(6)),
        lit("targets has length 6 but there are n = 5 samples"),
    )
    check_boundary(
        lambda: dlnlib.squared_loss(W2, XS, YS, np.ones(5)),
        lambda: dlnlib.squared_loss(W2, XS, YS, np.ones(4)),
        lit("targets has length 4 but there are n = 5 samples"),
    )
    with pytest.raises(
        ValueError,
        match=lit("targets must be 1-dimensional, got shape (5, 1)"),
    ):
        dlnlib.squared_loss(W2, XS, YS, np.ones((5, 1)))
    with pytest.raises(
        ValueError, match=lit("targets contains NaN or infinite entries")
    ):
        dlnlib.squared_loss(W2, XS, YS, np.r_[np.ones(4), np.nan])


def test_unflatten_stacks_and_refuses_higher_ranks():
    dims = (2, 3, 4)
    rng = np.random.default_rng(2)
    thetas = rng.standard_normal((5, 18))
    stacked = unflatten(thetas, dims)
    assert [w.shape for w in stacked] == [(5, 2, 3), (5, 3, 4)]
    for c in range(5):
        for a, b in zip(stacked, unflatten(thetas[c], dims)):
            np.testing.assert_array_equal(a[c], b)
    with pytest.raises(
        ValueError,
        match=lit("theta has 17 entries but dims (2, 3, 4) need 18"),
    ):
        unflatten(np.zeros((5, 17)), dims)
    with pytest.raises(
        ValueError,
        match=lit(
            "theta must be a vector (p,) or a stack of them (C, p), got shape (2, 5, 18)"
        ),
    ):
        unflatten(np.zeros((2, 5, 18)), dims)
    with pytest.raises(
        ValueError, match="theta must have at least 1 dimensions"
    ):
        unflatten(np.float64(1.0), dims)


def test_unflatten_checks_the_length():
    dims = (2, 3, 4)  # 6 + 12 = 18 parameters
    unflatten(np.zeros(18), dims)
    for size in (17, 19, 0):
        with pytest.raises(
            ValueError,
            match=lit(f"theta has {size} entries but dims (2, 3, 4) need 18"),
        ):
            unflatten(np.zeros(size), dims)
    # a (2, 9) array is a stack of two vectors of 9 entries, not one of 18
    with pytest.raises(
        ValueError, match=lit("theta has 9 entries but dims (2, 3, 4) need 18")
    ):
        unflatten(np.zeros((2, 9)), dims)


def test_jacobian_derivative_checks_direction_and_coefficients():
    # W2 has 12 + 8 = 20 parameters, 5 samples
    jacobian_derivative(W2, XS, YS, np.zeros(20), np.zeros(5))
    with pytest.raises(
        ValueError,
        match=lit("theta has 21 entries but dims (3, 4, 2) need 20"),
    ):
        jacobian_derivative(W2, XS, YS, np.zeros(21), np.zeros(5))
    for c in (4, 6):
        with pytest.raises(
            ValueError,
            match=lit(
                f"coefficients has length {c} but there are n = 5 samples"
            ),
        ):
            jacobian_derivative(W2, XS, YS, np.zeros(20), np.zeros(c))
    with pytest.raises(
        ValueError, match=lit("coefficients contains NaN or infinite entries")
    ):
        jacobian_derivative(W2, XS, YS, np.zeros(20), np.full(5, np.nan))


# --- bound and construction -----------------------------------------------------------------------


def test_lower_bound_checks():
    W, X, Y = np.ones((3, 2)), np.eye(3), np.eye(2)
    check_boundary(
        lambda: dlnlib.lower_bound(np.ones((2, 3, 2)), X, Y, 2),
        lambda: dlnlib.lower_bound(np.ones(3), X, Y, 2),
        lit("W must have at least 2 dimensions, got shape (3,)"),
    )
    with pytest.raises(
        ValueError, match=lit("W contains NaN or infinite entries")
    ):
        dlnlib.lower_bound(np.full((3, 2), np.inf), X, Y, 2)
    with pytest.raises(
        ValueError,
        match=lit("X must be 3 x 3 to match the network, got shape (2, 2)"),
    ):
        dlnlib.lower_bound(W, np.eye(2), Y, 2)
    # the bound needs no invertibility: a singular X is fine and gives 0
    assert dlnlib.lower_bound(W, np.zeros((3, 3)), Y, 3) == 0.0


def test_construction_scales_checks():
    X, Y = np.eye(2), np.eye(3)
    W = np.zeros((2, 3))
    W[0, 0] = 1e-300  # the smallest nonzero W has scales
    for L in (2, 3, 4):
        dlnlib.construction_scales(W, X, Y, L)
        with pytest.raises(
            ValueError,
            match=lit(
                "W is zero: the construction's scales are undefined (the zero factorization is optimal)"
            ),
        ):
            dlnlib.construction_scales(np.zeros((2, 3)), X, Y, L)
    check_boundary(
        lambda: dlnlib.construction_scales(W, X, Y, 2),
        lambda: dlnlib.construction_scales(W, X, Y, 1),
        lit("depth L must be an integer >= 2, got 1"),
    )
    with pytest.raises(
        ValueError, match=lit("W must be 2-dimensional, got shape (1, 2, 3)")
    ):
        dlnlib.construction_scales(W[None], X, Y, 2)


def test_optimal_factorization_checks():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 2)) @ rng.standard_normal((2, 4))  # rank 2
    X, Y = np.eye(3), np.eye(4)
    for dims in [(3, 2, 4), (3, 2, 2, 4), (3, 5, 2, 4), (3, 2, 3, 2, 4)]:
        np.testing.assert_allclose(
            dlnlib.end_to_end(dlnlib.optimal_factorization(W, X, Y, dims)),
            W,
            atol=1e-12,
        )
    for i, dims in [(1, (3, 1, 4)), (2, (3, 2, 1, 4)), (1, (3, 1, 5, 4))]:
        L = len(dims) - 1
        message = (
            f"hidden width d_{i} = 1 is below rank(W) = 2: no depth-{L} factorization with these widths "
            "can carry W (every d_i must be >= 2)"
        )
        with pytest.raises(ValueError, match=lit(message)):
            dlnlib.optimal_factorization(W, X, Y, dims)
    with pytest.raises(
        ValueError,
        match=lit("W has shape (3, 4) but dims asks for (d_0, d_L) = (3, 3)"),
    ):
        dlnlib.optimal_factorization(W, X, Y, (3, 2, 3))
    with pytest.raises(
        ValueError,
        match=lit("W has shape (3, 4) but dims asks for (d_0, d_L) = (4, 4)"),
    ):
        dlnlib.optimal_factorization(W, X, Y, (4, 2, 4))
    with pytest.raises(
        ValueError, match=lit("W must be 2-dimensional, got shape (1, 3, 4)")
    ):
        dlnlib.optimal_factorization(W[None], X, Y, (3, 2, 4))


def test_optimal_factorization_of_zero_is_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for dims in [(2, 1, 3), (2, 1, 1, 3), (2, 3, 4, 5, 3)]:
            ws = dlnlib.optimal_factorization(
                np.zeros((2, 3)), np.eye(2), np.eye(3), dims
            )
            assert [w.shape for w in ws] == [
                (dims[l], dims[l + 1]) for l in range(len(dims) - 1)
            ]
            assert all(np.all(w == 0) for w in ws)


def test_balanced_factorization_checks():
    rng = np.random.default_rng(2)
    W = rng.standard_normal((3, 2)) @ rng.standard_normal((2, 4))  # rank 2
    X, Y = np.eye(3), np.eye(4)
    for dims in [(3, 2, 4), (3, 2, 2, 4), (3, 4, 2, 3, 4)]:
        np.testing.assert_allclose(
            dlnlib.end_to_end(balanced_factorization(W, X, Y, dims)),
            W,
            atol=1e-12,
        )
    for i, dims in [(1, (3, 1, 4)), (2, (3, 2, 1, 4))]:
        message = (
            f"hidden width d_{i} = 1 is below rank(W) = 2: no depth-{len(dims) - 1} factorization with these "
            "widths can carry W (every d_i must be >= 2)"
        )
        with pytest.raises(ValueError, match=lit(message)):
            balanced_factorization(W, X, Y, dims)
    with pytest.raises(
        ValueError,
        match=lit("W has shape (3, 4) but dims asks for (d_0, d_L) = (3, 3)"),
    ):
        balanced_factorization(W, X, Y, (3, 2, 3))
    balanced_factorization(W, np.diag([1e10 - 1, 1.0, 1.0]), Y, (3, 2, 4))
    with pytest.raises(
        ValueError,
        match=lit(
            "X is singular or badly conditioned (condition number 1e+10 > 1e+10); "
            "the construction needs its inverse"
        ),
    ):
        balanced_factorization(W, np.diag([1e10, 1.0, 1.0]), Y, (3, 2, 4))
    with pytest.raises(
        ValueError,
        match=lit(
            "Y is singular or badly conditioned (condition number inf > 1e+10); "
            "the construction needs its inverse"
        ),
    ):
        balanced_factorization(W, X, np.zeros((4, 4)), (3, 2, 4))
    with pytest.raises(
        ValueError,
        match=lit(
            "dims = (d_0, ..., d_L) needs depth L >= 2, i.e. at least 3 entries"
        ),
    ):
        balanced_factorization(W, X, Y, (3, 4))


def test_gauge_transform_checks():
    ws = [np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 2))]
    gauges = [np.eye(3), np.eye(4)]
    gauge_transform(ws, gauges)
    gauge_transform(ws, [np.diag([1e10 - 1, 1.0, 1.0]), np.eye(4)])
    with pytest.raises(
        ValueError,
        match=lit(
            "gauge_transform takes a single network: weights must be 2-dimensional"
        ),
    ):
        gauge_transform([w[None] for w in ws], gauges)
    for count in (1, 3):
        with pytest.raises(
            ValueError,
            match=lit(
                f"need one gauge per hidden layer: 2 for depth 3, got {count}"
            ),
        ):
            gauge_transform(ws, [np.eye(3), np.eye(4), np.eye(4)][:count])
    with pytest.raises(
        ValueError,
        match=lit(
            "gauges[1] (G_2) must be 4 x 4 to match the network, got shape (3, 3)"
        ),
    ):
        gauge_transform(ws, [np.eye(3), np.eye(3)])
    first_singular = np.diag([1e10, 1.0, 1.0])
    with pytest.raises(
        ValueError,
        match=lit(
            "gauges[0] (G_1) is singular or badly conditioned (condition number "
            "1e+10 > 1e+10); the construction needs its inverse"
        ),
    ):
        gauge_transform(ws, [first_singular, np.eye(4)])


@pytest.mark.parametrize(
    "make",
    [
        lambda spread: random_factorization(
            np.ones((2, 3)), (2, 2, 3), np.random.default_rng(0), spread=spread
        ),
        lambda spread: dlnlib.random_weights(
            (2, 2, 3), np.random.default_rng(0), spread=spread
        ),
    ],
    ids=["random_factorization", "random_weights"],
)
def test_random_networks_spread_checks(make):
    for good in (0.0, 0, 5e-324, 2.0):
        make(good)
    for bad in (-5e-324, -1.0):
        with pytest.raises(
            ValueError,
            match=lit(f"spread must be nonnegative, got {float(bad)!r}"),
        ):
            make(bad)
    with pytest.raises(
        ValueError, match=lit("spread contains NaN or infinite entries")
    ):
        make(np.inf)
    with pytest.raises(
        ValueError, match=lit("spread must be 0-dimensional, got shape (2,)")
    ):
        make([1.0, 2.0])


def test_random_networks_dims_checks():
    rng = np.random.default_rng(0)
    W = np.outer([1.0, 2.0], [1.0, 0.0, 1.0])  # rank 1
    random_factorization(W, (2, 1, 3), rng)
    with pytest.raises(
        ValueError,
        match=lit("every dimension must be positive, got dims = (2, 0, 3)"),
    ):
        random_factorization(W, (2, 0, 3), rng)
    with pytest.raises(
        ValueError, match=lit("hidden width d_1 = 1 is below rank(W) = 2")
    ):
        random_factorization(np.eye(2), (2, 1, 2), rng)
    with pytest.raises(
        ValueError,
        match=lit("W has shape (2, 3) but dims asks for (d_0, d_L) = (2, 2)"),
    ):
        random_factorization(W, (2, 1, 2), rng)
    dlnlib.random_weights((1, 1, 1), rng)
    with pytest.raises(
        ValueError,
        match=lit(
            "dims = (d_0, ..., d_L) needs depth L >= 2, i.e. at least 3 entries"
        ),
    ):
        dlnlib.random_weights((2, 2), rng)


# --- book ------------------------------------------------------------------------------------------


def test_book_require_and_check():
    book.require(True, "fine")
    book.require(np.bool_(True), "fine")
    with pytest.raises(
        ValueError,
        match=lit("parameter out of range: depth must be at least 2"),
    ):
        book.require(1 >= 2, "depth must be at least 2")
    with pytest.raises(
        ValueError, match=lit("parameter out of range: positive")
    ):
        book.require(np.float64(-1.0) > 0, "positive")
    claims = book.Claims("t", mode="strict")
    claims.check("all positive", np.ones(3) > 0)
    with pytest.raises(
        book.ClaimError, match=lit("claim failed: every chain converged")
    ):
        claims.check("every chain converged", np.array([True, False]))
    with pytest.raises(
        AssertionError, match=lit("claim failed: empty is not true")
    ):
        claims.check("empty is not true", False)


# --- kronecker ----------------------------------------------------------------------------------


def test_kronecker_factors_checks():
    xs, ys = np.zeros((3, 2)), np.zeros((3, 4))
    xs[2, 1], ys[2, 3] = 1e-30, 1e-30  # one small nonzero product is enough
    kf = dlnlib.kronecker_factors(xs, ys)
    assert kf.rel_error == 0.0
    message = lit(
        "every product x_i kron y_i is zero: the data moment is 0 and has no Kronecker factors"
    )
    with pytest.raises(ValueError, match=message):
        dlnlib.kronecker_factors(np.zeros((3, 2)), np.ones((3, 4)))
    with pytest.raises(ValueError, match=message):
        dlnlib.kronecker_factors(np.ones((3, 2)), np.zeros((3, 4)))
    with pytest.raises(
        ValueError,
        match=lit(
            "xs and ys must have the same number of rows n, got 3 and 4"
        ),
    ):
        dlnlib.kronecker_factors(np.ones((3, 2)), np.ones((4, 2)))


# --- convex -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_sensing():
    return gaussian_sensing(10, 2, 3, 1, seed=0)


def test_min_nuclear_norm_weight_condition_boundary():
    """The weight check runs before the solver: an unknown solver name reveals that it passed.

    The data never measure the badly scaled direction of the weight, so that the consistency check
    passes whatever its scale (see test_min_nuclear_norm_consistency_does_not_depend_on_the_weights).
    """
    xs, ys, t = (
        np.eye(2)[[1, 1, 1]],
        np.eye(3),
        np.array([1.0, 2.0, 3.0]),
    )  # row 2 of a 2 x 3 matrix
    solver_failed = r"the convex solver NOPE failed: "
    with pytest.raises(ValueError, match=solver_failed):
        dlnlib.min_nuclear_norm(
            xs, ys, t, LAST_INVERTIBLE, np.eye(3), solver="NOPE"
        )
    for M, cond in [
        (FIRST_SINGULAR, "1e+10"),
        (diag_with_condition(1e12), "1e+12"),
        (np.diag([1.0, 0.0]), "inf"),
    ]:
        message = (
            f"X is singular or badly conditioned (condition number {cond} > 1e+10): "
            "||X W Y||_* would not determine W"
        )
        with pytest.raises(ValueError, match=lit(message)):
            dlnlib.min_nuclear_norm(xs, ys, t, M, np.eye(3), solver="NOPE")
        with pytest.raises(
            ValueError, match=lit(message)
        ):  # also with the default solvers
            dlnlib.min_nuclear_norm(xs, ys, t, M, np.eye(3))
    xs, ys = np.eye(2)[[0, 1]], np.eye(3)[[1, 2]]  # columns 2 and 3 only
    with pytest.raises(ValueError, match=solver_failed):
        dlnlib.min_nuclear_norm(
            xs,
            ys,
            t[:2],
            np.eye(2),
            np.diag([1e10 - 1, 1.0, 1.0]),
            solver="NOPE",
        )
    with pytest.raises(
        ValueError,
        match=lit(
            "Y is singular or badly conditioned (condition number 1e+10 > 1e+10)"
        ),
    ):
        dlnlib.min_nuclear_norm(
            xs, ys, t[:2], np.eye(2), np.diag([1e10, 1.0, 1.0])
        )


@pytest.mark.parametrize("cond", [1e9, 1e10 - 1])
def test_min_nuclear_norm_consistency_does_not_depend_on_the_weights(
    small_sensing, cond
):
    """x_i^T W y_i = t_i has a solution W or not whatever the (accepted) weights X, Y: they only change the
    objective. These targets come from W_star, so they are consistent and the solver must be reached."""
    pb = small_sensing
    with pytest.raises(ValueError, match="the convex solver NOPE failed"):
        dlnlib.min_nuclear_norm(
            pb.xs,
            pb.ys,
            pb.targets,
            np.diag([cond, 1.0]),
            np.eye(3),
            solver="NOPE",
        )


def test_min_nuclear_norm_consistency_tolerance_boundary():
    """Inconsistent data are refused once the least-squares misfit exceeds 1e-8 max(1, ||t||).

    Four entries of a 2 x 2 matrix observed once and entry (0, 0) a second time with its target
    off by delta: the least-squares misfit is delta / sqrt(2). Just below the tolerance the data
    reach the solver (an unknown solver name shows it), just above they are refused.
    """
    xs, ys = np.eye(2)[[0, 0, 1, 1, 0]], np.eye(2)[[0, 1, 0, 1, 0]]
    tol = 1e-8 * np.sqrt(1 + 4 + 9 + 16 + 1)  # 1e-8 ||t||

    def targets(misfit):
        return np.array([1.0, 2.0, 3.0, 4.0, 1.0 + np.sqrt(2) * misfit])

    with pytest.raises(ValueError, match=lit("the convex solver NOPE failed")):
        dlnlib.min_nuclear_norm(xs, ys, targets(0.9 * tol), solver="NOPE")
    with pytest.raises(
        ValueError,
        match=r"^the measurements are inconsistent: no matrix fits them "
        r"\(least-squares misfit 6\.12e-08\)",
    ):
        dlnlib.min_nuclear_norm(xs, ys, targets(1.1 * tol), solver="NOPE")


def test_min_nuclear_norm_shape_checks(small_sensing):
    pb = small_sensing
    cases = [
        (
            (pb.xs, pb.ys[:9], pb.targets),
            {},
            "xs and ys must have the same number of rows n, got 10 and 9",
        ),
        (
            (pb.xs, pb.ys, pb.targets[:9]),
            {},
            "targets has length 9 but there are n = 10 samples",
        ),
        (
            (pb.xs, pb.ys, np.r_[pb.targets, 0.0]),
            {},
            "targets has length 11 but there are n = 10 samples",
        ),
        (
            (pb.xs, pb.ys, pb.targets[:, None]),
            {},
            "targets must be 1-dimensional, got shape (10, 1)",
        ),
        (
            (pb.xs, pb.ys, np.r_[np.nan, pb.targets[1:]]),
            {},
            "targets contains NaN or infinite entries",
        ),
        (
            (pb.xs, pb.ys, pb.targets),
            {"Y": np.eye(4)},
            "Y must be 3 x 3 to match the network, got shape (4, 4)",
        ),
        (
            (pb.xs, pb.ys, pb.targets),
            {"X": np.ones((2, 3))},
            "X must be square, got shape (2, 3)",
        ),
    ]
    for args, kwargs, message in cases:
        with pytest.raises(ValueError, match=lit(message)):
            dlnlib.min_nuclear_norm(*args, solver="NOPE", **kwargs)


def test_min_nuclear_norm_inconsistent_measurements(small_sensing):
    pb = small_sensing
    xs, ys = np.r_[pb.xs, pb.xs[:1]], np.r_[pb.ys, pb.ys[:1]]
    # the same measurement repeated with the same target is consistent (the solver is reached) ...
    with pytest.raises(ValueError, match="the convex solver NOPE failed"):
        dlnlib.min_nuclear_norm(
            xs, ys, np.r_[pb.targets, pb.targets[0]], solver="NOPE"
        )
    # ... with a different target nothing fits
    with pytest.raises(
        ValueError,
        match=r"the measurements are inconsistent: no matrix fits them \(least-squares",
    ):
        dlnlib.min_nuclear_norm(
            xs, ys, np.r_[pb.targets, pb.targets[0] + 1e-3], solver="NOPE"
        )


def test_min_nuclear_norm_solver_failures(small_sensing, monkeypatch):
    """The two failure paths after the solve, with cvxpy's solve replaced."""
    import cvxpy as cp

    pb = small_sensing
    monkeypatch.setattr(
        cp.Problem, "solve", lambda self, *a, **k: None
    )  # never solves: status stays None
    with pytest.raises(
        ValueError,
        match=lit("the convex solver(s) ['CLARABEL'] returned status None"),
    ):
        dlnlib.min_nuclear_norm(pb.xs, pb.ys, pb.targets, solver="CLARABEL")

    def wrong(
        self, *a, **k
    ):  # claims optimality at V = 0, which misses every nonzero target
        for v in self.variables():
            v.value = np.zeros(v.shape)
        self._status = cp.OPTIMAL

    monkeypatch.setattr(cp.Problem, "solve", wrong)
    with pytest.raises(
        ValueError,
        match=r"the convex solver CLARABEL \(optimal\) misses the constraints by \d",
    ):
        dlnlib.min_nuclear_norm(pb.xs, pb.ys, pb.targets, solver="CLARABEL")


def test_round_rank_boundaries():
    from dlnlib.convex import round_rank

    W = np.diag([2.0, 2e-6, 0.0])
    assert (
        round_rank(W, 1e-6)[1] == 1
    )  # a singular value at rtol * sigma_max is rounded to zero
    assert round_rank(W, np.nextafter(1e-6, 0.0))[1] == 2
    W_r, r = round_rank(np.diag([2.0, 1e-9]))
    assert (
        r == 1
        and W_r[1, 1] == 0.0
        and W_r[0, 0] == pytest.approx(2.0, rel=1e-15)
    )
    assert round_rank(np.zeros((2, 3)))[1] == 0
    check_boundary(
        lambda: round_rank(W, np.nextafter(1.0, 0.0)),
        lambda: round_rank(W, 1.0),
        lit("rtol must be below 1, got 1.0"),
    )
    check_boundary(
        lambda: round_rank(W, 5e-324),
        lambda: round_rank(W, 0.0),
        lit("rtol must be a positive finite number, got 0.0"),
    )
    with pytest.raises(
        ValueError, match=lit("W must be 2-dimensional, got shape (1, 3, 3)")
    ):
        round_rank(W[None])


# --- depth two ----------------------------------------------------------------------------------


def test_depth_two_moment_condition_boundary():
    """M_x = diag(top, 1) with the data below: condition number top, rejected from 1e10 on."""
    W = np.array([[1.0], [2.0]])
    ys = np.ones((2, 1))

    def data(root):  # rows root * e_1 and e_2, so M_x = diag(root^2, 1)
        xs = np.array([[root, 0.0], [0.0, 1.0]])
        M_x, _ = depth_two_moments(xs, ys)
        assert np.array_equal(np.linalg.eigh(M_x)[0], [1.0, root**2])
        return xs

    depth_two_minimum(W, data(99999.0), ys)  # condition number 99999^2 < 1e10
    depth_two_factorization(W, data(99999.0), ys, 1)
    for root, cond in [(1e5, "1e+10"), (1e6, "1e+12")]:
        message = (
            f"M_x = sum_i ||y_i||^2 x_i x_i^T is singular or badly conditioned (condition number {cond} > "
            "1e+10): some direction is never measured, so R does not depend on it and its minimum over "
            "factorizations is not attained"
        )
        with pytest.raises(ValueError, match=lit(message)):
            depth_two_minimum(W, data(root), ys)
        with pytest.raises(ValueError, match=lit(message)):
            depth_two_factorization(W, data(root), ys, 1)
    with pytest.raises(
        ValueError,
        match=lit(
            "M_x = sum_i ||y_i||^2 x_i x_i^T is singular or badly conditioned "
            "(condition number inf > 1e+10)"
        ),
    ):
        depth_two_minimum(W, np.array([[1.0, 0.0], [1.0, 0.0]]), ys)
    with pytest.raises(
        ValueError,
        match=lit(
            "M_y = sum_i ||x_i||^2 y_i y_i^T is singular or badly conditioned "
            "(condition number inf > 1e+10)"
        ),
    ):
        depth_two_minimum(W.T, ys, np.array([[1.0, 0.0], [1.0, 0.0]]))


def test_depth_two_width_boundary():
    rng = np.random.default_rng(1)
    xs, ys = rng.standard_normal((20, 3)), rng.standard_normal((20, 4))
    for r in (1, 2, 3):
        W = rng.standard_normal((3, r)) @ rng.standard_normal((r, 4))
        W1, W2_ = depth_two_factorization(W, xs, ys, r)
        np.testing.assert_allclose(W1 @ W2_, W, atol=1e-10)
        with pytest.raises(
            ValueError,
            match=lit(
                f"hidden width d_1 = {r - 1} is below rank(W) = {r}: no factorization W = W_1 W_2 with this width "
                "exists"
            )
            if r > 1
            else lit("width d_1 must be an integer >= 1, got 0"),
        ):
            depth_two_factorization(W, xs, ys, r - 1)
    with pytest.raises(
        ValueError, match=lit("width d_1 must be an integer >= 1, got 2.5")
    ):
        depth_two_factorization(W, xs, ys, 2.5)
    with pytest.raises(
        ValueError, match=lit("W must be 2-dimensional, got shape (3,)")
    ):
        depth_two_minimum(np.ones(3), xs, ys)
    with pytest.raises(
        ValueError,
        match=lit(
            "ys has 4 columns but the network's output dimension is d_L = 2"
        ),
    ):
        depth_two_minimum(np.ones((3, 2)), xs, ys)


def test_induced_moment_condition():
    """dlnlib.induced rejects moments whose condition number reaches about 1e14 (its own threshold)."""
    from dlnlib.induced import fibre_minima, min_regularizer

    W, ys = np.array([[1.0], [2.0]]), np.ones((2, 1))

    def data(top):  # M_x = diag(top, 1)
        return np.array([[np.sqrt(top), 0.0], [0.0, 1.0]])

    fibre_minima(W, data(1e13), ys, (2, 1, 1), starts=1)
    message = lit(
        "M_x = sum_i ||y_i||^2 x_i x_i^T is singular (or numerically so): the data do not measure every "
        "direction of the factorization, and the minimum of R is not attained"
    )
    for call in (fibre_minima, min_regularizer):
        with pytest.raises(ValueError, match=message):
            call(W, data(1e15), ys, (2, 1, 1), starts=1)
        with pytest.raises(
            ValueError,
            match=lit(
                "M_y = sum_i ||x_i||^2 y_i y_i^T is singular (or numerically so)"
            ),
        ):
            call(W.T, ys, data(1e15), (1, 1, 2), starts=1)


# --- drift --------------------------------------------------------------------------------------

ONE = np.ones((1, 1))
SCALAR_NET = [np.array([[2.0]]), np.array([[0.5]])]


@pytest.mark.parametrize("name", ["lr", "noise_std"])
def test_predicted_drift_positive_parameters(name):
    kw = {"lr": 0.1, "noise_std": 1.0}
    for good in (5e-324, 1e100, 1):
        predicted_drift(SCALAR_NET, ONE, ONE, **{**kw, name: good})
    for bad in (0.0, -0.0, -1e-300, np.inf, np.nan, -np.inf):
        with pytest.raises(
            ValueError,
            match=lit(f"{name} must be a positive finite number, got {bad!r}"),
        ):
            predicted_drift(SCALAR_NET, ONE, ONE, **{**kw, name: bad})


def test_predicted_drift_covariance_names():
    for covariance in ("leading", "lyapunov"):
        predicted_drift(
            SCALAR_NET, ONE, ONE, lr=0.1, noise_std=1.0, covariance=covariance
        )
    for bad in ("Leading", "exact", None):
        with pytest.raises(
            ValueError,
            match=lit(
                f"covariance must be 'leading' or 'lyapunov', got {bad!r}"
            ),
        ):
            predicted_drift(
                SCALAR_NET, ONE, ONE, lr=0.1, noise_std=1.0, covariance=bad
            )


def test_predicted_drift_stability_boundary():
    # P = a b with (a, b) = (2, 0): J = (b, a) = (0, 2), lambda_max(H) = 4 exactly, unstable from lr = 1/2 on
    ws = [np.array([[2.0]]), np.array([[0.0]])]
    assert normal_space(ws, ONE, ONE).hessian_eigenvalues[0] == 4.0
    last = np.nextafter(0.5, 0.0)
    predicted_drift(
        ws, ONE, ONE, lr=last, noise_std=1.0, covariance="lyapunov"
    )
    predicted_drift(
        ws, ONE, ONE, lr=0.5, noise_std=1.0
    )  # the leading order has no stability condition
    with pytest.raises(
        FloatingPointError,
        match=lit(
            "lr * lambda_max(H) = 2 >= 2: gradient descent is unstable at this point (no stationary fluctuation); "
            "use lr < 0.5"
        ),
    ):
        predicted_drift(
            ws, ONE, ONE, lr=0.5, noise_std=1.0, covariance="lyapunov"
        )


def test_zero_jacobian_has_no_normal_space():
    zero = [np.zeros((1, 1)), np.zeros((1, 1))]
    message = lit(
        "the Jacobian of the predictions is zero: there is no normal space (all weights zero?)"
    )
    # one nonzero layer is enough for P(x, y) = x W_1 W_2 y to have a nonzero gradient
    normal_space([np.zeros((1, 1)), np.array([[1e-300]])], ONE, ONE)
    for call in (
        lambda: normal_space(zero, ONE, ONE),
        lambda: tangent_gradient(zero, ONE, ONE),
        lambda: predicted_drift(zero, ONE, ONE, lr=0.1, noise_std=1.0),
    ):
        with pytest.raises(ValueError, match=message):
            call()
    with pytest.raises(
        ValueError, match=lit("jacobian takes a single network")
    ):
        normal_space([np.ones((2, 1, 1))] * 2, ONE, ONE)


# --- problems -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda n, d0, dL, r, **k: gaussian_sensing(n, d0, dL, r, seed=0, **k),
        lambda n, d0, dL, r, **k: matrix_completion(n, d0, dL, r, seed=0, **k),
    ],
    ids=["sensing", "completion"],
)
def test_problem_size_boundaries(make):
    make(1, 1, 1, 1)
    make(1, 2, 3, 2)  # rank = min(d0, dL)
    make(1, 3, 2, 2)
    cases = [
        ((0, 2, 3, 1), "n must be an integer >= 1, got 0"),
        ((1, 0, 3, 1), "d0 must be an integer >= 1, got 0"),
        ((1, 2, 0, 1), "dL must be an integer >= 1, got 0"),
        ((1, 2, 3, 0), "rank must be an integer >= 1, got 0"),
        ((1, 2.5, 3, 1), "d0 must be an integer >= 1, got 2.5"),
        ((1, 2, 3, 3), "rank = 3 exceeds min(d0, dL) = 2"),
        ((1, 3, 2, 3), "rank = 3 exceeds min(d0, dL) = 2"),
        ((1, 4, 4, 5), "rank = 5 exceeds min(d0, dL) = 4"),
    ]
    for args, message in cases:
        with pytest.raises(ValueError, match=lit(message)):
            make(*args)


@pytest.mark.parametrize(
    "make",
    [
        lambda scale: gaussian_sensing(3, 2, 2, 1, seed=0, scale=scale),
        lambda scale: matrix_completion(3, 2, 2, 1, seed=0, scale=scale),
        lambda scale: completion_from_pattern(
            np.eye(2, dtype=bool), 1, seed=0, scale=scale
        ),
    ],
    ids=["sensing", "completion", "pattern"],
)
def test_problem_scale_boundaries(make):
    for good in (1e-300, 1, 1e300):
        make(good)
    for bad in (0.0, -0.0, -1.0, np.inf, np.nan):
        with pytest.raises(
            ValueError,
            match=lit(
                f"scale must be a positive finite number, got {float(bad)!r}"
            ),
        ):
            make(bad)


def test_completion_weight_checks():
    matrix_completion(
        1, 3, 3, 1, seed=0, row_weights=[0, 0, 1e-300], col_weights=[0, 1, 0]
    )
    cases = [
        ({"row_weights": [1, 1]}, "row_weights must have length 3, got 2"),
        (
            {"col_weights": [1, 1, 1, 1]},
            "col_weights must have length 3, got 4",
        ),
        (
            {"col_weights": [1, -1e-300, 1]},
            "col_weights must be nonnegative with a positive sum",
        ),
        (
            {"row_weights": [0, 0, 0]},
            "row_weights must be nonnegative with a positive sum",
        ),
        (
            {"row_weights": [np.nan, 1, 1]},
            "row_weights contains NaN or infinite entries",
        ),
        (
            {"row_weights": [[1, 1, 1]]},
            "row_weights must be 1-dimensional, got shape (1, 3)",
        ),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=lit(message)):
            matrix_completion(2, 3, 3, 1, seed=0, **kwargs)


def test_completion_without_replacement_boundary():
    full = matrix_completion(9, 3, 3, 2, seed=0)  # every entry once
    np.testing.assert_array_equal(full.counts, np.ones((3, 3)))
    with pytest.raises(
        ValueError,
        match=lit(
            "cannot observe n = 10 distinct entries: only 9 of the 3 x 3 entries have positive sampling probability "
            "(use replace=True or a smaller n)"
        ),
    ):
        matrix_completion(10, 3, 3, 2, seed=0)
    assert matrix_completion(10, 3, 3, 2, seed=0, replace=True).n == 10
    # zero weights shrink the set of available entries: 2 rows x 2 columns
    kw = dict(seed=0, row_weights=[1, 0, 1], col_weights=[0, 1, 1])
    assert matrix_completion(4, 3, 3, 1, **kw).counts.sum() == 4
    with pytest.raises(
        ValueError,
        match=lit(
            "cannot observe n = 5 distinct entries: only 4 of the 3 x 3 entries"
        ),
    ):
        matrix_completion(5, 3, 3, 1, **kw)


def test_completion_from_pattern_checks():
    completion_from_pattern(
        [[1]], 1, seed=0
    )  # the smallest pattern, as 0/1 integers
    completion_from_pattern(
        np.array([[0.0, 1.0], [1.0, 0.0]]), 2, seed=0
    )  # 0/1 floats, full rank
    cases = [
        (
            np.ones(4, bool),
            "pattern must be a nonempty 2-d boolean array, got shape (4,)",
        ),
        (
            np.ones((1, 2, 2), bool),
            "pattern must be a nonempty 2-d boolean array, got shape (1, 2, 2)",
        ),
        (
            np.ones((0, 3), bool),
            "pattern must be a nonempty 2-d boolean array, got shape (0, 3)",
        ),
        (
            np.ones((3, 0), bool),
            "pattern must be a nonempty 2-d boolean array, got shape (3, 0)",
        ),
        (np.full((2, 2), 2), "pattern must hold booleans or 0/1 entries"),
        (np.array([[1.0, 0.5]]), "pattern must hold booleans or 0/1 entries"),
        (np.zeros((3, 3), bool), "pattern observes no entry"),
        (np.zeros((3, 3), int), "pattern observes no entry"),
    ]
    for pattern, message in cases:
        with pytest.raises(ValueError, match=lit(message)):
            completion_from_pattern(pattern, 1, seed=0)
    with pytest.raises(
        ValueError, match=lit("rank = 3 exceeds min(d0, dL) = 2")
    ):
        completion_from_pattern(np.ones((2, 4), bool), 3, seed=0)
    with pytest.raises(
        ValueError, match=lit("rank must be an integer >= 1, got 0")
    ):
        completion_from_pattern(np.ones((2, 4), bool), 0, seed=0)


# --- training -----------------------------------------------------------------------------------


def run_sgd(pb, **changes):
    """One short run (noise-free phase skipped); the 'did not reach final_tol' warning is expected."""
    args = dict(
        dims=(pb.shape[0], max(pb.shape), pb.shape[1]),
        lr=0.01,
        noise_std=0.1,
        steps=2,
        max_final_steps=0,
        progress=False,
    )
    args.update(changes)
    xs, ys, targets, dims = (
        args.pop(k, getattr(pb, k, None))
        for k in ("xs", "ys", "targets", "dims")
    )
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "the noise-free phase did not reach", RuntimeWarning
        )
        return dlnlib.label_noise_sgd(xs, ys, targets, dims, **args)


@pytest.fixture(scope="module")
def tiny():
    return gaussian_sensing(6, 3, 3, 1, seed=0)


@pytest.mark.parametrize(
    "good, bad, message",
    [
        (
            {"lr": 5e-324},
            {"lr": 0.0},
            "lr must be a positive finite number, got 0.0",
        ),
        (
            {"lr": 0.01},
            {"lr": -0.01},
            "lr must be a positive finite number, got -0.01",
        ),
        (
            {"lr": 0.01},
            {"lr": np.inf},
            "lr must be a positive finite number, got inf",
        ),
        ({"lr": 0.01}, {"lr": "fast"}, "lr must be a number, got 'fast'"),
        ({"lr": 0.01}, {"lr": None}, "lr must be a number, got None"),
        (
            {"lr": [0.01, 0.02]},
            {"lr": [0.01, -1.0]},
            "lr[1] must be a positive finite number, got ",
        ),
        ({"lr": [0.01]}, {"lr": []}, "lr is an empty sequence"),
        (
            {"noise_std": 0.0},
            {"noise_std": -5e-324},
            "noise_std must be a nonnegative finite number, got -5e-324",
        ),
        (
            {"noise_std": 0.0},
            {"noise_std": np.nan},
            "noise_std must be a nonnegative finite number, got nan",
        ),
        (
            {"noise_std": [0.0, 0.1]},
            {"noise_std": [0.1, -1.0]},
            "noise_std[1] must be a nonnegative finite number",
        ),
        (
            {"noise_std": np.array([0.0, 0.1])},
            {"noise_std": np.array([])},
            "noise_std is an empty sequence",
        ),
        ({"steps": 0}, {"steps": -1}, "steps must be an integer >= 0, got -1"),
        (
            {"steps": 3.0},
            {"steps": 2.5},
            "steps must be an integer >= 0, got 2.5",
        ),
        (
            {"steps": 0},
            {"steps": False},
            "steps must be an integer >= 0, got False",
        ),
        (
            {"max_final_steps": 1},
            {"max_final_steps": True},
            "max_final_steps must be an integer >= 0, got True",
        ),
        (
            {"init_scale": 1e-300},
            {"init_scale": 0.0},
            "init_scale must be a positive finite number, got 0.0",
        ),
        (
            {"init_scale": 1.0},
            {"init_scale": np.nan},
            "init_scale must be a positive finite number, got nan",
        ),
        (
            {"max_final_steps": 0},
            {"max_final_steps": -1},
            "max_final_steps must be an integer >= 0, got -1",
        ),
        (
            {"final_tol": 1e-300},
            {"final_tol": 0.0},
            "final_tol must be a positive finite number, got 0.0",
        ),
        (
            {"record_every": 1},
            {"record_every": 0},
            "record_every must be an integer >= 1, got 0",
        ),
        (
            {"batch_size": 1},
            {"batch_size": 0},
            "batch_size must be an integer >= 1, got 0",
        ),
        (
            {"batch_size": 6},
            {"batch_size": 7},
            "batch_size = 7 exceeds the number of samples n = 6",
        ),
        (
            {"batch_size": 6.0},
            {"batch_size": 1.5},
            "batch_size must be an integer >= 1, got 1.5",
        ),
        ({"seeds": 0}, {"seeds": -1}, "seeds must be nonnegative, got -1"),
        (
            {"seeds": np.int64(3)},
            {"seeds": "0"},
            "seeds must be an integer or a sequence of integers, got '0'",
        ),
        (
            {"seeds": 0},
            {"seeds": 1.0},
            "seeds must be an integer or a sequence of integers, got 1.0",
        ),
        (
            {"seeds": 0},
            {"seeds": True},
            "seeds must be an integer or a sequence of integers, got True",
        ),
        (
            {"seeds": [0, 1]},
            {"seeds": [0, -1]},
            "every seed must be a nonnegative integer, got -1",
        ),
        (
            {"seeds": np.array([0, 1])},
            {"seeds": [0, True]},
            "every seed must be a nonnegative integer, got True",
        ),
        (
            {"seeds": [2]},
            {"seeds": [2.0]},
            "every seed must be a nonnegative integer, got 2.0",
        ),
        (
            {"seeds": [0]},
            {"seeds": []},
            "seeds is an empty sequence: no chain to run",
        ),
        (
            {"seeds": [0, 1], "lr": [0.01, 0.02]},
            {"seeds": [0, 1, 2], "lr": [0.01, 0.02]},
            "seeds, lr and noise_std given as sequences must have one length, got lengths [2, 3]",
        ),
        (
            {"noise_std": [0.0, 0.1], "lr": [0.01, 0.02]},
            {"noise_std": [0.1], "lr": [0.01, 0.02]},
            "seeds, lr and noise_std given as sequences must have one length, got lengths [1, 2]",
        ),
    ],
    ids=lambda v: repr(v)[:40] if isinstance(v, dict) else None,
)
def test_label_noise_sgd_hyperparameters(tiny, good, bad, message):
    check_boundary(
        lambda: run_sgd(tiny, **good),
        lambda: run_sgd(tiny, **bad),
        lit(message),
    )


def test_label_noise_sgd_data_checks(tiny):
    pb = tiny
    cases = [
        (
            {"xs": pb.xs[:, :2]},
            "xs has 2 columns but the network's input dimension is d_0 = 3",
        ),
        (
            {"ys": pb.ys[:5]},
            "xs and ys must have the same number of rows n, got 6 and 5",
        ),
        (
            {"targets": pb.targets[:5]},
            "targets has length 5 but there are n = 6 samples",
        ),
        (
            {"targets": np.r_[pb.targets, 0.0]},
            "targets has length 7 but there are n = 6 samples",
        ),
        (
            {"targets": np.full(6, np.inf)},
            "targets contains NaN or infinite entries",
        ),
        (
            {"dims": (3, 3)},
            "dims = (d_0, ..., d_L) needs depth L >= 2, i.e. at least 3 entries, got (3, 3)",
        ),
        (
            {"dims": (3, 3, 4)},
            "ys has 3 columns but the network's output dimension is d_L = 4",
        ),
    ]
    for change, message in cases:
        with pytest.raises(ValueError, match=lit(message)):
            run_sgd(pb, **change)


def test_label_noise_sgd_initial_weights_checks(tiny):
    pb = tiny
    single = [np.eye(3), np.eye(3)]
    run_sgd(pb, initial_weights=single)
    run_sgd(
        pb, initial_weights=[np.stack([w] * 2) for w in single], seeds=[0, 1]
    )
    cases = [
        (
            {"initial_weights": [np.eye(3), np.ones((2, 3))]},
            "weights[0] has shape (3, 3) but weights[1] has shape",
        ),
        (
            {"initial_weights": [np.eye(3), np.ones((3, 2))]},
            "initial_weights have shapes [(3, 3), (3, 2)], expected dims (3, 3, 3)",
        ),
        (
            {"initial_weights": [np.eye(3)] * 3},
            "initial_weights have shapes [(3, 3), (3, 3), (3, 3)], expected dims",
        ),
        (
            {
                "initial_weights": [np.stack([w] * 3) for w in single],
                "seeds": [0, 1],
            },
            "initial_weights need no chain axis or a chain axis of length 2",
        ),
        (
            {"initial_weights": [np.stack([w] * 2) for w in single]},
            "initial_weights need no chain axis or a chain axis of length 1",
        ),
        (
            {"initial_weights": [np.ones((1, 2, 3, 3))] * 2, "seeds": [0, 1]},
            "initial_weights need no chain axis or a chain axis of length 2",
        ),
    ]
    for change, message in cases:
        with pytest.raises(ValueError, match=lit(message)):
            run_sgd(pb, **change)


def test_init_weights_checks():
    check_boundary(
        lambda: descent.init_weights((2, 2, 2), 1e-300),
        lambda: descent.init_weights((2, 2, 2), 0.0),
        lit("init_scale must be a positive finite number, got 0.0"),
    )
    check_boundary(
        lambda: descent.init_weights((2, 2, 2), 1.0, seed=0),
        lambda: descent.init_weights((2, 2, 2), 1.0, seed=-1),
        lit("seeds must be nonnegative, got -1"),
    )
    with pytest.raises(
        ValueError,
        match=lit("init_scale must be a positive finite number, got inf"),
    ):
        descent.init_weights((2, 2, 2), np.inf)


def test_divergence_in_the_noise_free_phase_names_it(tiny):
    with pytest.raises(
        descent.DivergenceError,
        match=r"diverged at step \d+ \(noise-free phase\) for seed\(s\) 7: "
        r"the residuals became non-finite or exploded with lr = 50; try a smaller learning rate "
        r"\(e\.g\. lr = 12\.5\)",
    ):
        dlnlib.label_noise_sgd(
            tiny.xs,
            tiny.ys,
            tiny.targets,
            (3, 3, 3),
            lr=50.0,
            noise_std=0.0,
            steps=0,
            seeds=7,
            progress=False,
        )


def test_unconverged_run_warns_naming_the_seeds(tiny):
    with pytest.warns(
        RuntimeWarning,
        match=lit(
            "the noise-free phase did not reach final_tol = 1e-06 within 1 steps for seed(s) [4, 5]; relative loss"
        ),
    ):
        dlnlib.label_noise_sgd(
            tiny.xs,
            tiny.ys,
            tiny.targets,
            (3, 3, 3),
            lr=0.001,
            noise_std=0.0,
            steps=0,
            seeds=[4, 5],
            max_final_steps=1,
            progress=False,
        )


# --- symbolic -----------------------------------------------------------------------------------


def sym_cases():
    x = sp.symbols("x1:10")
    A22 = S.symbol_matrix("A", 2, 2)
    cert = C.hurwitz_certificate(3)
    return [
        # (accepted, rejected, message)
        (
            lambda: S.symbol_matrix("M", 1, 1),
            lambda: S.symbol_matrix("", 1, 1),
            "name must be a nonempty string, got ''",
        ),
        (
            lambda: S.symbol_matrix("M", 1, 1),
            lambda: S.symbol_matrix(3, 1, 1),
            "name must be a nonempty string, got 3",
        ),
        (
            lambda: S.symbol_matrix("M", 1, 1),
            lambda: S.symbol_matrix("M", 0, 1),
            "rows must be an integer >= 1, got 0",
        ),
        (
            lambda: S.symbol_matrix("M", 1, 1),
            lambda: S.symbol_matrix("M", 1, 0),
            "cols must be an integer >= 1, got 0",
        ),
        (
            lambda: S.frobenius_sq(sp.Matrix([[1]])),
            lambda: S.frobenius_sq([[1]]),
            "M must be an explicit sympy Matrix, got list",
        ),
        (
            lambda: C.symmetrize(x[0], x[:1]),
            lambda: C.symmetrize(x[0], ()),
            "need between 1 and 8 variables, got 0",
        ),
        (
            lambda: C.symmetrize(x[0] * x[7], x[:8]),
            lambda: C.symmetrize(x[0], x[:9]),
            "need between 1 and 8 variables, got 9",
        ),
        (
            lambda: C.symmetrize(x[0] ** 2, x[:1]),
            lambda: C.symmetrize(sp.sqrt(x[0]), x[:1]),
            "expr is not a polynomial in (x1,): ",
        ),
        (
            lambda: C.hurwitz_certificate(8),
            lambda: C.hurwitz_certificate(True),
            "n must be an integer >= 2, got True",
        ),
        (
            lambda: C.verify_amgm_certificate(cert),
            lambda: C.verify_amgm_certificate("cert"),
            "cert must be an AMGMCertificate, got str",
        ),
        (
            lambda: C.verify_amgm_certificate(cert),
            lambda: C.verify_amgm_certificate(
                _replace(cert, cofactors=cert.cofactors[:1])
            ),
            "2 bases but 1 cofactors",
        ),
        (
            lambda: C.verify_amgm_certificate(cert),
            lambda: C.verify_amgm_certificate(
                _replace(cert, bases=cert.bases * 2)
            ),
            "4 bases but 2 cofactors",
        ),
        (
            lambda: C.cauchy_schwarz_certificate(1),
            lambda: C.cauchy_schwarz_certificate(0),
            "m must be an integer >= 1, got 0",
        ),
        (
            lambda: C.cauchy_schwarz_certificate(12),
            lambda: C.cauchy_schwarz_certificate(13),
            "m must be at most 12, got 13",
        ),
        (
            lambda: C.nuclear_norm_2x2(A22),
            lambda: C.nuclear_norm_2x2(sp.Matrix([[1, 2, 3]])),
            "M must be an explicit 2 x 2 sympy Matrix, got (1, 3)",
        ),
        (
            lambda: C.nuclear_norm_2x2(A22),
            lambda: C.nuclear_norm_2x2(np.eye(2)),
            "M must be an explicit 2 x 2 sympy Matrix, got (2, 2)",
        ),
        (
            lambda: C.nuclear_norm_2x2(A22),
            lambda: C.nuclear_norm_2x2([[1, 0], [0, 1]]),
            "M must be an explicit 2 x 2 sympy Matrix, got list",
        ),
        (
            lambda: C.frobenius_nuclear_certificate(A22, A22, 1),
            lambda: C.frobenius_nuclear_certificate(sp.eye(3), A22, 1),
            "A must be an explicit 2 x 2 sympy Matrix",
        ),
        (
            lambda: C.frobenius_nuclear_certificate(A22, A22, -1),
            lambda: C.frobenius_nuclear_certificate(A22, np.eye(2), 1),
            "B must be an explicit 2 x 2 sympy Matrix",
        ),
        (
            lambda: C.frobenius_nuclear_certificate(A22, A22, -1),
            lambda: C.frobenius_nuclear_certificate(A22, A22, 0),
            "sign must be +1 or -1, got 0",
        ),
        (
            lambda: C.frobenius_nuclear_certificate(A22, A22, 1),
            lambda: C.frobenius_nuclear_certificate(A22, A22, True),
            "sign must be +1 or -1, got True",
        ),
        (
            lambda: C.frobenius_nuclear_certificate(A22, A22, 1),
            lambda: C.frobenius_nuclear_certificate(A22, A22, 2),
            "sign must be +1 or -1, got 2",
        ),
        (
            lambda: S.kron(A22, A22),
            lambda: S.kron(np.eye(2), A22),
            "P must be an explicit sympy Matrix, got ndarray",
        ),
        (
            lambda: S.kron(A22, A22),
            lambda: S.kron(A22, 2),
            "Q must be an explicit sympy Matrix, got int",
        ),
        (
            lambda: SB.geometric_mean_rearrangement(2),
            lambda: SB.geometric_mean_rearrangement(1),
            "L must be an integer >= 2, got 1",
        ),
        (
            lambda: SB.geometric_mean_rearrangement(16),
            lambda: SB.geometric_mean_rearrangement(17),
            "L must be at most 16, got 17",
        ),
        (
            lambda: S.equal_positive(x[0], x[0]),
            lambda: S.equal_positive(1, x[0]),
            "lhs must be a sympy expression, got int",
        ),
        (
            lambda: S.equal_positive(x[0], sp.Integer(1)),
            lambda: S.equal_positive(x[0], 1.0),
            "rhs must be a sympy expression, got float",
        ),
        (
            lambda: SC.construction_scalars(2),
            lambda: SC.construction_scalars(1),
            "depth L must be an integer >= 2, got 1",
        ),
        (
            lambda: SC.construction_scalars(3),
            lambda: SC.construction_scalars(sp.Rational(5, 2)),
            "depth L must be an integer >= 2, got 5/2",
        ),
        (
            lambda: SC.construction_scalars(3, x=sp.Rational(1, 10**9)),
            lambda: SC.construction_scalars(3, x=0),
            "x must be positive, got 0",
        ),
        (
            lambda: SC.construction_scalars(3, y=sp.Symbol("y")),
            lambda: SC.construction_scalars(3, y=-1),
            "y must be positive, got -1",
        ),
        (
            lambda: SC.construction_scalars(3, nu=1),
            lambda: SC.construction_scalars(
                3, nu=-sp.Symbol("p", positive=True)
            ),
            "nu must be positive, got -p",
        ),
        (
            lambda: SC.construction_partial_norms(1, 3, 1, 1, 1, 1, 1),
            lambda: SC.construction_partial_norms(0, 3, 1, 1, 1, 1, 1),
            "split position l must be an integer in 1..L-1 = 1..2, got 0",
        ),
        (
            lambda: SC.construction_partial_norms(2, 3, 1, 1, 1, 1, 1),
            lambda: SC.construction_partial_norms(3, 3, 1, 1, 1, 1, 1),
            "split position l must be an integer in 1..L-1 = 1..2, got 3",
        ),
        (
            lambda: SC.construction_partial_norms(1, 2, 1, 1, 1, 1, 1),
            lambda: SC.construction_partial_norms(
                sp.Rational(3, 2), 3, 1, 1, 1, 1, 1
            ),
            "split position l must be an integer in 1..L-1 = 1..2, got 3/2",
        ),
        (
            lambda: SC.construction_partial_norms(1, 2, 1, 1, 1, 1, 1),
            lambda: SC.construction_partial_norms(1, 1, 1, 1, 1, 1, 1),
            "depth L must be an integer >= 2, got 1",
        ),
        (
            lambda: SC.construction_terms(2, 1, 1, 1, 1, 1, 1, 1),
            lambda: SC.construction_terms(1, 1, 1, 1, 1, 1, 1, 1),
            "depth L must be an integer >= 2, got 1",
        ),
        (
            lambda: SC.rational_semi_orthogonal(1, 1),
            lambda: SC.rational_semi_orthogonal(0, 1),
            "m must be an integer >= 1, got 0",
        ),
        (
            lambda: SC.rational_semi_orthogonal(3, 1),
            lambda: SC.rational_semi_orthogonal(4, 1),
            "m must be at most 3, got 4",
        ),
        (
            lambda: SC.rational_semi_orthogonal(2, 2),
            lambda: SC.rational_semi_orthogonal(2, 3),
            "r must be at most 2, got 3",
        ),
        (
            lambda: SC.rational_semi_orthogonal(2, 1),
            lambda: SC.rational_semi_orthogonal(2, 0),
            "r must be an integer >= 1, got 0",
        ),
        (
            lambda: SC.rational_semi_orthogonal(2, 1, "u"),
            lambda: SC.rational_semi_orthogonal(2, 1, ""),
            "name must be a nonempty string, got ''",
        ),
        (
            lambda: SC.generic_construction((1, 4, 1), 1),
            lambda: SC.generic_construction((1, 5, 1), 1),
            "every width d_i must be at most 4, got 5",
        ),
        (
            lambda: SC.generic_construction((1, 1, 1), 1),
            lambda: SC.generic_construction((1, 0, 1), 1),
            "every width d_i must be an integer >= 1, got 0",
        ),
        (
            lambda: SC.generic_construction((1, 1, 1), 1),
            lambda: SC.generic_construction(3, 1),
            "widths must be a sequence of integers (d_0, ..., d_L), got 3",
        ),
        (
            lambda: SC.generic_construction((1, 1, 1), 1),
            lambda: SC.generic_construction((1, 1), 1),
            "widths (d_0, ..., d_L) must describe a depth 2 <= L <= 12, got 1",
        ),
        (
            lambda: SC.generic_construction((1,) * 13, 1),
            lambda: SC.generic_construction((1,) * 14, 1),
            "widths (d_0, ..., d_L) must describe a depth 2 <= L <= 12, got 13",
        ),
        (
            lambda: SC.generic_construction((1, 1, 1), 1),
            lambda: SC.generic_construction((1, 1, 1), 0),
            "rank must be an integer >= 1, got 0",
        ),
        (
            lambda: SC.generic_construction((2, 2, 2), 2),
            lambda: SC.generic_construction((2, 2, 1, 2), 2),
            "width d_2 = 1 is below the rank r = 2: the construction needs every d_i >= r",
        ),
        (
            lambda: SC.generic_construction((2, 2, 2), 2),
            lambda: SC.generic_construction((1, 2, 2), 2),
            "width d_0 = 1 is below the rank r = 2: the construction needs every d_i >= r",
        ),
        (
            lambda: SC.verify_generic_construction(
                SC.generic_construction((1, 1, 1), 1)
            ),
            lambda: SC.verify_generic_construction("gc"),
            "gc must be a GenericConstruction, got str",
        ),
        (
            lambda: K.whitened_prediction(3, 1),
            lambda: K.whitened_prediction(4, 1),
            "d0 must be at most 3, got 4",
        ),
        (
            lambda: K.whitened_prediction(1, 3),
            lambda: K.whitened_prediction(1, 0),
            "dL must be an integer >= 1, got 0",
        ),
    ]


def _replace(cert, **changes):
    import dataclasses

    return dataclasses.replace(cert, **changes)


@pytest.mark.parametrize("case", range(len(sym_cases())))
def test_symbolic_checks(case):
    accepted, rejected, message = sym_cases()[case]
    check_boundary(accepted, rejected, lit(message))


@pytest.mark.parametrize("position", range(5))
def test_regularizer_trace_sizes(position):
    names = "d0 k0 kL dL n".split()
    for good, bad, message in [
        (3, 4, f"{names[position]} must be at most 3, got 4"),
        (1, 0, f"{names[position]} must be an integer >= 1, got 0"),
    ]:
        args = [1] * 5
        args[position] = good
        K.regularizer_trace(*args)
        K.kronecker_trace_factorization(*args[:4])
        args[position] = bad
        with pytest.raises(ValueError, match=lit(message)):
            K.regularizer_trace(*args)


# --- known numerical weaknesses -------------------------------------------------------------------


def test_kronecker_rel_error_is_scale_invariant():
    X, Y = np.diag([1.0, 2.0]), np.diag([3.0, 1.0, 2.0])
    xs, ys = dlnlib.product_design(X, Y)
    assert (
        dlnlib.kronecker_factors(xs, ys).rel_error < 1e-12
    )  # the assumption holds at scale 1
    assert dlnlib.kronecker_factors(1e-50 * xs, 1e-50 * ys).rel_error < 1e-12


def test_problem_scale_that_is_not_a_number_is_named():
    with pytest.raises(
        ValueError, match=lit("scale must be a number, got None")
    ):
        gaussian_sensing(3, 2, 2, 1, seed=0, scale=None)
