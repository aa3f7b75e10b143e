"""The one gradient engine of kerasconv.

Saliency maps, Grad-CAM, integrated gradients, activation maximisation and every attack need the
same thing: the gradient of a per-sample score with respect to the input (or to a layer's
activations), batch-wise, inside a compiled graph. This module provides it once:

* ``logits_function(model, output=None)`` — a traceable callable ``x -> logits`` (float32) for any
  classifier. A model ending in softmax (a ``Dense``/``Conv`` with ``activation="softmax"`` or an
  ``Activation("softmax")``/``Softmax`` layer) is detected and its pre-softmax logits are used,
  because gradients of probabilities saturate and silently weaken attacks and saliency.
* ``score_and_gradient(forward, x, target, score_fn)`` — traceable core, for use inside a caller's
  own ``tf.function`` loop (attacks, activation maximisation).
* ``GradientEngine`` — a compiled, cached wrapper for one-shot calls (saliency and friends): one
  ``tf.function`` per (model, layer, output, score) that is not retraced on repeated calls with new
  data of the same shape, nor on a new batch size.

Nothing here modifies the user's model: helper models share its layers and weights.

Example:
    >>> import numpy as np, kerasconv
    >>> model = kerasconv.models.LeNet5(classes=10)
    >>> engine = kerasconv.gradients.GradientEngine(model)
    >>> scores, grads = engine(np.random.rand(4, 32, 32, 1).astype("float32"), [1, 2, 3, 4])
    >>> grads.shape
    TensorShape([4, 32, 32, 1])
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import tensorflow as tf

from kerasconv._cache import model_cache
from kerasconv._validation import resolve_jit_compile
from kerasconv.models.features import _connected_taps, feature_extractor, find_layer

_SOFTMAX_NAMES = ("softmax",)


def _is_softmax(activation):
    if activation is None:
        return False
    name = getattr(activation, "__name__", "") or getattr(activation, "name", "")
    return name in _SOFTMAX_NAMES or activation is keras.activations.softmax


def _output_layer(model, output):
    """The layer producing ``output`` (a name) or the model's single output."""
    if output is not None:
        return find_layer(model, output)
    outputs = model.outputs if hasattr(model, "outputs") else None
    if outputs is None or len(outputs) != 1:
        names = getattr(model, "output_names", None)
        raise ValueError(
            f"Model {model.name!r} has {len(outputs) if outputs else 0} outputs; pass "
            f"output=<layer name> to choose one{f' (outputs: {names})' if names else ''}."
        )
    operation = outputs[0]._keras_history.operation
    # A nested head (``Sequential([backbone, head])``): the layer that makes the output is inside.
    while isinstance(operation, keras.Model) and getattr(operation, "outputs", None):
        operation = operation.outputs[0]._keras_history.operation
    return operation


def ends_in_softmax(model, output=None):
    """Whether the model's output (or the named output) is a softmax of something."""
    layer = _output_layer(model, output)
    if isinstance(layer, keras.layers.Softmax):
        return True
    if isinstance(layer, keras.layers.Activation):
        return _is_softmax(layer.activation)
    return _is_softmax(getattr(layer, "activation", None))


class _PreActivation:
    """Computes a Dense/Conv layer's output without its activation, with the layer's own weights."""

    def __init__(self, layer):
        self.layer = layer

    def __call__(self, inputs):
        layer = self.layer
        if isinstance(layer, keras.layers.Dense):
            outputs = keras.ops.matmul(inputs, keras.ops.cast(layer.kernel, inputs.dtype))
            if layer.use_bias:
                outputs = outputs + keras.ops.cast(layer.bias, outputs.dtype)
            return outputs
        if isinstance(layer, keras.layers.Conv2D) and type(layer) is keras.layers.Conv2D:
            # Keras' convolution op without the activation; same weights, same padding and strides.
            outputs = layer.convolution_op(inputs, keras.ops.cast(layer.kernel, inputs.dtype))
            if layer.use_bias:
                outputs = outputs + keras.ops.cast(layer.bias, outputs.dtype)
            return outputs
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) applies softmax inside itself and "
            "kerasconv cannot recover its logits. Build the model with classifier_activation=None "
            "(logits), or end it with a separate Activation('softmax') layer."
        )


