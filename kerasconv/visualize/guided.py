"""Modified backward passes: guided backpropagation, the deconvnet and guided Grad-CAM.

Both run on a cached clone of the model (:func:`kerasconv.gradients.relu_rule_clone`) whose ReLUs
— standalone ``ReLU``/``Activation("relu")`` layers and ReLUs inside ``Conv``/``Dense`` — have a
custom gradient; the user's model is never modified. Max pooling keeps its ordinary gradient, which
sends each gradient to the position that won the forward max: Zeiler & Fergus's "switches".
"""

from __future__ import annotations

from kerasconv.gradients import relu_rule_clone
from kerasconv.visualize._common import engine, prepare_images, resolve_target, to_numpy
from kerasconv.visualize.attribution import _reduce
from kerasconv.visualize.cam import grad_cam


def _rule_gradients(rule, model, x, target, output, use_logits):
    x = prepare_images(model, x)
    # The target is resolved on the original model (its own prediction).
    score_fn, target = resolve_target(model, x, target, output, use_logits)
    clone = relu_rule_clone(model, rule)
    _, gradient = engine(clone, output=output, score_fn=score_fn, use_logits=use_logits)(x, target)
    return to_numpy(gradient)


def guided_backprop(model, x, target=None, *, output=None, use_logits=True, reduce_channels=None):
    """Guided backpropagation (Springenberg, Dosovitskiy, Brox & Riedmiller 2015, "Striving for
    simplicity: the all convolutional net").

    Through each ReLU only positive gradients at positive inputs pass:
    ``R_in = (x > 0) · max(R_out, 0)``.

    Returns:
        ``(batch, H, W, C)`` raw reconstructions (``reduce_channels="max_abs"`` gives
        ``(batch, H, W)``).
    """
    gradient = _rule_gradients("guided", model, x, target, output, use_logits)
    return _reduce(gradient, reduce_channels)


def deconvnet(model, x, target=None, *, output=None, use_logits=True, reduce_channels=None):
    """The deconvnet projection (Zeiler & Fergus 2014, "Visualizing and understanding
    convolutional networks").

    ReLUs pass ``max(R_out, 0)`` back regardless of the forward input, max pooling unpools with the
    forward switches, convolutions are transposed. Returns ``(batch, H, W, C)``.
    """
    gradient = _rule_gradients("deconvnet", model, x, target, output, use_logits)
    return _reduce(gradient, reduce_channels)


def guided_grad_cam(
    model, x, target=None, *, layer=None, output=None, use_logits=True, reduce_channels=None
):
    """Guided Grad-CAM (Selvaraju et al. 2017): guided backpropagation × upsampled Grad-CAM."""
    x = prepare_images(model, x)
    score_fn, resolved = resolve_target(model, x, target, output, use_logits)
    target = score_fn if score_fn is not None else resolved
    cam = grad_cam(model, x, target, layer=layer, output=output, use_logits=use_logits)
    guided = guided_backprop(model, x, target, output=output, use_logits=use_logits)
    return _reduce(guided * cam[..., None], reduce_channels)
