"""Gradient flow (dlnlib.flow): it follows gradient descent with small steps, reaches the
loss tolerance, shows the Razin-Cohen growth of |w| with depth, and refuses bad input."""

import numpy as np
import pytest

from dlnlib.flow import gradient_flow
from dlnlib.problems import gaussian_sensing
from dlnlib.training import label_noise_sgd

E2 = np.eye(2)
RC = (
    E2[[0, 1, 1]],
    E2[[1, 0, 1]],
    np.array([1.0, 1.0, 0.0]),
)  # the 2 x 2 problem


def test_flow_matches_gradient_descent_with_small_steps():
    """Up to flow time 2, gradient descent with step 1e-4 (2e4 steps) stays within 1e-3
    (relative) of the flow from the same start; with step 0.2 (10 steps) it does not."""
    pb = gaussian_sensing(12, 3, 3, 1, seed=2)
    dims = (3, 4, 3)
    flow = gradient_flow(
        pb.xs, pb.ys, pb.targets, dims, seeds=[5], t_max=2.0, loss_tol=1e-14
    )
    assert not flow.converged[0], (
        "the flow reached the loss tolerance before t = 2"
    )
    assert flow.time[0] == pytest.approx(2.0)

    def gd(lr):
        run = label_noise_sgd(
            pb.xs, pb.ys, pb.targets, dims, lr=lr, noise_std=0.0,
            steps=round(2.0 / lr), seeds=[5], max_final_steps=0, progress=False,
        )  # fmt: skip
        W = run.end_to_end[0]
        return np.linalg.norm(W - flow.end_to_end[0]) / np.linalg.norm(W)

    assert gd(1e-4) < 1e-3, f"small-step GD is {gd(1e-4):.2g} from the flow"
    assert gd(0.2) > 1e-3, (
        "large-step GD is as close to the flow as small-step GD"
    )


def test_flow_reaches_the_loss_tolerance_and_norms_grow_with_depth():
    """On the 2 x 2 problem every chain ends at relative loss <= 1e-12; at depth 3 the median
    |w| is larger from init 1e-3 than from 1e-1 (Razin and Cohen), at depth 2 it is not."""
    med = {}
    for L in (2, 3):
        for s in (1e-1, 1e-3):
            run = gradient_flow(
                *RC, (2,) * (L + 1), init_scale=s, seeds=range(6)
            )
            assert run.converged.all(), (
                f"L = {L}, init {s}: not every chain converged"
            )
            assert run.relative_loss.max() <= 1e-12
            med[L, s] = np.median(np.abs(run.end_to_end[:, 0, 0]))
    assert med[3, 1e-3] > 2 * med[3, 1e-1], med
    assert med[2, 1e-3] < 2 * med[2, 1e-1], med


def test_flow_end_to_end_is_the_product_of_its_layers():
    run = gradient_flow(*RC, (2, 3, 3, 2), init_scale=0.3, seeds=[1, 2])
    for c in range(2):
        product = np.linalg.multi_dot([w[c] for w in run.weights])
        np.testing.assert_allclose(
            run.end_to_end[c], product, rtol=1e-12, atol=1e-14
        )
    r = np.einsum("ni,cij,nj->cn", RC[0], run.end_to_end, RC[1]) - RC[2]
    np.testing.assert_allclose(
        run.loss, 0.5 * np.mean(r**2, axis=1), rtol=1e-9
    )


@pytest.mark.parametrize(
    "change, message",
    [
        ({"dims": (3, 2, 2)}, "xs has 2 columns"),
        ({"dims": (2,)}, "depth|L >= 2|dims"),
        ({"targets": np.zeros(3)}, "targets are all zero"),
        ({"targets": np.ones(4)}, "targets has length 4"),
        ({"targets": np.array([1.0, np.nan, 0.0])}, "NaN"),
        ({"init_scale": 0.0}, "init_scale"),
        ({"loss_tol": 1.0}, "loss_tol must be below 1"),
        ({"loss_tol": -1e-12}, "loss_tol"),
        ({"t_max": 0.0}, "t_max"),
        ({"rtol": 1e-2}, "rtol must be in"),
        ({"seeds": [-1]}, "nonnegative"),
    ],
    ids=lambda c: str(c)[:30],
)
def test_bad_input_is_refused(change, message):
    args = dict(xs=RC[0], ys=RC[1], targets=RC[2], dims=(2, 2, 2))
    args.update(change)
    with pytest.raises(ValueError, match=message):
        gradient_flow(
            args.pop("xs"), args.pop("ys"), args.pop("targets"), args.pop("dims"),
            **args,
        )  # fmt: skip
