"""Walking and tracing a Keras model's graph: layers, operation nodes, nested and opaque models.

Used by `FeatureModel` (kerasviz.features): `FeatureModel(model, ["block4_conv2", "block5_conv3"])` builds one multi-output Keras model that
returns `{"block4_conv2": ..., "block5_conv3": ..., "logits": ...}`. Nested models (a Sequential
holding a Functional base, or a Backbone's preprocessing + base) are traced inline so their
inner layers are reachable; a final softmax is removed so `"logits"` is pre-softmax. Built models
are cached per (model, layers, input shape), so techniques can ask for one on every call.

The graph is walked node by node, so Keras 3 *operation nodes* (`x + y`, `keras.ops.multiply`,
... in `model.operations` but not in `model.layers`, e.g. ConvNeXt, MobileNetV3) are addressable
by their Keras name (`"add_3"`) like layers. Subclassed models (a `call` method, no graph) are
opaque: they run as one node, and asking for a layer inside one raises `ModelError`.

This module is the one place to import graph helpers from; they live in
`kerasviz.graph_nodes` (finding layers and operation nodes by name), `kerasviz.graph_tracing`
(running the graph on a fresh input: `Tracer`, `trace_model`) and `kerasviz.model_outputs`
(choosing one output of a multi-output model).
"""

from __future__ import annotations

# Type aliases for annotations, importable from here as before (not in `__all__`).
from .graph_tracing import (
    LayerCall,  # noqa: F401
)
from .model_outputs import (
    OutputKey,  # noqa: F401
)

__all__ = [
]
