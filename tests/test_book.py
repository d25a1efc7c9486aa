"""Book mechanics that chapters rely on for their checks."""

import numpy as np
import pytest

import dlnlib
from dlnlib import book


def test_coordinate_nudges_give_the_gradient_of_the_squared_loss():
    rng = np.random.default_rng(3)
    weights = [rng.standard_normal(s) for s in [(3, 4), (4, 2)]]
    xs, ys = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    targets = rng.standard_normal(5)
    h = 1e-5
    fd = [np.zeros_like(w) for w in weights]
    count = 0
    for l, idx, up, down in book.coordinate_nudges(weights, h):
        loss_up = dlnlib.squared_loss(up, xs, ys, targets)
        loss_down = dlnlib.squared_loss(down, xs, ys, targets)
        fd[l][idx] = (loss_up - loss_down) / (2 * h)
        count += 1
    assert count == 3 * 4 + 4 * 2
    # the loss is (1/2) sum_i (x_i^T W y_i - t_i)^2 (setup), whose gradient
    # in W_l is sum_i r_i A_l^T x_i (B_l y_i)^T, r_i the residual
    residuals = dlnlib.predict(weights, xs, ys) - targets
    grads = [np.zeros_like(w) for w in weights]
    for x, y, r in zip(xs, ys, residuals):
        for l, g in enumerate(dlnlib.layer_gradients(weights, x, y)):
            grads[l] += r * g
    for g, f in zip(grads, fd):
        np.testing.assert_allclose(f, g, rtol=1e-7, atol=1e-9)


def test_coordinate_nudges_leave_the_weights_alone_and_reject_bad_steps():
    weights = [np.ones((2, 2)), np.ones((2, 2))]
    list(book.coordinate_nudges(weights, 0.1))
    assert all(np.all(w == 1) for w in weights)
    for h in (0.0, -1e-3, np.nan, np.inf):
        with pytest.raises(ValueError, match="the step h must be a positive"):
            list(book.coordinate_nudges(weights, h))


def test_check_refuses_keeps_the_message_and_fails_without_a_refusal():
    with book.check_refuses("a bad width is refused") as refusal:
        raise ValueError("hidden width 1 is below rank 2")
    assert refusal.message == "hidden width 1 is below rank 2"
    with pytest.raises(book.ClaimError, match="claim failed: nothing raised"):
        with book.check_refuses("nothing raised"):
            pass
    # another kind of error is not a refusal: it passes through
    with pytest.raises(TypeError, match="not a refusal"):
        with book.check_refuses("a bad width is refused"):
            raise TypeError("not a refusal")
    with book.check_refuses("overflow refused", FloatingPointError) as r:
        raise FloatingPointError("diverged")
    assert r.message == "diverged"


@pytest.fixture
def glued(monkeypatch):
    """What the glue functions hand to myst-nb, by key."""
    store = {}
    monkeypatch.setattr(book, "_glue", store.__setitem__)
    return store


def test_glued_numbers_are_rounded_and_percentages_scaled(glued):
    assert book.rounded(3.14159) == 3.14 and book.rounded(0.012345, 2) == 0.012
    # the glue calls return nothing: a glue at the end of a cell shows no output
    assert book.glue_number("t_number", 3.14159, 3) is None
    book.glue_excess("t_excess", 0.012345)
    book.glue_excess("t_excess3", 0.012345, 3)
    book.glue_percent("t_percent", 1.012345)
    book.glue_int("t_int", np.int64(7))
    book.glue_text("t_text", 25)
    assert glued == {
        "t_number": 3.14,
        "t_excess": 1.2,
        "t_excess3": 1.23,
        "t_percent": 1.2,
        "t_int": 7,
        "t_text": "25",
    }
    assert type(glued["t_int"]) is int
