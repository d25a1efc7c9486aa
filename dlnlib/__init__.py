"""dlnlib: the computations behind the dln-nuclear book.

One module per idea, named after the math:

- :mod:`dlnlib.network`: the deep linear network ``W~ = W_1 ... W_L`` and ``P(x, y) = x^T W~ y``;
- :mod:`dlnlib.regularizer`: the label-noise regularizer ``R`` and its Kronecker form;
- :mod:`dlnlib.depth_two`: the exact minimum of ``R`` at depth two, for any data;
- :mod:`dlnlib.induced`: the smallest ``R`` over all factorizations of ``W~``, for any data and depth;
- :mod:`dlnlib.interpolant`: the interpolating ``W~`` of least induced regularizer ``R*``;
- :mod:`dlnlib.bound`: the nuclear-norm lower bound on ``R``;
- :mod:`dlnlib.construction`: the factorization that attains the bound;
- :mod:`dlnlib.kronecker`: the Kronecker assumption on the data and how far data are from it;
- :mod:`dlnlib.problems`: seeded sensing and completion problems for the training runs;
- :mod:`dlnlib.descent`: gradient descent on stacked chains (start, step, divergence), shared by
  the two training modules below;
- :mod:`dlnlib.training`: label-noise gradient descent, one chain or many batched;
- :mod:`dlnlib.flow`: gradient flow of the loss, integrated until the loss is near zero;
- :mod:`dlnlib.drift`: the drift of label-noise gradient descent along the interpolating set;
- :mod:`dlnlib.convex`: the minimum (weighted) nuclear-norm interpolant, with cvxpy;
- :mod:`dlnlib.weight_decay`: gradient descent with weight decay and the Schatten penalty it induces.
"""

from .bound import lower_bound, nuclear_norm, relative_distance
from .construction import construction_scales, optimal_factorization
from .convex import min_nuclear_norm, nuclear_norm_regression
from .depth_two import depth_two_factorization, depth_two_minimum
from .drift import predicted_drift
from .flow import gradient_flow
from .induced import compress, min_regularizer
from .kronecker import (
    KroneckerFactors,
    kronecker_factors,
    product_design,
    second_moment,
)
from .network import (
    end_to_end,
    jacobian,
    layer_gradients,
    partial_products,
    predict,
    random_weights,
    squared_loss,
)
from .problems import (
    Problem,
    completion_from_pattern,
    gaussian_sensing,
    matrix_completion,
)
from .regularizer import (
    regularizer,
    regularizer_gradient,
    regularizer_kron,
    regularizer_kron_terms,
    regularizer_terms,
)
from .training import label_noise_sgd
from .weight_decay import (
    schatten_penalty,
    weight_decay_gd,
    weight_decay_penalty,
)

__all__ = [
    "KroneckerFactors",
    "Problem",
    "completion_from_pattern",
    "compress",
    "construction_scales",
    "depth_two_factorization",
    "depth_two_minimum",
    "end_to_end",
    "gaussian_sensing",
    "gradient_flow",
    "jacobian",
    "kronecker_factors",
    "label_noise_sgd",
    "layer_gradients",
    "lower_bound",
    "matrix_completion",
    "min_nuclear_norm",
    "nuclear_norm_regression",
    "min_regularizer",
    "nuclear_norm",
    "optimal_factorization",
    "partial_products",
    "predict",
    "predicted_drift",
    "product_design",
    "random_weights",
    "regularizer",
    "regularizer_gradient",
    "regularizer_kron",
    "regularizer_kron_terms",
    "regularizer_terms",
    "relative_distance",
    "schatten_penalty",
    "second_moment",
    "squared_loss",
    "weight_decay_gd",
    "weight_decay_penalty",
]
