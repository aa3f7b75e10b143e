"""Robustness evaluation: accuracy against attack strength, per-class success, perturbation norms
and a gradient-masking check (Athalye, Carlini & Wagner 2018; Carlini et al. 2019, "On evaluating
adversarial robustness").

Signs that a defence only hides its gradients, which this module flags:

* zero or non-finite input gradients on clean data;
* a transfer (black-box) attack stronger than the white-box attacks at the same eps;
* an iterative attack (PGD/BIM/MIM) weaker than the single-step FGSM at the same eps;
* accuracy that rises as eps grows.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from kerasconv.attacks import _common as C
from kerasconv.attacks.ensemble import get_attack
from kerasconv.gradients import score_and_gradient

DEFAULT_SETTINGS = {
    "fgsm": {},
    "fgm": {},
    "bim": {"nb_iter": 10},
    "mim": {"nb_iter": 10},
    "pgd": {"nb_iter": 20, "nb_restarts": 1, "seed": 0},
}
_ITERATIVE = ("bim", "mim", "pgd")
MARGIN = 0.02  # accuracy differences below this are noise on a few hundred images


@dataclasses.dataclass
class RobustnessReport:
    """Results of ``evaluate_robustness``.

    Attributes:
        eps: the budgets.
        clean_accuracy: accuracy on clean data.
        accuracy: ``{attack: accuracy per eps}``.
        per_class_success: ``{attack: (len(eps), classes)}`` attack success per true class.
        linf, l2: ``{attack: mean perturbation norm per eps}``.
        gradient_masking: ``{"zero_gradient_share", "nonfinite_gradient_share", "flags",
            "suspected"}``.
        samples: number of images evaluated.
    """

    eps: np.ndarray
    clean_accuracy: float
    accuracy: dict
    per_class_success: dict
    linf: dict
    l2: dict
    gradient_masking: dict
    samples: int

    def table(self):
        """``{"eps": [...], "clean": acc, attack: [acc per eps], ...}`` (plain Python values)."""
        out = {"eps": [float(e) for e in self.eps], "clean": float(self.clean_accuracy)}
        out.update({k: [float(a) for a in v] for k, v in self.accuracy.items()})
        return out

    def markdown(self):
        """Accuracy table as markdown (rows: attacks, columns: eps), then masking flags."""
        head = "| attack | " + " | ".join(f"eps={e:g}" for e in self.eps) + " |"
        rule = "|---|" + "---:|" * len(self.eps)
        rows = [head, rule]
        rows.append(
            "| none (clean) | "
            + " | ".join(f"{100 * self.clean_accuracy:.1f}%" for _ in self.eps)
            + " |"
        )
        for name, values in self.accuracy.items():
            rows.append(f"| {name} | " + " | ".join(f"{100 * v:.1f}%" for v in values) + " |")
        flags = self.gradient_masking["flags"]
        rows.append("")
        rows.append(
            "Gradient-masking check: "
            + ("; ".join(flags) if flags else "no sign of gradient masking.")
        )
        return "\n".join(rows)

    def plot(self, path=None, title="Accuracy under attack"):
        """Accuracy-vs-eps figure (``kerasconv.visualize.plot.accuracy_vs_eps``)."""
        from kerasconv.visualize import plot

        curves = {"clean": [self.clean_accuracy] * len(self.eps)}
        curves.update(self.accuracy)
        return plot.accuracy_vs_eps(curves, self.eps, path=path, title=title)


def _as_arrays(data, max_samples):
    if isinstance(data, tf.data.Dataset):
        xs, ys, count = [], [], 0
        for x, y in data:
            xs.append(np.asarray(x))
            ys.append(np.asarray(y))
            count += len(xs[-1])
            if max_samples is not None and count >= max_samples:
                break
        x, y = np.concatenate(xs), np.concatenate(ys)
    elif isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = np.asarray(data[0], dtype="float32"), np.asarray(data[1])
    else:
        raise TypeError("data must be an (x, y) pair of arrays or a tf.data.Dataset of batches.")
    if max_samples is not None:
        x, y = x[:max_samples], y[:max_samples]
    return x, y


def _attack_specs(attacks):
    """Normalise ``attacks`` to ``{label: (kind, function, kwargs)}``."""
    if isinstance(attacks, str):
        attacks = [attacks]
    specs = {}
    items = attacks.items() if isinstance(attacks, dict) else [(a, a) for a in attacks]
    for label, spec in items:
        kwargs = {}
        if isinstance(spec, (tuple, list)):
            spec, kwargs = spec
        kind = spec if isinstance(spec, str) else getattr(spec, "__name__", "custom")
        settings = dict(DEFAULT_SETTINGS.get(kind, {}))
        settings.update(kwargs)
        specs[str(label)] = (kind, get_attack(spec), settings)
    if not specs:
        raise ValueError("attacks must name at least one attack.")
    return specs


def _margin(logits, labels):
    own = tf.gather(logits, labels, axis=1, batch_dims=1)
    others = logits - 1e9 * tf.one_hot(labels, tf.shape(logits)[1])
    return own - tf.reduce_max(others, axis=1)


def gradient_statistics(model, x, y):
    """Shares of samples whose input gradient is all zero or non-finite.

    The gradient is that of the logit margin (label logit minus the largest other logit), not of
    the cross-entropy: a confident softmax saturates in float32 and gives exactly zero
    cross-entropy gradients without any masking, while the margin keeps its gradient.
    """
    models = C.as_model_list(model)
    forward = C.forward_builder(models)()
    _, gradient = score_and_gradient(
        forward,
        tf.convert_to_tensor(x, tf.float32),
        tf.convert_to_tensor(y, tf.int32),
        _margin,
    )
    flat = gradient.numpy().reshape(len(x), -1)
    finite = np.all(np.isfinite(flat), axis=1)
    zero = finite & (np.max(np.abs(np.where(np.isfinite(flat), flat, 0)), axis=1) < 1e-12)
    return float(np.mean(zero)), float(np.mean(~finite))


def evaluate_robustness(
    model,
    data,
    attacks=("fgsm", "pgd"),
    eps_list=(0.05, 0.1, 0.2, 0.3),
    clip_min=0.0,
    clip_max=1.0,
    transfer_from=None,
    transfer_attack="pgd",
    max_samples=None,
    path=None,
):
    """Accuracy of ``model`` under each attack at each eps, and a gradient-masking check.

    Args:
        model: the classifier evaluated (white box).
        data: ``(x, y)`` arrays or a ``tf.data.Dataset`` of ``(images, labels)`` batches.
        attacks: names (``"fgsm"``, ``"pgd"``, ``"bim"``, ``"mim"``) or a dict
            ``{label: name_or_function}`` / ``{label: (name_or_function, kwargs)}``.
        eps_list: budgets; every attack runs all of them in one call.
        clip_min, clip_max: pixel range.
        transfer_from: a model (or list of models: an ensemble) whose adversarial examples are
            tried on ``model``: the black-box row of the table and a masking check.
        transfer_attack: the attack run on ``transfer_from``.
        max_samples: evaluate at most this many images.
        path: save the accuracy-vs-eps plot here.

    Returns:
        ``RobustnessReport`` (``.table()``, ``.markdown()``, ``.plot(path)``).
    """
    x, y = _as_arrays(data, max_samples)
    x = C.check_images(x)
    eps, _ = C.check_eps(list(eps_list), "eps_list")
    models = C.as_model_list(model)
    classes = C.class_count(models, x)
    y = C.check_labels("y", y, x.shape[0], classes).numpy()
    clean_correct = C.predict_classes(models, x) == y
    specs = _attack_specs(attacks)
    accuracy, per_class, linf, l2 = {}, {}, {}, {}
    for label, (_, function, settings) in specs.items():
        result = function(
            model, x, list(eps), y=y, clip_min=clip_min, clip_max=clip_max, **settings
        )
        correct = result.adversarial_predictions == y[None]
        accuracy[label] = correct.mean(axis=1)
        per_class[label] = np.stack(
            [
                result.success[:, y == c].mean(axis=1) if np.any(y == c) else np.zeros(len(eps))
                for c in range(classes)
            ],
            axis=1,
        )
        linf[label] = result.linf.mean(axis=1)
        l2[label] = result.l2.mean(axis=1)
    zero_share, nonfinite_share = gradient_statistics(model, x, y)
    flags = []
    if nonfinite_share > 0:
        flags.append(f"{100 * nonfinite_share:.1f}% of input gradients are not finite")
    if zero_share > MARGIN:
        flags.append(f"{100 * zero_share:.1f}% of input gradients are exactly zero")
    white_box = np.min(np.stack(list(accuracy.values())), axis=0)
    if transfer_from is not None:
        source = transfer_from
        result = get_attack(transfer_attack)(
            source,
            x,
            list(eps),
            y=y,
            clip_min=clip_min,
            clip_max=clip_max,
            **DEFAULT_SETTINGS.get(transfer_attack if isinstance(transfer_attack, str) else "", {}),
        )
        flat = result.x_adv.reshape((-1,) + tuple(x.shape[1:]))
        predictions = np.argmax(C.forward_builder(C.as_model_list(model))()(flat).numpy(), -1)
        transfer_acc = (predictions.reshape(len(eps), -1) == y[None]).mean(axis=1)
        names = getattr(source, "name", None) or "ensemble"
        label = f"transfer ({transfer_attack} from {names})"
        accuracy[label] = transfer_acc
        linf[label] = result.linf.mean(axis=1)
        l2[label] = result.l2.mean(axis=1)
        for e, black, white in zip(eps, transfer_acc, white_box):
            if black < white - MARGIN:
                flags.append(
                    f"the transfer attack is stronger than the white-box attacks at eps={e:g} "
                    f"({100 * black:.1f}% vs {100 * white:.1f}% accuracy)"
                )
    for label, (kind, _, _) in specs.items():
        if kind in _ITERATIVE:
            for single, (kind2, _, _) in specs.items():
                if kind2 in ("fgsm", "fgm"):
                    for e, it, one in zip(eps, accuracy[label], accuracy[single]):
                        if it > one + MARGIN:
                            flags.append(
                                f"{label} is weaker than {single} at eps={e:g} "
                                f"({100 * it:.1f}% vs {100 * one:.1f}% accuracy)"
                            )
        order = np.argsort(eps)
        rises = np.diff(accuracy[label][order])
        if np.any(rises > MARGIN):
            flags.append(f"accuracy under {label} rises with eps")
    report = RobustnessReport(
        eps=eps,
        clean_accuracy=float(np.mean(clean_correct)),
        accuracy=accuracy,
        per_class_success=per_class,
        linf=linf,
        l2=l2,
        gradient_masking={
            "zero_gradient_share": zero_share,
            "nonfinite_gradient_share": nonfinite_share,
            "flags": flags,
            "suspected": bool(flags),
        },
        samples=int(x.shape[0]),
    )
    if path is not None:
        report.plot(path)
    return report
