"""kerasconv.transfer: reuse a trained convnet's features (seeds 000 and 002).

* ``extract_features`` — tap any named layer, batched over ``tf.data``, optionally cached on disk.
* ``linear_probe`` / ``probe_layers`` — linear SVM and softmax probes per layer (accuracy vs depth).
* ``few_shot`` — nearest-neighbour classification from 1 and k examples per class.
* ``replace_head``, ``freeze``, ``GroupedOptimizer``, ``UnfreezeSchedule``, ``fine_tune`` —
  fine-tuning.
* ``ablate`` / ``ablated_model`` — "how important is depth": remove layers, retrain, compare.
* ``invariance_study`` — feature distance and true-class probability under translation, scale
  and rotation.

>>> import kerasconv
>>> x, y = kerasconv.data.load_arrays("digits", "test", image_size=32)
>>> model = kerasconv.models.LeNet5(classes=10)
>>> table = kerasconv.transfer.probe_layers(model, ["input", "f6"], (x, y), methods="svm")
"""

from kerasconv.transfer.ablation import (
    AblationTable,
    ablate,
    ablated_model,
    ablation_presets,
    chain_layers,
    convolution_layers,
    fully_connected_layers,
)
from kerasconv.transfer.features import extract_features, model_fingerprint
from kerasconv.transfer.fewshot import (
    FewShotResult,
    few_shot,
    few_shot_layers,
    nearest_neighbour_predict,
)
from kerasconv.transfer.finetune import (
    GroupedOptimizer,
    UnfreezeSchedule,
    fine_tune,
    freeze,
    grouped_optimizer,
    replace_head,
    trainable_layer_names,
)
from kerasconv.transfer.invariance import (
    InvarianceCurves,
    invariance_study,
    transform_images,
)
from kerasconv.transfer.probes import ProbeResult, ProbeTable, linear_probe, probe_layers
from kerasconv.transfer.tasks import split_classes

__all__ = [
    "AblationTable",
    "FewShotResult",
    "GroupedOptimizer",
    "InvarianceCurves",
    "ProbeResult",
    "ProbeTable",
    "UnfreezeSchedule",
    "ablate",
    "ablated_model",
    "ablation_presets",
    "chain_layers",
    "convolution_layers",
    "extract_features",
    "few_shot",
    "few_shot_layers",
    "fine_tune",
    "freeze",
    "fully_connected_layers",
    "grouped_optimizer",
    "invariance_study",
    "linear_probe",
    "model_fingerprint",
    "nearest_neighbour_predict",
    "probe_layers",
    "replace_head",
    "split_classes",
    "trainable_layer_names",
    "transform_images",
]
