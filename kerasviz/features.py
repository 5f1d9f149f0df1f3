"""Named-layer outputs of any Keras model in one call: nested models flattened, softmax stripped.

`FeatureModel(model, ["block4_conv2", "block5_conv3"])` builds one multi-output Keras model that
returns `{"block4_conv2": ..., "block5_conv3": ..., "logits": ...}`. Nested models (a Sequential
holding a Functional base, or a Backbone's preprocessing + base) are traced inline so their
inner layers are reachable; a final softmax is removed so `"logits"` is pre-softmax. Built models
are cached per (model, layers, input shape), so techniques can ask for one on every call.
"""

from __future__ import annotations

import difflib
import weakref
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import keras

from .errors import LayerNotFoundError, ModelError

__all__ = ["FeatureModel", "trace_model", "layer_names", "find_layer", "LOGITS"]

#: Key of the pre-softmax output in a FeatureModel's result.
LOGITS = "logits"

LayerCall = Callable[..., Any]


def _is_sequential(model: Any) -> bool:
    return isinstance(model, keras.Sequential)


def _is_functional(model: Any) -> bool:
    return isinstance(model, keras.Model) and hasattr(model, "_run_through_graph") and hasattr(
        model, "_nodes_by_depth"
    )


def _is_softmax(function: Any) -> bool:
    return getattr(function, "__name__", "") == "softmax"


class _WithoutActivation(keras.layers.Layer):
    """Calls a layer with a linear activation, without ever changing the user's layer.

    It runs `call` of a shallow copy of the layer whose `activation` is linear: the copy shares the
    kernel and bias objects (no weights are copied), and the user's layer is never modified, so
    other threads using the original model at the same time still get probabilities.
    """

    def __init__(self, layer: keras.layers.Layer, **kwargs) -> None:
        super().__init__(name=f"{layer.name}_logits", **kwargs)
        self.inner = layer  # tracked, so the feature model owns the shared weights
        linear = object.__new__(type(layer))  # not copy.copy: Keras rebuilds layers from config
        linear.__dict__.update(layer.__dict__)
        object.__setattr__(linear, "activation", keras.activations.linear)  # on the copy only
        object.__setattr__(self, "_linear", linear)  # untracked: its weights are `inner`'s

    def call(self, *args, **kwargs):
        return self._linear.call(*args, **kwargs)


class _Tracer:
    """Runs a model's graph on new symbolic inputs, inlining nested Functional / Sequential models."""

    def __init__(self, call_layer: Optional[LayerCall]) -> None:
        self.call_layer = call_layer or (lambda layer, *args, **kwargs: layer(*args, **kwargs))
        self.taps: Dict[str, Any] = {}
        self.producers: Dict[int, Tuple[Any, tuple, dict]] = {}

    def run(self, model: keras.Model, inputs: Any, prefix: str = "") -> Any:
        if _is_sequential(model):
            x = inputs
            for layer in model.layers:
                x = self.call(layer, prefix, (x,), {})
            return x
        if _is_functional(model):
            return model._run_through_graph(
                inputs, operation_fn=lambda op: lambda *a, **k: self.call(op, prefix, a, k)
            )
        raise ModelError(
            f"Cannot trace inside model {model.name!r} of class {type(model).__name__}: only "
            "Functional and Sequential models can be opened. Build it with the functional API, "
            f"or pass its layers' outputs yourself. Received: model={model.name!r}"
        )

    def call(self, layer: Any, prefix: str, args: tuple, kwargs: dict) -> Any:
        if _is_sequential(layer) or _is_functional(layer):
            inner = args[0] if len(args) == 1 else list(args)
            out = self.run(layer, inner, prefix=f"{prefix}{layer.name}/")
        else:
            out = self.call_layer(layer, *args, **kwargs)
        for key in (layer.name, f"{prefix}{layer.name}"):
            self.taps.setdefault(key, out)
        self.producers.setdefault(id(out), (layer, args, kwargs))  # innermost producer wins
        return out

    def logits(self, output: Any) -> Any:
        """The pre-softmax tensor behind `output` (itself when no softmax ends the model)."""
        layer, args, kwargs = self.producers.get(id(output), (None, (), {}))
        if isinstance(layer, keras.layers.Softmax) or (
            isinstance(layer, keras.layers.Activation) and _is_softmax(layer.activation)
        ):
            return args[0]
        if layer is not None and _is_softmax(getattr(layer, "activation", None)):
            return _WithoutActivation(layer)(*args, **kwargs)
        return output