def logits_function(model, output=None):
    """A traceable callable ``x -> float32 logits`` for a classifier ``model``.

    If the model's output layer applies softmax, the logits before it are returned; otherwise the
    output itself (assumed to be logits or a score). Mixed-precision outputs are cast to float32.
    """
    if not isinstance(model, keras.Model):
        if callable(model):
            return lambda x: tf.cast(model(x), tf.float32)
        raise TypeError(f"model must be a keras.Model or a callable; got {type(model).__name__}.")
    layer = _output_layer(model, output)
    if not ends_in_softmax(model, output):
        if output is None:
            return lambda x: tf.cast(model(x, training=False), tf.float32)
        head = feature_extractor(model, [output])
        return lambda x: tf.cast(head(x, training=False)[output], tf.float32)
    # Build a model up to the input of the softmax-bearing layer, sharing weights.
    name = output if output is not None else layer.name
    body = _input_of(model, layer, name)
    if isinstance(layer, (keras.layers.Softmax, keras.layers.Activation)):
        return lambda x: tf.cast(body(x, training=False), tf.float32)
    linear = _PreActivation(layer)
    return lambda x: tf.cast(linear(body(x, training=False)), tf.float32)


def _input_of(model, layer, name):
    """A model mapping ``model``'s inputs to the input tensor of ``layer`` (also when nested)."""
    try:
        tensor = _connected_taps(model, {"input": (layer, "input")})["input"]
    except (AttributeError, ValueError) as error:
        raise ValueError(
            f"Cannot reach the input of layer {name!r} in model {model.name!r}: {error}"
        ) from None
    inputs = model.inputs
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs, tensor)


def class_score(logits, target):
    """Score of class ``target[i]`` for sample ``i``: the default score function."""
    target = tf.cast(target, tf.int32)
    return tf.gather(logits, target, axis=1, batch_dims=1)


def score_and_gradient(forward, x, target=None, score_fn=class_score, wrt_activation=False):
    """Per-sample scores and their gradient with respect to ``x`` (traceable; no compilation).

    Args:
        forward: callable ``x -> outputs``; with ``wrt_activation=True`` it must return
            ``(activation, outputs)`` and the gradient is taken with respect to ``activation``.
        x: float tensor batch.
        target: passed to ``score_fn`` (class indices by default).
        score_fn: ``score_fn(outputs, target) -> (batch,)`` scores; samples must be independent
            (the model runs in inference mode), so the gradient of the sum is each sample's
            gradient.

    Returns:
        ``(scores, gradient)`` or, with ``wrt_activation``, ``(scores, gradient, activation)``.

    Under mixed precision the backward pass runs in half precision, where the gradient of a
    confident sample's score (cross-entropy near 0, say) underflows to zero. The gradient is
    therefore taken in two stages: first with respect to the (float32) outputs, then each sample's
    upstream gradient is scaled to a peak of 1 for the pass through the model and the result is
    unscaled in float32. In float32 this is the same gradient; in float16 it no longer vanishes.
    """
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        result = forward(x)
        if wrt_activation:
            activation, outputs = result
            tape.watch(activation)
        else:
            outputs = result
        scores = tf.cast(score_fn(outputs, target), tf.float32)
        total = tf.reduce_sum(scores)
    source = activation if wrt_activation else x
    if isinstance(outputs, tf.Tensor) and outputs.dtype.is_floating and outputs.shape.rank:
        upstream = tape.gradient(total, outputs)
        if upstream is None:
            gradient = None
        else:
            upstream = tf.cast(upstream, tf.float32)
            peak = tf.reduce_max(tf.abs(tf.reshape(upstream, [tf.shape(upstream)[0], -1])), axis=1)
            scale = tf.where(peak > 0, 1.0 / tf.maximum(peak, 1e-30), tf.ones_like(peak))
            per_sample = lambda t: tf.reshape(scale, [-1] + [1] * (t.shape.rank - 1))  # noqa: E731
            gradient = tape.gradient(
                outputs,
                source,
                output_gradients=tf.cast(upstream * per_sample(upstream), outputs.dtype),
            )
            if gradient is not None:
                gradient = tf.cast(gradient, tf.float32) / per_sample(gradient)
    else:
        gradient = tape.gradient(total, source)
    del tape
    if gradient is None:
        gradient = tf.zeros_like(source)
    if wrt_activation:
        return scores, tf.cast(gradient, tf.float32), tf.cast(activation, tf.float32)
    return scores, tf.cast(gradient, tf.float32)


