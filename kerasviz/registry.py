"""The one list of techniques: name, function, family, what it needs, its options and its picture.

Everything that enumerates techniques reads this list: the command line (one subcommand per
technique, `--help` order), `kerasviz demo` (each technique's panel), the explorer, the
explainer export (`servable`), SmoothGrad's built-in methods (`noise_tunnel`), the faithfulness
table, `kv.evaluate`, the conformance tests and the README tables.

This module imports nothing heavy (no TensorFlow): functions are named as `"module:function"`
and imported on first use, so `kerasviz --help` stays fast.

Adding a technique: write its module (and test), then add one `Technique(...)` entry below.
"""

from __future__ import annotations

import difflib
from typing import Dict, Optional, Tuple

from .errors import ParameterError
from .technique import Option, Technique

__all__ = ["COMPOSITE_NAMES", "TECHNIQUES", "get_technique", "technique_names"]

_LAYER = Option("layer", str, None, "feature-map layer (default: the backbone's Grad-CAM layer)")
_CHANNELS = Option("channels", int, None, "use only this many channels (default: all)", quick=4)
_CAM = ("class_scores", "gradients", "layer")
#: LRP's composites (`kerasviz.relevance.COMPOSITES`; named here so the registry needs no TensorFlow).
COMPOSITE_NAMES = (
    "epsilon", "epsilon_plus", "epsilon_plus_flat", "epsilon_gamma_box", "epsilon_alpha2_beta1",
    "epsilon_alpha2_beta1_flat",
)
_A = "kerasviz.attribution"
_DEMO = "kerasviz.demo.attribution"

