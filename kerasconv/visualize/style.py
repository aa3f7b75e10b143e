"""Neural style transfer (Gatys, Ecker & Bethge 2015) and fast style transfer (Johnson, Alahi &
Fei-Fei 2016).

**Gatys et al.** optimise an image ``x`` so that its activations at one layer match those of a
content photograph ``p`` and the Gram matrices ``G = V^T V`` of its activations at several layers
(``V``: the ``(positions, channels)`` matrix of one layer's feature maps; ``G`` holds every pair of
channels' correlation summed over positions, which keeps texture and drops layout) match those of a
style image ``a``:

    L_total = alpha * L_content(p, x) + beta * L_style(a, x) + gamma * TV(x)
    L_style = sum_l w_l / (4 N_l^2 M_l^2) * sum_ij (G^l_ij - A^l_ij)^2
              (N_l channels, M_l positions)
    L_content = mean_ij (F^l_ij - P^l_ij)^2                                (the paper's half sum,
                                                                            as a mean so that alpha
                                                                            does not depend on size)

The optimiser is Adam in one compiled loop (default) or L-BFGS, as the paper used: L-BFGS is
SciPy's ``scipy.optimize.minimize(method="L-BFGS-B")`` driving a compiled value-and-gradient
function, one compiled call per L-BFGS evaluation (SciPy's loop runs in Python, so it is slower per
step than Adam on small images but needs far fewer steps).

**The loss network.** Gatys et al. and Johnson et al. use ImageNet-trained VGG-19/VGG-16.
``kerasconv.models.VGG16(include_top=False, weights="vgg16.weights.h5")`` loads a weights file
converted on a connected machine (see ``docs/synthesis.md``); pass ``preprocess=vgg_preprocess``
for those caffe-style weights. Any kerasconv model with named layers works, e.g. a small VGG-style
net trained on the bundled data.

**Johnson et al.** train an image-transformation network (:func:`TransformNet`) with the same
perceptual loss over many content images, so styling a new image is one forward pass
(:func:`train_fast_style`); the network is a plain Keras model, saved and reloaded with
``model.save("styler.keras")`` / ``keras.models.load_model``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kerasconv._validation import (
    check_choice,
    check_float,
    check_image_batch,
    check_int,
    resolve_jit_compile,
)
from kerasconv.models.features import feature_extractor, find_layer
from kerasconv.visualize import _synthesis as syn

# Caffe's ImageNet channel means (BGR), used by keras.applications' VGG weights.
_VGG_MEAN_BGR = (103.939, 116.779, 123.68)


def gram_matrix(features, normalize=False):
    """Gram matrices ``G = V^T V`` of a batch of feature maps (Gatys et al. 2015).

    Args:
        features: ``(batch, H, W, C)`` activations (or ``(batch, positions, C)``).
        normalize: divide by the number of positions ``H * W``.

    Returns:
        ``(batch, C, C)`` float32 tensor; ``G[b, i, j] = sum_positions V[b, :, i] * V[b, :, j]``.

    Example:
        >>> import numpy as np, kerasconv
        >>> v = np.array([[[[1.0, 2.0]], [[3.0, 4.0]]]])  # 2 positions, 2 channels
        >>> kerasconv.visualize.gram_matrix(v).numpy()[0]
        array([[10., 14.],
               [14., 20.]], dtype=float32)
    """
    features = tf.convert_to_tensor(features, tf.float32)
    if features.shape.rank not in (3, 4):
        raise ValueError(
            "features must be (batch, H, W, C) or (batch, positions, C); "
            f"got shape {features.shape}."
        )
    shape = tf.shape(features)
    matrix = tf.reshape(features, tf.stack([shape[0], -1, shape[-1]]))
    gram = tf.matmul(matrix, matrix, transpose_a=True)
    if normalize:
        gram = gram / tf.cast(tf.shape(matrix)[1], tf.float32)
    return gram


def vgg_preprocess(images):
    """keras.applications' VGG ("caffe") preprocessing of images in [0, 1]: scale to [0, 255],
    RGB to BGR, subtract the ImageNet channel means. Traceable."""
    images = tf.convert_to_tensor(images, tf.float32) * 255.0
    return images[..., ::-1] - tf.constant(_VGG_MEAN_BGR, tf.float32)


def _style_layers(style_layers, style_layer_weights):
    if isinstance(style_layers, str):
        style_layers = [style_layers]
    style_layers = list(style_layers)
    if not style_layers:
        raise ValueError("style_layers must name at least one layer.")
    if style_layer_weights is None:
        return style_layers, [1.0 / len(style_layers)] * len(style_layers)
    weights = [float(w) for w in style_layer_weights]
    if len(weights) != len(style_layers):
        raise ValueError("style_layer_weights must have one weight per style layer.")
    return style_layers, weights


class PerceptualLoss:
    """Content, style and total-variation losses of Gatys et al. on a loss network (traceable).

    Args:
        model: the loss network (a Keras model with named layers).
        content_layer: layer whose activations carry the content.
        style_layers: layers whose Gram matrices carry the style.
        style_layer_weights: ``w_l`` (default ``1 / len(style_layers)`` each).
        preprocess: traceable callable applied to images before the network (e.g.
            :func:`vgg_preprocess`), or None.
    """

    def __init__(
        self, model, content_layer, style_layers, style_layer_weights=None, preprocess=None
    ):
        if preprocess is not None and not callable(preprocess):
            raise TypeError("preprocess must be a callable or None.")
        find_layer(model, content_layer)
        self.style_layers, self.style_weights = _style_layers(style_layers, style_layer_weights)
        for name in self.style_layers:
            find_layer(model, name)
        self.content_layer = content_layer
        self.preprocess = preprocess
        names = list(dict.fromkeys([content_layer] + self.style_layers))
        self.taps = feature_extractor(model, names)

    def features(self, images):
        if self.preprocess is not None:
            images = self.preprocess(images)
        outputs = self.taps(images, training=False)
        return {name: tf.cast(value, tf.float32) for name, value in outputs.items()}

    def targets(self, content_images, style_images):
        """``(content_target, [style Gram targets])`` for the content and style images."""
        content = self.features(content_images)[self.content_layer]
        style = self.features(style_images)
        grams = [gram_matrix(style[name]) for name in self.style_layers]
        return content, grams

    def losses(self, images, content_target, style_grams):
        """Per-image ``(content_loss, style_loss, tv_loss)`` of ``images``; the style targets
        broadcast when they have batch size 1."""
        features = self.features(images)
        content = features[self.content_layer]
        axes = list(range(1, len(content.shape)))
        content_loss = tf.reduce_mean(tf.square(content - content_target), axis=axes)
        style_loss = 0.0
        for name, weight, target in zip(
            self.style_layers, self.style_weights, style_grams, strict=True
        ):
            activation = features[name]
            shape = tf.shape(activation)
            positions = tf.cast(tf.reduce_prod(shape[1:-1]), tf.float32)
            channels = tf.cast(shape[-1], tf.float32)
            difference = tf.reduce_sum(tf.square(gram_matrix(activation) - target), axis=[1, 2])
            style_loss = style_loss + weight * difference / (4.0 * channels**2 * positions**2)
        return content_loss, style_loss, syn.total_variation(images, 1.0)


def style_transfer(
    model,
    content_images,
    style_images,
    content_layer,
    style_layers,
    content_weight=1.0,
    style_weight=1e4,
    tv_weight=1e-2,
    steps=300,
    optimizer="adam",
    learning_rate=0.02,
    init="content",
    style_layer_weights=None,
    preprocess=None,
    value_range=(0.0, 1.0),
    seed=0,
    progress=None,
    progress_every=50,
    jit_compile="auto",
):
    """Neural style transfer of Gatys et al. 2015, for a batch of content images.

    Args:
        model: the loss network (e.g. a kerasconv VGG, any model with named layers).
        content_images: ``(batch, H, W, C)`` or one image.
        style_images: one style image (used for every content image) or one per content image.
            Gram matrices do not depend on the image size; if the network's input size is fixed
            the style images are resized to it.
        content_layer: e.g. ``"block4_conv2"`` for VGG.
        style_layers: e.g. ``["block1_conv1", ..., "block5_conv1"]``.
        content_weight, style_weight, tv_weight: alpha, beta and the total-variation weight.
        steps: Adam steps or L-BFGS iterations.
        optimizer: ``"adam"`` (one compiled loop) or ``"lbfgs"`` (SciPy's L-BFGS-B).
        learning_rate: Adam's step size.
        init: ``"content"`` (start from the content image), ``"noise"`` or an image batch.
        style_layer_weights: per style layer weights (default equal, summing to 1).
        preprocess: traceable preprocessing before the network (``vgg_preprocess`` for
            keras.applications VGG weights).
        value_range: pixels are kept in ``(low, high)`` (clipping for Adam, bounds for L-BFGS).
        seed, progress, progress_every, jit_compile: as in ``activation_maximization``.

    Returns:
        :class:`OptimizationResult`: ``images``; ``history`` with ``"loss"``, ``"content_loss"``,
        ``"style_loss"`` and ``"tv_loss"`` per step and image (unweighted components); ``scores``
        the final total loss per image.

    Example:
        >>> import kerasconv
        >>> vgg = kerasconv.models.VGG16(include_top=False, input_shape=(64, 64, 3))
        >>> photos = kerasconv.data.sample_images(size=64)
        >>> result = kerasconv.visualize.style_transfer(
        ...     vgg, photos["chelsea"], photos["coffee"], "block4_conv2",
        ...     ["block1_conv1", "block2_conv1", "block3_conv1"], steps=10)
    """
    content_images = check_image_batch("content_images", content_images, allow_single=True)
    style_images = check_image_batch("style_images", style_images, allow_single=True)
    batch = int(content_images.shape[0])
    if int(style_images.shape[0]) not in (1, batch):
        raise ValueError(
            f"style_images must hold one image or one per content image ({batch}); "
            f"got {style_images.shape[0]}."
        )
    if style_images.shape[-1] != content_images.shape[-1]:
        raise ValueError("content_images and style_images must have the same number of channels.")
    content_weight = syn.check_weight("content_weight", content_weight)
    style_weight = syn.check_weight("style_weight", style_weight)
    tv_weight = syn.check_weight("tv_weight", tv_weight)
    steps = check_int("steps", steps, minimum=1)
    check_choice("optimizer", optimizer, ("adam", "lbfgs"))
    learning_rate = check_float("learning_rate", learning_rate, 0.0, strict_minimum=True)
    value_range = syn.check_range(value_range)
    progress_every = syn.check_progress(progress, progress_every)
    seed = check_int("seed", seed)
    fixed = syn.model_input_shape(model)
    if fixed is not None and fixed[0] is not None and tuple(style_images.shape[1:3]) != fixed[:2]:
        style_images = tf.image.resize(style_images, fixed[:2], antialias=True)

    names = ("loss", "content_loss", "style_loss", "tv_loss")
    settings = (
        "style_transfer",
        content_layer,
        tuple(style_layers) if not isinstance(style_layers, str) else (style_layers,),
        None if style_layer_weights is None else tuple(style_layer_weights),
        preprocess,
        content_weight,
        style_weight,
        tv_weight,
        learning_rate,
        value_range,
        progress_every,
        jit_compile,
    )

    def build():
        perceptual = PerceptualLoss(
            model, content_layer, style_layers, style_layer_weights, preprocess
        )

        def objective(x, content_target, grams):
            content_loss, style_loss, tv_loss = perceptual.losses(x, content_target, grams)
            total = content_weight * content_loss + style_weight * style_loss + tv_weight * tv_loss
            return total, (total, content_loss, style_loss, tv_loss)

        def step(state, index):
            x, m, v, content_target, *grams = state
            with tf.GradientTape() as tape:
                tape.watch(x)
                total, parts = objective(x, content_target, grams)
                summed = tf.reduce_sum(total)
            gradient = tape.gradient(summed, x)
            x, m, v = syn.adam_update(x, gradient, m, v, index + 1, learning_rate)
            if value_range is not None:
                x = tf.clip_by_value(x, *value_range)
            return (x, m, v, content_target, *grams), parts

        def value_and_gradient(x, content_target, grams):
            with tf.GradientTape() as tape:
                tape.watch(x)
                total, parts = objective(x, content_target, grams)
                summed = tf.reduce_sum(total)
            return summed, tape.gradient(summed, x), parts

        jit = resolve_jit_compile(jit_compile)
        return (
            perceptual,
            syn.compiled_loop(step, names, progress_every, jit_compile),
            tf.function(value_and_gradient, reduce_retracing=True, jit_compile=jit),
        )

    perceptual, loop, value_and_gradient = syn.cached(model, settings, build)
    content_target, grams = perceptual.targets(content_images, style_images)
    if isinstance(init, str) and init == "content":
        start = content_images
    elif isinstance(init, str) and init == "noise":
        low, high = value_range or (0.0, 1.0)
        start = tf.random.stateless_uniform(
            tf.shape(content_images), seed=[seed, 5], minval=low, maxval=high
        )
    else:
        start = syn.initial_images(init, tuple(content_images.shape), seed)
    if optimizer == "adam":
        zeros = tf.zeros_like(start)
        state, history = syn.run_loop(
            loop,
            (start, zeros, zeros, content_target, *grams),
            steps,
            names,
            progress_every,
            progress,
        )
        images = state[0]
    else:
        images, history = _lbfgs(
            value_and_gradient,
            start,
            content_target,
            grams,
            steps,
            value_range,
            names,
            progress,
            progress_every,
        )
    final_total = value_and_gradient(images, content_target, grams)[2][0]
    return syn.OptimizationResult(
        images=images.numpy(), history=history, scores=final_total.numpy()
    )


def _lbfgs(
    value_and_gradient,
    start,
    content_target,
    grams,
    steps,
    value_range,
    names,
    progress,
    progress_every,
):
    """L-BFGS-B (SciPy) on a compiled value-and-gradient function; history per iteration."""
    from scipy.optimize import minimize

    shape = tuple(start.shape)
    records = {name: [] for name in names}
    latest = {}

    def fun(flat):
        x = tf.constant(flat.reshape(shape), tf.float32)
        value, gradient, parts = value_and_gradient(x, content_target, grams)
        latest["parts"] = [part.numpy() for part in parts]
        return float(value), gradient.numpy().astype("float64").ravel()

    def callback(_):
        for name, part in zip(names, latest["parts"], strict=True):
            records[name].append(part)
        done = len(records[names[0]])
        if progress is not None and (done % progress_every == 0 or done == steps):
            progress(done, steps, {name: float(np.mean(records[name][-1])) for name in names})

    bounds = None
    if value_range is not None:
        bounds = [value_range] * int(np.prod(shape))
    result = minimize(
        fun,
        start.numpy().astype("float64").ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        callback=callback,
        options={"maxiter": steps},
    )
    history = {
        name: np.stack(values) if values else np.zeros((0, shape[0]), "float32")
        for name, values in records.items()
    }
    return tf.constant(result.x.reshape(shape), tf.float32), history


# --- fast style transfer (Johnson et al. 2016) -------------------------------------------------


def _conv_norm(x, filters, kernel, strides, name, relu=True):
    import keras

    x = keras.layers.Conv2D(filters, kernel, strides=strides, padding="same", name=f"{name}_conv")(
        x
    )
    # Instance normalisation (Ulyanov et al. 2016), which Johnson et al.'s later code adopted:
    # GroupNormalization with one group per channel.
    x = keras.layers.GroupNormalization(groups=-1, name=f"{name}_norm")(x)
    if relu:
        x = keras.layers.Activation("relu", name=f"{name}_relu")(x)
    return x


def TransformNet(input_shape=(None, None, 3), filters=32, residual_blocks=5, name="transform_net"):
    """Johnson et al. 2016's image-transformation network, as a plain Keras functional model.

    9×9 convolution, two stride-2 3×3 downsampling convolutions, ``residual_blocks`` residual
    blocks, two upsampling stages (nearest-neighbour upsampling then a 3×3 convolution, which avoids
    the checkerboard artefacts of transposed convolutions) and a 9×9 output convolution with a
    sigmoid, so outputs are images in [0, 1]. Widths ``filters``, ``2 filters``, ``4 filters``
    (32, 64, 128 in the paper). Height and width must be multiples of 4.

    Example:
        >>> import kerasconv
        >>> net = kerasconv.visualize.TransformNet(filters=8, residual_blocks=2)
        >>> net.output_shape
        (None, None, None, 3)
    """
    import keras

    filters = check_int("filters", filters, minimum=1)
    residual_blocks = check_int("residual_blocks", residual_blocks, minimum=0)
    if len(tuple(input_shape)) != 3:
        raise ValueError(f"input_shape must be (height, width, channels); got {input_shape!r}.")
    for side in tuple(input_shape)[:2]:
        if side is not None and side % 4:
            raise ValueError(f"height and width must be multiples of 4; got {input_shape!r}.")
    channels = int(input_shape[-1])
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = _conv_norm(inputs, filters, 9, 1, "down1")
    x = _conv_norm(x, 2 * filters, 3, 2, "down2")
    x = _conv_norm(x, 4 * filters, 3, 2, "down3")
    for block in range(1, residual_blocks + 1):
        y = _conv_norm(x, 4 * filters, 3, 1, f"res{block}_a")
        y = _conv_norm(y, 4 * filters, 3, 1, f"res{block}_b", relu=False)
        x = keras.layers.Add(name=f"res{block}_add")([x, y])
    x = keras.layers.UpSampling2D(2, name="up1_upsample")(x)
    x = _conv_norm(x, 2 * filters, 3, 1, "up1")
    x = keras.layers.UpSampling2D(2, name="up2_upsample")(x)
    x = _conv_norm(x, filters, 3, 1, "up2")
    x = keras.layers.Conv2D(channels, 9, padding="same", name="output_conv")(x)
    outputs = keras.layers.Activation("sigmoid", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def train_fast_style(
    transform_net,
    loss_model,
    style_image,
    content_images,
    content_layer,
    style_layers,
    content_weight=1.0,
    style_weight=1e4,
    tv_weight=1e-2,
    steps=1000,
    batch_size=4,
    learning_rate=1e-3,
    style_layer_weights=None,
    preprocess=None,
    seed=0,
    progress=None,
    progress_every=50,
    jit_compile="auto",
):
    """Train ``transform_net`` for fast style transfer (Johnson et al. 2016).

    Each step draws ``batch_size`` content images at random and updates the network (Adam) on the
    perceptual loss of its outputs: ``content_weight * L_content(output, input)`` plus
    ``style_weight * L_style(output, style_image)`` plus ``tv_weight * TV(output)``, all measured by
    the fixed ``loss_model``. The steps run in one compiled loop. Afterwards
    ``transform_net(images)`` styles any image in one forward pass.

    Args:
        transform_net: e.g. :func:`TransformNet`; its trainable weights are updated in place.
        loss_model: the fixed loss network (not modified).
        style_image: one image ``(H, W, C)`` or ``(1, H, W, C)``.
        content_images: the training images ``(N, H, W, C)`` (H and W multiples of 4).
        content_layer, style_layers, content_weight, style_weight, tv_weight,
            style_layer_weights, preprocess: as in :func:`style_transfer`.
        steps, batch_size, learning_rate: the training loop.
        seed, progress, progress_every, jit_compile: as elsewhere.

    Returns:
        ``{"loss", "content_loss", "style_loss", "tv_loss"}``: arrays ``(steps, batch_size)`` of
        the per-image losses of each training batch.
    """
    import keras

    if not isinstance(transform_net, keras.Model):
        raise TypeError(f"transform_net must be a keras.Model; got {type(transform_net).__name__}.")
    content_images = check_image_batch("content_images", content_images)
    style_image = check_image_batch("style_image", style_image, allow_single=True)
    if int(style_image.shape[0]) != 1:
        raise ValueError("style_image must be one image.")
    steps = check_int("steps", steps, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    learning_rate = check_float("learning_rate", learning_rate, 0.0, strict_minimum=True)
    content_weight = syn.check_weight("content_weight", content_weight)
    style_weight = syn.check_weight("style_weight", style_weight)
    tv_weight = syn.check_weight("tv_weight", tv_weight)
    progress_every = syn.check_progress(progress, progress_every)
    seed = check_int("seed", seed)
    if content_images.shape[1] % 4 or content_images.shape[2] % 4:
        raise ValueError(
            f"content_images height and width must be multiples of 4; got {content_images.shape}."
        )
    fixed = syn.model_input_shape(loss_model)
    if fixed is not None and fixed[0] is not None and tuple(style_image.shape[1:3]) != fixed[:2]:
        style_image = tf.image.resize(style_image, fixed[:2], antialias=True)
    names = ("loss", "content_loss", "style_loss", "tv_loss")
    perceptual = PerceptualLoss(
        loss_model, content_layer, style_layers, style_layer_weights, preprocess
    )
    _, grams = perceptual.targets(content_images[:1], style_image)
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(transform_net.trainable_variables)
    variables = transform_net.trainable_variables
    count = int(content_images.shape[0])

    def step(state, index):
        data, seed_value, *targets = state[1:]
        picks = tf.random.stateless_uniform(
            [batch_size], seed=tf.stack([seed_value, index]), maxval=count, dtype=tf.int32
        )
        batch = tf.gather(data, picks)
        content_target = perceptual.features(batch)[perceptual.content_layer]
        with tf.GradientTape() as tape:
            output = transform_net(batch, training=True)
            content_loss, style_loss, tv_loss = perceptual.losses(output, content_target, targets)
            total = content_weight * content_loss + style_weight * style_loss + tv_weight * tv_loss
            mean = tf.reduce_mean(total)
        gradients = tape.gradient(mean, variables)
        optimizer.apply_gradients(zip(gradients, variables, strict=True))
        return (total, data, seed_value, *targets), (total, content_loss, style_loss, tv_loss)

    # The loop closes over this network's optimizer: compiled per call (training is long; the
    # one-off trace is negligible next to it).
    loop = syn.compiled_loop(step, names, progress_every, jit_compile)
    state = (tf.zeros((batch_size,)), content_images, tf.constant(seed, tf.int32), *grams)
    _, history = syn.run_loop(loop, state, steps, names, progress_every, progress)
    return history