def _single_input_shape(model: keras.Model) -> Tuple[Optional[int], ...]:
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ModelError(
            "The model has no defined input: build it with `keras.Input(shape=...)` or call it "
            f"once on data before visualizing it. Received: model={getattr(model, 'name', model)!r}"
        )
    if len(inputs) != 1:
        raise ModelError(
            "kerasviz visualizes models with one image input. Received: a model with "
            f"{len(inputs)} inputs"
        )
    return tuple(inputs[0].shape[1:])


def trace_model(
    model: keras.Model,
    *,
    input_shape: Optional[Sequence[Optional[int]]] = None,
    call_layer: Optional[LayerCall] = None,
) -> Tuple[Any, Any, Dict[str, Any]]:
    """Trace a model on a fresh input with nested models inlined.

    Args:
        model: A Functional or Sequential Keras model with one image input (nested Functional /
            Sequential models inside it are opened).
        input_shape: Shape of one input without the batch axis, e.g. `(None, None, 3)`; defaults
            to the model's own. Only layers that accept that shape may lie on the traced path.
        call_layer: Optional `call_layer(layer, *args, **kwargs)` used instead of
            `layer(*args, **kwargs)` for every leaf layer (e.g. to swap activations for guided
            backprop).

    Returns:
        `(inputs, logits, taps)`: the new `keras.Input`, the pre-softmax output tensor and a dict
        of every layer's output tensor by name (nested layers also as `"outer/inner"`).

    Raises:
        ModelError: The model has no input, several inputs, or an opaque nested model.
    """
    shape = tuple(input_shape) if input_shape is not None else _single_input_shape(model)
    inputs = keras.Input(shape=shape)
    tracer = _Tracer(call_layer)
    output = tracer.run(model, inputs)
    if isinstance(output, (list, tuple, dict)):
        raise ModelError(
            "kerasviz needs a model with one output (class scores). Received: a model with "
            f"{len(output)} outputs"
        )
    return inputs, tracer.logits(output), tracer.taps


def layer_names(model: keras.Model) -> List[str]:
    """Names of every layer of a model, nested models' layers included, in graph order.

    Args:
        model: A Keras model or a `Backbone`.

    Returns:
        The layer names that `FeatureModel` accepts.
    """
    model = getattr(model, "model", model)
    names: List[str] = []

    def walk(m):
        for layer in m.layers:
            names.append(layer.name)
            if _is_sequential(layer) or _is_functional(layer):
                walk(layer)

    walk(model)
    return names


def _not_found(name: str, available: Sequence[str], model_name: str) -> LayerNotFoundError:
    close = difflib.get_close_matches(name, available, n=5, cutoff=0.5)
    hint = f"Did you mean {', '.join(map(repr, close))}? " if close else ""
    return LayerNotFoundError(
        f"No layer named {name!r} in model {model_name!r}. {hint}"
        f"`kerasviz.layer_names(model)` lists all {len(available)} layers. Received: layer={name!r}"
    )


def find_layer(model: keras.Model, name: str) -> keras.layers.Layer:
    """The layer called `name`, searching nested models too.

    Args:
        model: A Keras model or a `Backbone`.
        name: The layer's name.

    Returns:
        The layer object.

    Raises:
        LayerNotFoundError: No such layer; the message lists close matches.
    """
    model = getattr(model, "model", model)
    stack = [model]
    while stack:
        current = stack.pop()
        for layer in current.layers:
            if layer.name == name:
                return layer
            if _is_sequential(layer) or _is_functional(layer):
                stack.append(layer)
    raise _not_found(name, layer_names(model), model.name)


_CACHE: "weakref.WeakKeyDictionary[keras.Model, Dict[tuple, keras.Model]]" = (
    weakref.WeakKeyDictionary()
)


