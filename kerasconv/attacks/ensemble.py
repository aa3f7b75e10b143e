"""Ensemble attacks and transferability (Liu, Chen, Liu & Song 2017, "Delving into transferable
adversarial examples and black-box attacks").

An adversarial example that fools N-1 white-box models together tends to fool the N-th, unseen
one. ``ensemble_attack`` attacks the averaged logits of several models in one graph (every attack
of this package also accepts a list of models directly). ``transferability_matrix`` computes the
seed's table: for every source (a model or an ensemble) and every target model, the share of the
source's adversarial examples that the target still classifies correctly (non-targeted) or
classifies as the target label (targeted).
"""

from __future__ import annotations

import numpy as np

from kerasconv._validation import check_choice
from kerasconv.attacks import _common as C
from kerasconv.attacks.fast_gradient import fast_gradient_method
from kerasconv.attacks.iterative import (
    basic_iterative_method,
    momentum_iterative_method,
    projected_gradient_descent,
)

ATTACKS = {
    "fgsm": fast_gradient_method,
    "fgm": fast_gradient_method,
    "bim": basic_iterative_method,
    "pgd": projected_gradient_descent,
    "mim": momentum_iterative_method,
}


def get_attack(attack):
    """An attack function from a name (``"fgsm"``, ``"pgd"``, ``"bim"``, ``"mim"``) or a callable."""
    if callable(attack):
        return attack
    check_choice("attack", attack, tuple(ATTACKS))
    return ATTACKS[attack]


def ensemble_attack(models, x, eps, attack="pgd", model_weights=None, **kwargs):
    """Attack the (weighted) average of several models' logits in one graph (Liu et al. 2017).

    Args:
        models: a list of Keras classifiers (softmax outputs are removed automatically).
        x, eps, kwargs: as for the chosen attack.
        attack: ``"pgd"``, ``"fgsm"``, ``"bim"``, ``"mim"`` or an attack function.
        model_weights: one weight per model (default equal).

    Returns:
        The attack's ``AttackResult`` (success is judged on the ensemble's averaged logits).
    """
    models = C.as_model_list(models)
    if len(models) < 2:
        raise ValueError("an ensemble attack needs at least two models.")
    if model_weights is not None and len(model_weights) != len(models):
        raise ValueError(
            f"model_weights must have one weight per model ({len(models)}); "
            f"got {len(model_weights)}."
        )
    return get_attack(attack)(models, x, eps, model_weights=model_weights, **kwargs)


def _name(source):
    if isinstance(source, (list, tuple)):
        return " + ".join(_name(m) for m in source)
    return getattr(source, "name", type(source).__name__)


def _predict(model, x, batch_size=512):
    return C.predict_classes(C.as_model_list(model), x, batch_size)


def transferability_matrix(
    source_models,
    target_models,
    x,
    y,
    eps=0.2,
    attack="pgd",
    targeted=False,
    target_labels=None,
    only_correct=True,
    source_names=None,
    target_names=None,
    path=None,
    **attack_kwargs,
):
    """The seed's transferability table (Liu et al. 2017) and, with ``path``, its heat map.

    Args:
        source_models: list of sources; each a model or a list of models (an ensemble).
        target_models: list of models the examples are tried on.
        x, y: images and true labels.
        eps: the attack budget; ``attack`` and ``attack_kwargs`` choose the attack.
        targeted: craft targeted examples towards ``target_labels`` (default ``(y + 1) % classes``).
        only_correct: keep only the images every model classifies correctly (as the seed's table).
        source_names, target_names: labels for the table (default: model names).
        path: save the heat map here (``kerasconv.visualize.plot.transferability_heatmap``).

    Returns:
        dict with ``matrix`` ``(sources, targets)`` — for non-targeted attacks the share of
        adversarial examples still classified correctly (low = transfers well), for targeted ones
        the share classified as the target label (high = transfers well) — plus ``source_names``,
        ``target_names``, ``rmsd`` per source (root mean square deviation of the perturbation,
        the seed's ``sqrt(Σ(x*−x)²/M)``), ``samples`` and ``targeted``.
    """
    sources = list(source_models)
    targets = list(target_models)
    if not sources or not targets:
        raise ValueError("source_models and target_models must be non-empty lists.")
    for source in sources:
        C.as_model_list(source)
    C.as_model_list(targets)
    x = C.check_images(x).numpy()
    y = C.check_labels("y", y, len(x)).numpy()
    attack_fn = get_attack(attack)
    if only_correct:
        models = []
        for source in sources:
            models += C.as_model_list(source)
        keep = np.ones(len(x), dtype=bool)
        for model in {id(m): m for m in models + targets}.values():
            keep &= _predict(model, x) == y
        if not keep.any():
            raise ValueError("no image is classified correctly by every model.")
        x, y = x[keep], y[keep]
        if target_labels is not None:
            target_labels = np.asarray(target_labels)[keep]
    if targeted:
        if target_labels is None:
            classes = C.clean_logits(C.as_model_list(targets[0]), x[:1]).shape[1]
            target_labels = (y + 1) % classes
        goal = C.check_labels("target_labels", target_labels, len(x)).numpy()
    matrix = np.zeros((len(sources), len(targets)))
    rmsd = np.zeros(len(sources))
    for i, source in enumerate(sources):
        result = attack_fn(
            source, x, eps, y=goal if targeted else y, targeted=targeted, **attack_kwargs
        )
        x_adv = result.x_adv
        rmsd[i] = float(np.mean(np.sqrt(np.mean(np.square(x_adv - x).reshape(len(x), -1), 1))))
        for j, target in enumerate(targets):
            predictions = _predict(target, x_adv)
            matrix[i, j] = np.mean(predictions == (goal if targeted else y))
    source_names = list(source_names) if source_names else [_name(s) for s in sources]
    target_names = list(target_names) if target_names else [_name(t) for t in targets]
    table = {
        "matrix": matrix,
        "source_names": source_names,
        "target_names": target_names,
        "rmsd": rmsd,
        "samples": len(x),
        "targeted": bool(targeted),
    }
    if path is not None:
        from kerasconv.visualize import plot

        label = "share classified as target" if targeted else "accuracy on adversarial examples"
        plot.transferability_heatmap(
            matrix,
            source_names,
            target_names,
            path=path,
            value_label=label,
            title=f"Transfer of {'targeted' if targeted else 'non-targeted'} examples, eps={eps}",
        )
    return table


def transferability_markdown(table):
    """The table of ``transferability_matrix`` as markdown (percentages, RMSD column)."""
    head = "| source | RMSD | " + " | ".join(table["target_names"]) + " |"
    rule = "|---|---:|" + "---:|" * len(table["target_names"])
    rows = [head, rule]
    for name, rmsd, values in zip(table["source_names"], table["rmsd"], table["matrix"]):
        cells = " | ".join(f"{100 * v:.0f}%" for v in values)
        rows.append(f"| {name} | {rmsd:.3f} | {cells} |")
    return "\n".join(rows)