# fmt: off
#: Every technique, in README / help / gallery order within its family.
TECHNIQUES: Tuple[Technique, ...] = (
    # attribution: gradients and perturbations
    Technique(
        "saliency", "Saliency", f"{_A}.saliency:saliency", "attribution",
        "vanilla gradient saliency map (Simonyan et al.)",
        panel=("Saliency (vanilla gradients)", f"{_DEMO}:render_saliency"), servable=True, noise_tunnel=True,
    ),
    Technique(
        "smoothgrad", "SmoothGrad", f"{_A}.smoothgrad:smoothgrad", "attribution",
        "SmoothGrad saliency map (noise-averaged gradients)",
        options=(
            Option("samples", int, 50, "noisy copies", quick=2),
            Option("noise", float, 0.15, "noise standard deviation / value range"),
            Option("seed", int, None, "noise seed", quick=0),
        ),
        panel=("SmoothGrad", f"{_DEMO}:render_smoothgrad"),
    ),
    Technique(
        "integrated_gradients", "Integrated gradients", f"{_A}.integrated_gradients:integrated_gradients",
        "attribution", "integrated gradients (|attribution| summed over colours)", output="attribution",
        options=(Option("steps", int, 64, "path intervals", quick=2),),
        panel=("Integrated gradients", f"{_DEMO}:render_integrated_gradients"), servable=True, noise_tunnel=True,
    ),
    Technique(
        "gradient_x_input", "Gradient x input", f"{_A}.gradient_x_input:gradient_x_input", "attribution",
        "gradient x input (|attribution| summed over colours)", output="attribution",
        panel=("Gradient x input", f"{_DEMO}:render_gradient_x_input"),
    ),
    Technique(
        "occlusion", "Occlusion", f"{_A}.occlusion:occlusion", "attribution",
        "occlusion sensitivity (drop in class probability)", needs=("class_scores",), output="probability_drop",
        options=(
            Option("patch", int, 32, "patch side in pixels", quick=16),
            Option("stride", int, 16, "patch step in pixels", quick=16),
        ),
        panel=("Occlusion sensitivity", f"{_DEMO}:render_occlusion"),
    ),
    Technique(
        "guided_backprop", "Guided backprop", f"{_A}.guided_backprop:guided_backprop", "attribution",
        "guided backpropagation picture (of a class, or of a layer's --channel)", needs=_CAM,
        output="attribution", own_command=True, faithfulness=False, noise_tunnel=True,
        panel=("Guided backpropagation of intermediate neurons", f"{_DEMO}:render_guided_backprop"),
    ),
    Technique(
        "attention_rollout", "Attention rollout", f"{_A}.attention_rollout:attention_rollout", "attribution",
        "attention rollout of a vision transformer (class-agnostic)", needs=("attention", "layer"),
        targeted=False, faithfulness=False,
        options=(Option("head_fusion", str, "mean", "how heads combine", ("mean", "max", "min")),),
    ),
    # the CAM family
    Technique(
        "gradcam", "Grad-CAM", f"{_A}.gradcam:gradcam", "cams", "Grad-CAM heatmap", needs=_CAM,
        options=(_LAYER,), panel=("Grad-CAM", f"{_DEMO}:render_gradcam"), servable=True,
    ),
    Technique(
        "gradcam_plus_plus", "Grad-CAM++", f"{_A}.gradcam:gradcam_plus_plus", "cams",
        "Grad-CAM++ heatmap (pixel-wise weighted positive gradients)", needs=_CAM, options=(_LAYER,),
        panel=("Grad-CAM++", f"{_DEMO}:render_gradcam_plus_plus"),
    ),
    Technique(
        "hires_cam", "HiResCAM", f"{_A}.gradient_cams:hires_cam", "cams",
        "HiResCAM heatmap (gradient x activation, no averaging)", needs=_CAM, options=(_LAYER,),
    ),
    Technique(
        "xgrad_cam", "XGrad-CAM", f"{_A}.gradient_cams:xgrad_cam", "cams", "XGrad-CAM heatmap",
        needs=_CAM, options=(_LAYER,),
    ),
    Technique(
        "layer_cam", "LayerCAM", f"{_A}.layer_cam:layer_cam", "cams",
        "LayerCAM heatmap (--layer may be given several times to fuse layers)", needs=_CAM,
        options=(Option("layer", str, None, "feature-map layer; repeat to fuse several", repeat=True),),
    ),
    Technique(
        "score_cam", "Score-CAM", f"{_A}.score_cam:score_cam", "cams",
        "Score-CAM heatmap (channels weighted by masked-image scores)", needs=("class_scores", "layer"),
        options=(_LAYER, _CHANNELS),
    ),
    Technique(
        "ablation_cam", "Ablation-CAM", f"{_A}.ablation_cam:ablation_cam", "cams",
        "Ablation-CAM heatmap (score drop when each channel is zeroed)", needs=("class_scores", "layer"),
        options=(_LAYER, _CHANNELS),
    ),
    Technique(
        "eigen_cam", "Eigen-CAM", f"{_A}.eigen_cam:eigen_cam", "cams",
        "Eigen-CAM heatmap (first principal component; class-agnostic)", needs=("layer",),
        options=(_LAYER,), targeted=False,
    ),
    # relevance: layer-wise relevance propagation
    Technique(
        "lrp", "LRP", "kerasviz.relevance.lrp:lrp", "relevance",
        "layer-wise relevance propagation (Zennit 0.5.1's rules and composites)", needs=_CAM, output="relevance",
        options=(
            Option("composite", str, "epsilon_plus_flat", "rules per layer type", COMPOSITE_NAMES),
            Option("epsilon", float, 1e-6, "stabilizer of the epsilon rule"),
            Option("gamma", float, 0.25, "weight of positive parts in the gamma rule"),
            Option("low", float, 0.0, "lowest pixel value (z-box rule)"),
            Option("high", float, 255.0, "highest pixel value (z-box rule)"),
        ),
        panel=("Layer-wise relevance propagation", "kerasviz.relevance.pictures:render_lrp_panel"),
    ),
    # black-box: only queries (works through TF Serving)
    Technique(
        "rise", "RISE", "kerasviz.blackbox.rise:rise", "blackbox",
        "RISE: random masks weighted by the class probability (queries only)",
        needs=("class_scores", "queries"), output="importance",
        options=(
            Option("masks", int, 4000, "random masks", quick=32),
            Option("cell", int, 7, "mask grid cells per side"),
            Option("p", float, 0.5, "probability of keeping a cell"),
            Option("seed", int, 0, "mask seed"),
        ),
        panel=("Black-box: RISE, LIME, Kernel SHAP and Sobol beside Grad-CAM", "kerasviz.blackbox.panel:render_blackbox_panel"),
    ),
    Technique(
        "lime", "LIME", "kerasviz.blackbox.lime:lime", "blackbox",
        "LIME: a weighted linear model over superpixels (queries only)", needs=("class_scores", "queries"),
        output="signed", batched=False,
        options=(
            Option("samples", int, 1000, "perturbed copies", quick=32),
            Option("kernel_width", float, 0.25, "width of the similarity kernel"),
            Option("seed", int, 0, "sampling seed"),
        ),
    ),
    Technique(
        "kernel_shap", "Kernel SHAP", "kerasviz.blackbox.kernel_shap:kernel_shap", "blackbox",
        "Kernel SHAP: Shapley values of superpixels (queries only)", needs=("class_scores", "queries"),
        output="signed", batched=False,
        options=(Option("samples", int, 2048, "coalitions", quick=32), Option("seed", int, 0, "sampling seed")),
    ),
    Technique(
        "sobol_attribution", "Sobol attribution", "kerasviz.blackbox.sobol:sobol_attribution", "blackbox",
        "total Sobol indices of a grid of masks (queries only)", needs=("class_scores", "queries"),
        output="importance", short_command="sobol",
        options=(
            Option("grid", int, 11, "mask grid cells per side", quick=4),
            Option("design", int, 32, "quasi-random design size", quick=4),
            Option("seed", int, 0, "design seed"),
        ),
    ),
)
# fmt: on

_BY_NAME: Dict[str, Technique] = {technique.name: technique for technique in TECHNIQUES}
_BY_NAME.update({t.command.replace("-", "_"): t for t in TECHNIQUES if t.short_command})


def technique_names(
    *, family: Optional[str] = None, need: Optional[str] = None, **flags: bool
) -> Tuple[str, ...]:
    """Names of the registered techniques, in registry order, optionally filtered.

    Args:
        family: Keep one family (a key of `FAMILIES`).
        need: Keep techniques that need this (a key of `NEEDS`).
        **flags: Keep techniques whose boolean attribute has this value, e.g. `servable=True`.

    Returns:
        The technique names.
    """
    return tuple(
        t.name
        for t in TECHNIQUES
        if (family is None or t.family == family)
        and (need is None or need in t.needs)
        and all(getattr(t, key) == value for key, value in flags.items())
    )


def get_technique(name: str) -> Technique:
    """The registered technique of a name (Python or command spelling).

    Args:
        name: e.g. `"integrated_gradients"` or `"integrated-gradients"`.

    Returns:
        The `Technique`.

    Raises:
        ParameterError: Unknown name (the message lists close matches).
    """
    key = str(name).replace("-", "_")
    if key in _BY_NAME:
        return _BY_NAME[key]
    close = difflib.get_close_matches(key, list(_BY_NAME), n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise ParameterError(
        f"Unknown technique {name!r}.{hint} Choose from {', '.join(_BY_NAME)}. Received: {name!r}"
    )
