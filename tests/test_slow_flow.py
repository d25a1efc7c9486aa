"""The slow flow of R on the interpolating set and the fit of the chains to it
(dlnlib.drift.slow_flow, dlnlib.drift.fit_time_scale).

The scalar network P = a b with one sample x = y = 1 has a closed-form flow:
on the hyperbola a b = w write a = sqrt(w) e^u, b = sqrt(w) e^-u; then
R = a^2 + b^2 = 2 w cosh(2u), the leading drift moves u by
du/dtau = -2 tanh(2u) in the flow time tau = eta^2 sigma^2 t / 4, and
sinh(2u) decays like exp(-4 tau).
"""

import numpy as np
import pytest

import dlnlib
from dlnlib.drift import (
    drift_vector,
    fit_time_scale,
    predicted_drift,
    slow_flow,
)

ONE = np.array([[1.0]])


def scalar_R(tau, a0, b0):
    w = a0 * b0
    u0 = 0.5 * np.log(a0 / b0)
    s = np.sinh(2 * u0) * np.exp(-4 * tau)
    return 2 * w * np.sqrt(1 + s**2)


def test_the_scalar_flow_has_its_closed_form():
    a0, b0, eta, sigma = 3.0, 0.5, 0.1, 0.8
    ws = [np.array([[a0]]), np.array([[b0]])]
    c = eta**2 * sigma**2 / 4
    steps = 1.0 / c  # flow time tau = 1
    flow = slow_flow(ws, ONE, ONE, lr=eta, noise_std=sigma, steps=steps)
    ts = np.linspace(0, steps, 9)
    expected = scalar_R(c * ts, a0, b0)
    assert np.allclose(flow.regularizer(ts), expected, rtol=1e-6), (
        "R along the scalar flow differs from 2 w sqrt(1 + sinh(2 u0)^2 e^-8tau)"
    )
    a, b = (float(w[0, 0]) for w in flow.weights(steps))
    assert abs(a * b - a0 * b0) < 1e-8, "the flow left the hyperbola a b = w"
    assert flow.residual < 1e-7


@pytest.fixture(scope="module")
def point():
    rng = np.random.default_rng(3)
    dims = (3, 3, 3, 3)
    xs = np.eye(3)
    ys = np.eye(3)[rng.permutation(3)]
    ws = [np.eye(3) + 0.3 * rng.standard_normal((3, 3)) for _ in dims[1:]]
    ws[0] *= 1.5
    ws[-1] /= 1.5
    return ws, xs, ys


@pytest.mark.parametrize("covariance", ["leading", "lyapunov"])
def test_the_flow_descends_R_at_the_predicted_rate_at_every_point(
    point, covariance
):
    ws, xs, ys = point
    eta, sigma = 0.1, 0.5
    rate0 = predicted_drift(ws, xs, ys, lr=eta, noise_std=sigma)
    steps = 0.5 * float(dlnlib.regularizer(ws, xs, ys)) / abs(rate0)
    flow = slow_flow(
        ws, xs, ys, lr=eta, noise_std=sigma, steps=steps, covariance=covariance
    )
    assert flow.residual < 1e-6
    R = flow.regularizer(np.linspace(0, steps, 50))
    assert np.all(np.diff(R) < 0), "R does not decrease along the flow"
    for t in (0.0, 0.3 * steps, 0.9 * steps):
        h = 1e-4 * steps
        slope = np.diff(flow.regularizer([t, t + h]))[0] / h
        w = flow.weights(t)
        rate = predicted_drift(
            w, xs, ys, lr=eta, noise_std=sigma, covariance=covariance
        )
        assert slope == pytest.approx(rate, rel=1e-4), (
            f"at step {t:g} R falls at {slope:.6g} per step, the drift "
            f"formula says {rate:.6g}"
        )
        step = drift_vector(
            w, xs, ys, lr=eta, noise_std=sigma, covariance=covariance
        )
        assert np.allclose(
            dlnlib.network.jacobian(w, xs, ys) @ step, 0, atol=1e-12
        ), "the drift vector is not tangent to the interpolating set"


def synthetic(flow, kappa, shift, noise, chains=64, seed=0):
    rng = np.random.default_rng(seed)
    steps = np.linspace(0, flow.steps / 5.5, 120)
    mean = shift + flow.regularizer(kappa * steps)
    return steps, mean[:, None] + noise * rng.standard_normal(
        (len(steps), chains)
    )


@pytest.fixture(scope="module")
def flow(point):
    ws, xs, ys = point
    rate0 = predicted_drift(ws, xs, ys, lr=0.1, noise_std=0.5)
    steps = 11 * float(dlnlib.regularizer(ws, xs, ys)) / abs(rate0)
    return slow_flow(ws, xs, ys, lr=0.1, noise_std=0.5, steps=steps)


@pytest.mark.parametrize("kappa", [0.8, 1.0, 1.17])
def test_the_fit_recovers_a_known_time_scale_and_shift(flow, kappa):
    steps, R = synthetic(flow, kappa, shift=0.05, noise=0.2)
    fit = fit_time_scale(flow, steps, R, start=steps[5])
    assert abs(fit.time_scale - kappa) < 4 * fit.stderr + 1e-6, (
        f"fitted {fit.time_scale:.5f} ± {fit.stderr:.5f}, made with {kappa}"
    )
    assert 0 < fit.stderr < 0.01
    assert fit.shift == pytest.approx(0.05, abs=0.02)
    assert fit.misfit < 0.02
    exact = fit_time_scale(flow, *synthetic(flow, kappa, 0.05, noise=0.0))
    assert exact.time_scale == pytest.approx(kappa, abs=1e-5)
    assert exact.misfit < 1e-5


