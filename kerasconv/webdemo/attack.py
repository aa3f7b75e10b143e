"""The demo's adversarial image: the smallest ε whose attack changes the prediction.

The loss is the logit margin of Carlini & Wagner (2017), ``max_{j≠y} z_j − z_y`` with ``y`` the
model's own prediction, not the cross-entropy. On a confident input the softmax saturates: in
float32 the predicted probability rounds to 1, ``p_y − 1`` is 0, and the cross-entropy's gradient
keeps only the ``e^(z_j − z_y)``-sized pull of the other classes (or nothing at all), so its sign is
noise and a fast-gradient-sign step wrecks the image without changing the prediction. The margin's
gradient is a difference of two logits' gradients and does not shrink with confidence.

The attack is the basic iterative method / PGD without a random start (Kurakin et al. 2017; Madry
et al. 2018) in L∞: :data:`STEPS` signed steps of ``2.5 ε / STEPS``, each projected back onto the
ε-ball around the input and onto [0, 1]. Every ε of the list runs at once, in one compiled graph
with a ``tf.range`` loop, built once per model (or SavedModel).
"""

from __future__ import annotations

#: signed-gradient steps per ε
STEPS = 10
#: budgets tried; the smallest whose image changes the prediction is shown
EPSILONS = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)


def logit_margin(logits, labels):
    """``max_{j≠y} z_j − z_y`` per sample: positive once the prediction has left ``y``."""
    import tensorflow as tf

    labels = tf.cast(labels, tf.int32)
    true = tf.gather(logits, labels, axis=1, batch_dims=1)
    mask = tf.one_hot(labels, tf.shape(logits)[-1], on_value=True, off_value=False)
    others = tf.where(mask, tf.fill(tf.shape(logits), logits.dtype.min), logits)
    return tf.reduce_max(others, axis=-1) - true


def build_margin_attack(forward, image_shape, steps=STEPS, jit_compile="auto"):
    """A compiled ``(x, labels, eps) -> (len(eps), n, H, W, C)`` margin attack.

    ``forward`` maps images to logits (or log-probabilities, whose differences are the logits').
    The function is traced once: its inputs have unknown batch and ε counts.
    """
    import tensorflow as tf

    from kerasconv._validation import resolve_jit_compile
    from kerasconv.gradients import score_and_gradient

    image_shape = tuple(int(v) for v in image_shape)

    def run(x, labels, eps):
        count = tf.shape(eps)[0]
        batch = tf.shape(x)[0]
        x0 = tf.reshape(tf.tile(x[None], [count, 1, 1, 1, 1]), (-1,) + image_shape)
        y = tf.tile(labels, [count])
        budget = tf.reshape(tf.repeat(eps, batch), [-1, 1, 1, 1])
        step = 2.5 * budget / float(steps)
        low = tf.maximum(x0 - budget, 0.0)
        high = tf.minimum(x0 + budget, 1.0)
        adversarial = x0
        for _ in tf.range(steps):
            _, gradient = score_and_gradient(forward, adversarial, y, logit_margin)
            adversarial = tf.clip_by_value(adversarial + step * tf.sign(gradient), low, high)
        return tf.reshape(adversarial, tf.concat([[count, batch], image_shape], 0))

    signature = [
        tf.TensorSpec((None,) + image_shape, tf.float32),
        tf.TensorSpec((None,), tf.int32),
        tf.TensorSpec((None,), tf.float32),
    ]
    return tf.function(run, input_signature=signature, jit_compile=resolve_jit_compile(jit_compile))