class GradientEngine:
    """Compiled gradient of a per-sample score with respect to the input or a layer's activations.

    Built once per model (``GradientEngine.for_model`` caches it); calling it again with new data of
    the same image size, or with a new batch size, does not retrace.

    Args:
        model: a Keras classifier (Sequential, functional or with nested models).
        layer: ``None`` for gradients with respect to the input, or a layer name (``"c3"``,
            ``"backbone/conv5"``) for gradients with respect to that layer's activations (Grad-CAM).
        output: the output layer's name for multi-output models.
        use_logits: score the pre-softmax logits (default) rather than the probabilities.
        score_fn: ``score_fn(outputs, target) -> (batch,)``; default: the target class's score.
            Pass the same function object on each call to reuse the compiled graph.
        jit_compile: ``"auto"`` (XLA on GPU only), True or False.

    Calling ``engine(x, target)`` returns ``(scores, gradients)`` (and the activations when
    ``layer`` is set) as float32 tensors.
    """

    def __init__(
        self, model, layer=None, output=None, use_logits=True, score_fn=None, jit_compile="auto"
    ):
        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
        self.model = model
        self.layer = layer
        self.output = output
        self.use_logits = use_logits
        self.score_fn = score_fn or class_score
        self.jit_compile = resolve_jit_compile(jit_compile)
        if use_logits:
            head = logits_function(model, output)
        elif output is not None:
            tap = feature_extractor(model, [output])
            head = lambda x: tf.cast(tap(x, training=False)[output], tf.float32)  # noqa: E731
        else:
            head = lambda x: tf.cast(model(x, training=False), tf.float32)  # noqa: E731
        if layer is None:
            forward = head
            wrt_activation = False
        else:
            find_layer(model, layer)  # clear error for a wrong name
            forward = self._split_forward(model, layer, output, use_logits)
            wrt_activation = True
        self._head = head
        self._forward = forward
        self._wrt_activation = wrt_activation
        input_shape = tuple(model.inputs[0].shape[1:]) if model.inputs else None
        score_fn_ = self.score_fn

        def compute(x, target):
            return score_and_gradient(
                forward, x, target, score_fn=score_fn_, wrt_activation=wrt_activation
            )

        signature = None
        if input_shape is not None and score_fn_ is class_score:
            # A fixed signature with an unknown batch size: one trace for every batch.
            signature = [
                tf.TensorSpec((None,) + input_shape, tf.float32),
                tf.TensorSpec((None,), tf.int32),
            ]
        self._compute = tf.function(
            compute,
            jit_compile=self.jit_compile,
            reduce_retracing=signature is None,
            input_signature=signature,
        )

    @staticmethod
    def _split_forward(model, layer, output, use_logits):
        """``x -> (activation of layer, logits)`` in one pass, sharing the model's weights."""
        # The activation and the scored output come from one connected graph, also when the layer
        # sits inside a nested model (see ``_connected_taps``).
        tapped = (find_layer(model, layer), "output")
        if use_logits and ends_in_softmax(model, output):
            out_layer = _output_layer(model, output)
            taps = _connected_taps(model, {"activation": tapped, "head": (out_layer, "input")})
            if isinstance(out_layer, (keras.layers.Softmax, keras.layers.Activation)):
                finish = lambda h: h  # noqa: E731
            else:
                finish = _PreActivation(out_layer)
        else:
            head = (None, "output") if output is None else (find_layer(model, output), "output")
            taps = _connected_taps(model, {"activation": tapped, "head": head})
            finish = lambda h: h  # noqa: E731
        joint = keras.Model(model.inputs[0], [taps["activation"], taps["head"]])

        def forward(x):
            activation, hidden = joint(x, training=False)
            return activation, tf.cast(finish(hidden), tf.float32)

        return forward

    @classmethod
    def for_model(
        cls, model, layer=None, output=None, use_logits=True, score_fn=None, jit_compile="auto"
    ):
        """A cached engine: the same arguments give the same compiled engine (no retracing)."""
        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
        key = (layer, output, use_logits, score_fn, jit_compile)
        cache = model_cache(model, "gradient_engines")
        if key not in cache:
            cache[key] = cls(model, layer, output, use_logits, score_fn, jit_compile)
        return cache[key]

    def __call__(self, x, target=None):
        x = tf.convert_to_tensor(x, tf.float32)
        if target is None:
            target = tf.zeros((tf.shape(x)[0],), tf.int32)
        elif not isinstance(target, tf.Tensor):
            target = np.asarray(target)
            if target.dtype.kind in "iu":
                target = tf.convert_to_tensor(target, tf.int32)
            else:
                target = tf.convert_to_tensor(target, tf.float32)
        return self._compute(x, target)

    @property
    def trace_count(self):
        """How many times the compiled functions have been traced (for no-retracing checks)."""
        total = self._compute.experimental_get_tracing_count()
        for function in (self._integrate, self._smooth, self._predict):
            if function is not None:
                total += function.experimental_get_tracing_count()
        return total

    # --- compiled loops built on the same forward pass (integrated gradients, SmoothGrad) ---

    _integrate = None
    _smooth = None
    _predict = None

    def _signature(self, *extra):
        input_shape = tuple(self.model.inputs[0].shape[1:]) if self.model.inputs else None
        if input_shape is None or self.score_fn is not class_score:
            return None
        image = tf.TensorSpec((None,) + input_shape, tf.float32)
        return [image, *[image if spec == "image" else spec for spec in extra]]

    def _require_input_gradient(self, what):
        if self._wrt_activation:
            raise ValueError(f"{what} needs gradients with respect to the input (layer=None).")

    def predict_logits(self, x):
        """The scored outputs (logits by default) of the model for ``x``, compiled, float32."""
        if self._predict is None:
            head = self._head
            signature = self._signature()
            self._predict = tf.function(
                lambda x: head(x),
                jit_compile=self.jit_compile,
                input_signature=signature,
                reduce_retracing=signature is None,
            )
        return self._predict(tf.convert_to_tensor(x, tf.float32))

    def integrated(self, x, baseline, target, alphas, weights):
        """``sum_k weights[k] * grad S(baseline + alphas[k] (x - baseline))`` in one compiled loop.

        The loop over path points runs inside one ``tf.function`` over ``tf.range``; each step
        takes the gradient of the whole batch at once. Returns the weighted gradient sum
        (same shape as ``x``); multiply by ``x - baseline`` for integrated gradients.
        """
        self._require_input_gradient("integrated gradients")
        if self._integrate is None:
            forward, score_fn = self._forward, self.score_fn

            def integrate(x, baseline, target, alphas, weights):
                total = tf.zeros_like(x)
                for step in tf.range(tf.shape(alphas)[0]):
                    point = baseline + alphas[step] * (x - baseline)
                    _, gradient = score_and_gradient(forward, point, target, score_fn=score_fn)
                    total += weights[step] * gradient
                return total

            vector = tf.TensorSpec((None,), tf.float32)
            signature = self._signature("image", tf.TensorSpec((None,), tf.int32), vector, vector)
            self._integrate = tf.function(
                integrate,
                jit_compile=self.jit_compile,
                input_signature=signature,
                reduce_retracing=signature is None,
            )
        x = tf.convert_to_tensor(x, tf.float32)
        return self._integrate(
            x,
            tf.convert_to_tensor(baseline, tf.float32),
            self._target_tensor(x, target),
            tf.convert_to_tensor(alphas, tf.float32),
            tf.convert_to_tensor(weights, tf.float32),
        )

    def smooth(self, x, target, stddev, samples, seed=0, squared=False):
        """Mean (or mean square) gradient over ``samples`` Gaussian perturbations of ``x``.

        ``stddev`` is one standard deviation per sample. The noise of step ``i`` is drawn from a
        stateless generator seeded by ``(seed, i)`` and shared by every sample of the batch, so a
        sample's result does not depend on what else is in the batch (batch-size invariance).
        """
        self._require_input_gradient("SmoothGrad")
        if self._smooth is None:
            forward, score_fn = self._forward, self.score_fn

            def smooth(x, target, stddev, samples, seed, squared):
                total = tf.zeros_like(x)
                shape = tf.concat([[1], tf.shape(x)[1:]], axis=0)
                scale = tf.reshape(stddev, [-1, 1, 1, 1])
                for step in tf.range(samples):
                    noise = tf.random.stateless_normal(shape, seed=tf.stack([seed, step]))
                    _, gradient = score_and_gradient(
                        forward, x + scale * noise, target, score_fn=score_fn
                    )
                    total += tf.where(squared, gradient * gradient, gradient)
                return total / tf.cast(tf.maximum(samples, 1), tf.float32)

            signature = self._signature(
                tf.TensorSpec((None,), tf.int32),
                tf.TensorSpec((None,), tf.float32),
                tf.TensorSpec((), tf.int32),
                tf.TensorSpec((), tf.int32),
                tf.TensorSpec((), tf.bool),
            )
            self._smooth = tf.function(
                smooth,
                jit_compile=self.jit_compile,
                input_signature=signature,
                reduce_retracing=signature is None,
            )
        x = tf.convert_to_tensor(x, tf.float32)
        return self._smooth(
            x,
            self._target_tensor(x, target),
            tf.convert_to_tensor(stddev, tf.float32),
            tf.constant(int(samples), tf.int32),
            tf.constant(int(seed), tf.int32),
            tf.constant(bool(squared)),
        )

    @staticmethod
    def _target_tensor(x, target):
        if target is None:
            return tf.zeros((tf.shape(x)[0],), tf.int32)
        if isinstance(target, tf.Tensor):
            return target
        target = np.asarray(target)
        if target.dtype.kind in "iu":
            return tf.convert_to_tensor(target, tf.int32)
        return tf.convert_to_tensor(target, tf.float32)


