"""How a Backbone is made from a user's model: wrapping subclassed models, finding the classifier,
and choosing default layers that `FeatureModel` can address (layers and operation nodes)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import keras
import numpy as np

from ..compiled import cached
from ..errors import ModelError
from ..features import LOGITS
from ..graph_nodes import is_graph_model, nodes_by_name
from ..graph_tracing import trace_model
from ..spatial_path import SpatialTrace, spatial_taps, tensors_in
from ..tokens import MAX_SKIP_TOKENS

__all__ = [
    "FEATURE_OUTPUTS",
    "default_layers",
    "feature_map_layers",
    "functional_wrapper",
    "is_classifier_output",
    "last_attention_input",
    "token_layers",
]

#: Layer classes whose rank-2 output is pooled features, not class scores (`pooling="avg"`).
FEATURE_OUTPUTS = (
    keras.layers.GlobalAveragePooling2D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalMaxPooling1D,
)


def functional_wrapper(
    model: keras.Model, input_shape: Optional[Sequence[Optional[int]]]
) -> keras.Model:
    """A Functional model `keras.Input -> model` around a subclassed model (run as one node).

    Args:
        model: A subclassed `keras.Model` (a `call` method, no layer graph).
        input_shape: `(H, W, 3)` of one image, or `None` to use the shape the model was built
            with (e.g. by calling it once on data).

    Returns:
        A Functional model with the subclassed model as its only node.

    Raises:
        ModelError: No `input_shape` and the model was never built, or it cannot run on it.
    """
    if input_shape is None:
        shapes = getattr(model, "_build_shapes_dict", None) or {}
        built = next(iter(shapes.values()), None)
        if built is not None and len(built) >= 2:
            input_shape = tuple(built[1:])
    if input_shape is None:
        raise ModelError(
            f"Model {model.name!r} is a subclassed model (a `call` method) that was never built, "
            "so its input shape is unknown; pass it, e.g. `kerasviz.Backbone.from_model(model, "
            "input_shape=(224, 224, 3))`. Received: input_shape=None"
        )
    inputs = keras.Input(shape=tuple(input_shape), name="pixels")
    try:
        outputs = model(inputs)
    except Exception as error:  # user code in `call`: report it as a model error
        raise ModelError(
            f"Subclassed model {model.name!r} could not run on a symbolic input of shape "
            f"{tuple(input_shape)} ({type(error).__name__}: {error}). Check `input_shape`. "
            f"Received: input_shape={tuple(input_shape)}"
        ) from error
    return keras.Model(inputs, outputs, name=model.name)


def is_classifier_output(model: keras.Model) -> bool:
    """Whether a single-output model's output is class scores `(N, C)` (cached per model).

    A rank-2 output made directly by global pooling (e.g. `include_top=False, pooling="avg"`)
    is pooled features, not scores; feature maps and tokens are not scores. Any other rank-2
    output is taken as class scores (e.g. MobileNetV3's 1x1-convolution logits, flattened).

    Args:
        model: A Keras model with one output.

    Returns:
        True for a classifier.
    """

    def build() -> bool:
        if len(model.outputs[0].shape) != 2:
            return False
        producers: Dict[int, Any] = {}

        def record(node, *args, **kwargs):
            out = node(*args, **kwargs)
            producers[id(out)] = node
            return out

        try:
            _, output, _ = trace_model(model, call_layer=record)
        except ModelError:  # a subclassed node: its output is what it is
            return True
        return not isinstance(producers.get(id(output)), FEATURE_OUTPUTS)

    return cached(model, "is_classifier_output", build)


def feature_map_layers(model: keras.Model, trace: Optional[SpatialTrace] = None) -> List[str]:
    """Addressable names of nodes whose output is a feature map on the spatial path, in graph order.

    Nested models' inner nodes are included under their own names (those `FeatureModel`
    accepts); nested models themselves, subclassed (opaque) models, a node named `"logits"`
    (the key FeatureModel reserves) and global side branches (squeeze-excitation gates, pooled
    heads; see `kerasviz.spatial_path.spatial_taps`) are skipped.

    Args:
        model: A graph model (layers and operation nodes).
        trace: `spatial_taps(model)` if already computed.

    Returns:
        Names, each accepted by `FeatureModel(model, [name])`.
    """
    if not is_graph_model(model):
        return []
    trace = trace or spatial_taps(model)
    nodes = nodes_by_name(model)
    return [
        name
        for name in trace.taps
        if "/" not in name and name != LOGITS and not isinstance(nodes.get(name), keras.Model)
    ]


def token_layers(model: keras.Model, trace: Optional[SpatialTrace] = None) -> List[str]:
    """Addressable token layers `(N, T, C)` of a vision transformer, in graph order.

    A rank-3 output counts as tokens when, after at most `MAX_SKIP_TOKENS` leading class /
    register tokens, its count equals the patch grid of the model's last feature map (the patch
    embedding), so `kerasviz.tokens.token_grid` finds its grid.

    Args:
        model: A graph model.
        trace: `spatial_taps(model)` if already computed.

    Returns:
        Names (empty for models without tokens).
    """
    if not is_graph_model(model):
        return []
    trace = trace or spatial_taps(model)
    maps = feature_map_layers(model, trace)
    if not maps:
        return []
    taps = trace.all_taps
    height, width = taps[maps[-1]].shape[1:3]
    if height is None or width is None or height != width:
        return []
    patches = int(height) * int(width)
    return [
        name
        for name, tensor in taps.items()
        if "/" not in name
        and name != LOGITS
        and len(tensor.shape) == 3
        and tensor.shape[1] is not None
        and 0 <= int(tensor.shape[1]) - patches <= MAX_SKIP_TOKENS
    ]


def last_attention_input(model: keras.Model, candidates: Sequence[str]) -> Optional[str]:
    """The token layer feeding the model's last `keras.layers.MultiHeadAttention` (its query).

    Grad-CAM on a vision transformer needs patch tokens whose gradient still reaches the class
    score: after the last attention only the class token flows on to the head, so layers behind
    it (the final norm) give all-zero maps. The input of the last attention block is the usual
    choice (pytorch-grad-cam uses `blocks[-1].norm1`). Found from the graph, never from names.

    Args:
        model: A graph model (pixels in).
        candidates: Addressable token layer names (`token_layers(model)`); the answer is one
            of them.

    Returns:
        The name of the node whose output is the last attention layer's query, or `None` when
        the model has no `MultiHeadAttention` or that tensor is not one of `candidates`.
    """
    if not candidates or not is_graph_model(model):
        return None
    queries: List[Any] = []

    def record(node, *args, **kwargs):
        if isinstance(node, keras.layers.MultiHeadAttention):
            query = kwargs.get("query", next(tensors_in(args), None))
            if query is not None:
                queries.append(query)
        return node(*args, **kwargs)

    trace = spatial_taps(model, call_layer=record)
    if not queries:
        return None
    wanted = id(queries[-1])
    names = [name for name in candidates if id(trace.all_taps.get(name)) == wanted]
    return names[0] if names else None


def _spread(names: Sequence[str], count: int) -> List[str]:
    if len(names) <= count:
        return list(names)
    picks = np.linspace(0, len(names) - 1, count).round().astype(int)
    return [names[i] for i in picks]


def default_layers(model: keras.Model) -> Dict[str, Any]:
    """Default layers per technique family, chosen from the model's feature maps.

    Args:
        model: The Backbone's model (pixels in).

    Returns:
        `gradcam_layer` (last feature map; for a vision transformer the token layer feeding
        its last attention block, see `last_attention_input`, else its last token layer),
        `content_layers`, `style_layers` (spread over the
        convolutions), `dream_layers`, `first_conv_layer`; `None` / empty where the model has no
        addressable feature map (e.g. a subclassed model).
    """
    trace = spatial_taps(model) if is_graph_model(model) else None
    maps = feature_map_layers(model, trace)
    nodes = nodes_by_name(model) if maps else {}
    convs = [n for n in maps if isinstance(nodes.get(n), keras.layers.Conv2D)]
    tokens = token_layers(model, trace)
    attention_input = last_attention_input(model, tokens)
    gradcam_layer = attention_input or (tokens[-1] if tokens else maps[-1] if maps else None)
    return dict(
        gradcam_layer=gradcam_layer,
        content_layers=_spread(maps, 3)[1:2],
        style_layers=_spread(convs or maps, 5),
        dream_layers=_spread(maps, 4)[2:3],
        first_conv_layer=convs[0] if convs else None,
    )