def _build(
    model: keras.Model, names: Tuple[str, ...], logits: bool, input_shape: Optional[tuple]
) -> keras.Model:
    inputs, logits_tensor, taps = trace_model(model)
    missing = [n for n in names if n not in taps]
    if missing:
        raise _not_found(missing[0], layer_names(model), model.name)
    outputs = {name: taps[name] for name in names}
    if logits:
        outputs[LOGITS] = logits_tensor
    built = keras.Model(inputs, outputs, name=f"{model.name}_features")
    if input_shape is not None and tuple(input_shape) != tuple(inputs.shape[1:]):
        # Re-run the pruned graph (only the layers the outputs need) on an input of the new size.
        new_inputs = keras.Input(shape=tuple(input_shape))
        tracer = _Tracer(None)
        out = tracer.run(built, new_inputs)
        fixed = [
            name
            for name, tensor in tracer.taps.items()
            if name in taps and tensor.shape[-1] is None and taps[name].shape[-1] is not None
        ]
        if fixed:  # e.g. a Flatten feeding a Dense: its width depends on the image size
            raise ModelError(
                f"Layers {list(names)} of {model.name!r} cannot run at input shape "
                f"{tuple(input_shape)}: layer {fixed[0]!r} needs the model's own input size "
                f"{tuple(inputs.shape[1:])}. Use that size, or ask for earlier layers without "
                f"logits. Received: input_shape={tuple(input_shape)}"
            )
        built = keras.Model(new_inputs, out, name=f"{model.name}_features")
    return built


class FeatureModel:
    """All named layer outputs (plus logits) of a model in one call.

    Example:
        >>> features = FeatureModel(backbone, ["block4_conv2"])
        >>> outputs = features(images)  # {"block4_conv2": (N, h, w, c), "logits": (N, classes)}
    """

    def __init__(
        self,
        model: Any,
        layer_names: Sequence[str] = (),
        *,
        logits: bool = True,
        input_shape: Optional[Sequence[Optional[int]]] = None,
    ) -> None:
        """Build (or fetch from the cache) a multi-output model of the named layers.

        Args:
            model: A `Backbone` or a Keras model taking one image input (pixels for a Backbone).
            layer_names: Layers whose outputs to return, in order; nested models' layers too.
            logits: Also return the pre-softmax output under the key `"logits"`.
            input_shape: Input shape without the batch axis, e.g. `(None, None, 3)` to run the
                convolutional part at any image size; defaults to the model's own input shape.

        Raises:
            LayerNotFoundError: A name is not a layer of the model (close matches listed).
            ModelError: The model cannot be traced, or the layers cannot run at `input_shape`.
        """
        keras_model = getattr(model, "model", model)
        if not isinstance(keras_model, keras.Model):
            raise ModelError(
                "Expected a kerasviz Backbone or a keras.Model. Received: "
                f"model of type {type(model).__name__}"
            )
        if isinstance(layer_names, str):
            layer_names = [layer_names]
        self.layer_names: Tuple[str, ...] = tuple(layer_names)
        if len(set(self.layer_names)) != len(self.layer_names) or LOGITS in self.layer_names:
            raise ModelError(
                f"Layer names must be unique and not {LOGITS!r}. Received: layer_names="
                f"{list(self.layer_names)}"
            )
        key = (self.layer_names, bool(logits), None if input_shape is None else tuple(input_shape))
        per_model = _CACHE.setdefault(keras_model, {})
        if key not in per_model:
            per_model[key] = _build(keras_model, self.layer_names, bool(logits), key[2])
        self.model: keras.Model = per_model[key]
        self.source = keras_model

    def __call__(self, images: Any, training: bool = False) -> Dict[str, Any]:
        """Run the model.

        Args:
            images: Tensor or array `(N, H, W, 3)` of pixels (for a Backbone) in `[0, 255]`.
            training: Passed to the layers (keep `False` for visualization).

        Returns:
            Dict of tensors: each requested layer's output and, if asked, `"logits"` `(N, C)`.
        """
        return self.model(images, training=training)