# --- modified backward passes: guided backpropagation and the deconvnet -------------------------


def _rule_relu(x, rule, threshold=0.0, max_value=None):
    """``clip(x, threshold, max_value)`` (a ReLU, optionally capped) with a modified backward pass.

    ``"guided"`` (Springenberg et al.): only positive gradients pass, and only where the forward
    unit was active (``threshold < x < max_value``); ``"deconvnet"`` (Zeiler & Fergus): a ReLU of
    the gradient, whatever the forward input.
    """

    @tf.custom_gradient
    def relu(x):
        low = tf.cast(threshold, x.dtype)
        y = tf.where(x > low, x, tf.zeros_like(x))
        active = x > low
        if max_value is not None:
            high = tf.cast(max_value, x.dtype)
            y = tf.minimum(y, high)
            active = tf.logical_and(active, x < high)

        def backward(upstream):
            if rule == "guided":
                return tf.nn.relu(upstream) * tf.cast(active, upstream.dtype)
            return tf.nn.relu(upstream)

        return y, backward

    return relu(x)


RELU_RULES = ("guided", "deconvnet")


class _RuleReLU(keras.layers.Layer):
    """A ReLU with a modified backward pass; lives only inside kerasconv's internal clones."""

    def __init__(self, rule, threshold=0.0, max_value=None, **kwargs):
        super().__init__(**kwargs)
        self.rule = rule
        self.threshold = threshold
        self.max_value = max_value

    def call(self, inputs):
        return _rule_relu(inputs, self.rule, self.threshold, self.max_value)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "rule": self.rule,
            "threshold": self.threshold,
            "max_value": self.max_value,
        }