def test_groups_keep_antithetic_pairs_whole(flow):
    """Pairs whose noise cancels: whole-pair groups see no spread, split pairs a large one."""
    steps, R = synthetic(flow, 1.0, 0.0, noise=0.0, chains=12)
    rng = np.random.default_rng(1)
    e = 0.3 * rng.standard_normal((len(steps), 6))
    R[:, 0::2] += e
    R[:, 1::2] -= e  # each pair's mean is the flow exactly
    paired = fit_time_scale(flow, steps, R, groups=6, block=2)
    assert paired.time_scale == pytest.approx(1.0, abs=1e-5)
    assert paired.stderr < 1e-5, f"whole pairs: stderr {paired.stderr:.2g}"
    split = fit_time_scale(flow, steps, R, groups=12)  # one chain per group
    assert split.stderr > 100 * max(paired.stderr, 1e-7), (
        f"split pairs: stderr {split.stderr:.2g} against {paired.stderr:.2g}"
    )
    with pytest.raises(ValueError, match="whole blocks of 2"):
        fit_time_scale(flow, steps, R[:, :11], block=2)
    with pytest.raises(ValueError, match="6 blocks of 2"):
        fit_time_scale(flow, steps, R, groups=7, block=2)


def test_a_path_of_another_shape_leaves_a_large_misfit(flow):
    # the same start and end, but R falling in a straight line
    steps = np.linspace(0, flow.steps / 5.5, 120)
    R_flow = flow.regularizer(steps)
    line = np.linspace(R_flow[0], R_flow[-1], len(steps))
    fit = fit_time_scale(flow, steps, np.repeat(line[:, None], 8, axis=1))
    assert fit.misfit > 0.05, (
        f"a straight fall of R fits the flow to {fit.misfit:.3g}"
    )


def test_bad_input_is_refused(point, flow):
    ws, xs, ys = point
    steps, R = synthetic(flow, 1.0, 0.0, 0.1)
    with pytest.raises(ValueError, match="shape"):
        fit_time_scale(flow, steps, R[:-1])
    with pytest.raises(ValueError, match="groups"):
        fit_time_scale(flow, steps, R[:, :3])
    with pytest.raises(ValueError, match="flow is"):
        fit_time_scale(flow, steps * 2, R)
    with pytest.raises(ValueError, match="NaN"):
        fit_time_scale(flow, steps, np.where(R > 0, np.nan, R))
    with pytest.raises(RuntimeError, match="end of bounds"):
        fit_time_scale(
            flow, *synthetic(flow, 1.45, 0.0, 0.0), bounds=(0.5, 1.2)
        )
    with pytest.raises(ValueError, match="steps"):
        slow_flow(ws, xs, ys, lr=0.1, noise_std=0.5, steps=0)
    with pytest.raises(ValueError, match="rank below n"):
        same = np.ones((3, 3))  # three copies of one sample: J has rank 1
        slow_flow(ws, same, same, lr=0.1, noise_std=0.5, steps=10)
    with pytest.raises(ValueError, match="known for"):
        flow.regularizer([flow.steps * 1.01])


def test_flow_length_is_where_the_closed_form_has_done_the_fraction():
    a0, b0, eta, sigma = 3.0, 0.5, 0.1, 0.8
    ws = [np.array([[a0]]), np.array([[b0]])]
    c = eta**2 * sigma**2 / 4
    R0, R_inf = scalar_R(0.0, a0, b0), 2 * a0 * b0
    for fraction in (0.5, 0.9):
        T = dlnlib.drift.flow_length(
            ws, ONE, ONE, lr=eta, noise_std=sigma, fraction=fraction
        )
        # closed form: 2 w sqrt(1 + s^2 e^(-8 tau)) - 2 w = (1 - fraction) (R0 - 2 w)
        w = a0 * b0
        s0 = np.sinh(np.log(a0 / b0))
        target = R_inf + (1 - fraction) * (R0 - R_inf)
        tau = -np.log(((target / (2 * w)) ** 2 - 1) / s0**2) / 8
        # the grid of flow_length: 1601 points over at least 8 R0 / |dR/dt|
        spacing = (
            8
            * R0
            / abs(predicted_drift(ws, ONE, ONE, lr=eta, noise_std=sigma))
            / 1600
        )
        assert abs(T - tau / c) <= spacing + 1, (
            f"flow_length gives {T} steps for {fraction:.0%} of the descent, "
            f"the closed form {tau / c:.1f}"
        )
    with pytest.raises(ValueError, match="fraction"):
        dlnlib.drift.flow_length(
            ws, ONE, ONE, lr=eta, noise_std=sigma, fraction=1
        )


def test_the_standard_error_matches_the_scatter_of_repeated_fits(flow):
    fits = [
        fit_time_scale(flow, *synthetic(flow, 1.0, 0.0, noise=0.5, seed=s))
        for s in range(24)
    ]
    scatter = np.std([f.time_scale for f in fits], ddof=1)
    reported = np.sqrt(np.mean([f.stderr**2 for f in fits]))
    assert 0.5 < reported / scatter < 2, (
        f"reported standard error {reported:.2g}, scatter of the fits {scatter:.2g}"
    )
