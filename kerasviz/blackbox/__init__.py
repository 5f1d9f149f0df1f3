"""Black-box explanations of any model you can query: RISE, LIME, Kernel SHAP, Sobol attribution.

A *predictor* is a `Backbone` / `keras.Model` (the softmax of its logits, one compiled batched
forward per call), a `PredictClient` / `RestPredictClient` (an image classifier behind TF Serving
or `kerasviz serve`), or any callable `images (N, H, W, 3) in [0, 255] -> (N, classes)`
probabilities. Perturbed images are made batch by batch; a progress bar counts the queries.
"""

from .clients import PredictClient, RestPredictClient
from .errors import PredictorError
from .kernel_shap import kernel_shap
from .lime import lime
from .predictors import Predictor, as_predictor
from .rise import rise
from .segments import default_segments
from .sobol import sobol_attribution

__all__ = [
    "PredictClient",
    "Predictor",
    "PredictorError",
    "RestPredictClient",
    "as_predictor",
    "default_segments",
    "kernel_shap",
    "lime",
    "rise",
    "sobol_attribution",
]