def _activation_name(activation):
    if activation is None:
        return None
    if isinstance(activation, str):
        return activation
    return getattr(activation, "__name__", None) or type(activation).__name__


def _is_relu(activation):
    return activation is keras.activations.relu or _activation_name(activation) == "relu"


# Activations (by name) that the rules replace: a ReLU, and ReLU6 = a ReLU capped at 6.
_RULE_ACTIVATIONS = {"relu": None, "relu6": 6.0}
# Piecewise or smooth ReLU relatives whose backward pass is left alone (with a warning).
_OTHER_RECTIFIERS = ("leaky_relu", "elu", "selu", "gelu", "silu", "swish", "celu", "glu", "mish")


def _relu_variant(layer):
    """``(threshold, max_value)`` when ``layer`` is a ReLU the rules can replace, else None."""
    if isinstance(layer, keras.layers.ReLU):
        if float(layer.negative_slope) != 0.0:
            return None
        max_value = None if layer.max_value is None else float(layer.max_value)
        return float(layer.threshold), max_value
    if isinstance(layer, keras.layers.Activation):
        name = _activation_name(layer.activation)
        if name in _RULE_ACTIVATIONS:
            return 0.0, _RULE_ACTIVATIONS[name]
    return None


def _unsupported_rectifier(layer):
    """A short description when ``layer`` is a ReLU relative the rules leave unchanged."""
    if isinstance(layer, (keras.layers.LeakyReLU, keras.layers.ELU, keras.layers.PReLU)):
        return f"{layer.name} ({type(layer).__name__})"
    if isinstance(layer, keras.layers.ReLU) and float(layer.negative_slope) != 0.0:
        return f"{layer.name} (ReLU with negative_slope={layer.negative_slope})"
    activation = _activation_name(getattr(layer, "activation", None))
    if activation in _OTHER_RECTIFIERS:
        return f"{layer.name} ({activation})"
    return None


