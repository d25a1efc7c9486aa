"""label_noise_sgd(polish=True): Gauss-Newton steps finish the chains gradient descent leaves short."""

import numpy as np

import dlnlib
from dlnlib.problems import gaussian_sensing
from dlnlib.training import label_noise_sgd


def test_polish_reaches_final_tol_with_a_small_move():
    p = gaussian_sensing(20, 4, 4, 1, seed=2)
    kwargs = dict(
        lr=0.05,
        noise_std=0.5,
        seeds=[0, 1],
        steps=2000,
        final_tol=1e-14,
        progress=False,
    )
    rough = label_noise_sgd(
        p.xs,
        p.ys,
        p.targets,
        (4, 4, 4, 4),
        max_final_steps=0,
        polish=False,
        **kwargs,
    )
    fine = label_noise_sgd(
        p.xs,
        p.ys,
        p.targets,
        (4, 4, 4, 4),
        max_final_steps=0,
        polish=True,
        **kwargs,
    )
    zero = 0.5 * np.mean(p.targets**2)
    assert not rough.converged.any() and fine.converged.all()
    assert np.all(fine.loss <= 1e-14 * zero)
    # the polish is the smallest fitting change: it moves the weights about as much as the residual asks
    move = max(
        np.abs(a - b).max() for a, b in zip(rough.weights, fine.weights)
    )
    residual = np.sqrt(2 * rough.loss.max())
    assert 0 < move < 10 * residual
    assert np.allclose(
        dlnlib.predict([w[0] for w in fine.weights], p.xs, p.ys),
        p.targets,
        atol=1e-6,
    )


def test_polish_leaves_converged_chains_alone():
    p = gaussian_sensing(20, 4, 4, 1, seed=3)
    kwargs = dict(
        lr=0.05,
        noise_std=0.0,
        seeds=[0],
        steps=3000,
        final_tol=1e-6,
        progress=False,
    )
    a = label_noise_sgd(
        p.xs, p.ys, p.targets, (4, 4, 4), polish=False, **kwargs
    )
    b = label_noise_sgd(
        p.xs, p.ys, p.targets, (4, 4, 4), polish=True, **kwargs
    )
    assert a.converged.all()
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights))