def _rule_clone_function(rule, unsupported):
    def clone(layer):
        if isinstance(layer, keras.Model):
            return layer.__class__.from_config(layer.get_config())
        variant = _relu_variant(layer)
        if variant is not None:
            threshold, max_value = variant
            return _RuleReLU(rule, threshold, max_value, name=layer.name, dtype=layer.dtype_policy)
        described = _unsupported_rectifier(layer)
        if described is not None:
            unsupported.append(described)
        config = layer.get_config()
        name = _activation_name(getattr(layer, "activation", None))
        if "activation" in config and name in _RULE_ACTIVATIONS:
            max_value = _RULE_ACTIVATIONS[name]
            config = dict(config, activation=lambda x: _rule_relu(x, rule, 0.0, max_value))
        return layer.__class__.from_config(config)

    return clone


class _RuleClone:
    def __init__(self, model, rule):
        unsupported = []
        self.clone = keras.models.clone_model(
            model, clone_function=_rule_clone_function(rule, unsupported), recursive=True
        )
        if unsupported:
            warnings.warn(
                f"The {rule!r} backward pass replaces ReLUs (also capped ones: ReLU(max_value=...), "
                f"relu6) only; {', '.join(unsupported)} keep their ordinary gradient, so the "
                "result mixes the rule with the plain gradient there.",
                stacklevel=4,
            )
        self.clone.trainable = False
        original, copied = model.weights, self.clone.weights
        if len(original) != len(copied) or any(
            tuple(a.shape) != tuple(b.shape) for a, b in zip(original, copied, strict=False)
        ):
            raise ValueError(
                f"Cannot clone model {model.name!r} for the {rule!r} backward pass: the clone's "
                "weights do not match the original's."
            )
        self._pairs = list(zip(original, copied, strict=False))

    def sync(self):
        # The user may keep training the model: copy its current weights before every use.
        for source, destination in self._pairs:
            destination.assign(source)
        return self.clone


def relu_rule_clone(model, rule):
    """A cached clone of ``model`` whose ReLUs back-propagate by ``rule`` (``"guided"`` or
    ``"deconvnet"``), holding the model's current weights.

    Standalone ``ReLU``/``Activation("relu")`` layers (also capped: ``ReLU(max_value=...)``,
    ``threshold=``, ``relu6``) and ReLUs inside ``Conv``/``Dense`` layers' ``activation=`` are
    replaced, also inside nested models. ``LeakyReLU``, ``ELU``, ``PReLU`` and smooth relatives
    keep their ordinary gradient, with a warning naming them. Max pooling keeps its usual
    gradient, which routes each gradient to the position that won the forward max: exactly
    Zeiler & Fergus's unpooling with switches. The user's model is never modified.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model; got {type(model).__name__}.")
    if rule not in RELU_RULES:
        raise ValueError(f"rule must be one of {sorted(RELU_RULES)}; got {rule!r}.")
    cache = model_cache(model, "relu_rule_clones")
    if rule not in cache:
        cache[rule] = _RuleClone(model, rule)
    return cache[rule].sync()
