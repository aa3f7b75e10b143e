"""The registry's names, written out so that ``kerasconv models list`` needs no TensorFlow.

Filling the registry means importing every model family, and with it Keras and TensorFlow (seconds,
and TensorFlow's start-up lines). Listing names does not need any of that, so the CLI reads this
table instead. ``tests/cli/test_cli.py`` checks that it equals ``kerasconv.models.list_models()``;
after adding or renaming a model, regenerate it with::

    python -m kerasconv.cli._model_names
"""

from __future__ import annotations

import fnmatch

# name -> canonical name (the same for canonical names; aliases point to their entry)
NAMES = {
    "alexnet": "alexnet",
    "alexnet_one_tower": "alexnet_one_tower",
    "all_cnn_c": "all_cnn_c",
    "bn_inception": "bn_inception",
    "cifar_plain110": "cifar_plain110",
    "cifar_plain20": "cifar_plain20",
    "cifar_plain32": "cifar_plain32",
    "cifar_plain44": "cifar_plain44",
    "cifar_plain56": "cifar_plain56",
    "cifar_resnet110": "cifar_resnet110",
    "cifar_resnet20": "cifar_resnet20",
    "cifar_resnet32": "cifar_resnet32",
    "cifar_resnet44": "cifar_resnet44",
    "cifar_resnet56": "cifar_resnet56",
    "conv_autoencoder": "conv_autoencoder",
    "conv_autoencoder_strided": "conv_autoencoder_strided",
    "conv_autoencoder_unpool": "conv_autoencoder_unpool",
    "convpool_cnn_c": "convpool_cnn_c",
    "denoising_autoencoder": "denoising_autoencoder",
    "dense_autoencoder": "dense_autoencoder",
    "googlenet": "googlenet",
    "inception_v1": "googlenet",
    "lenet5": "lenet5",
    "lenet5_classic": "lenet5_classic",
    "maxout_cifar": "maxout_cifar",
    "maxout_mlp": "maxout_mlp",
    "model_c": "model_c",
    "resnet101": "resnet101",
    "resnet152": "resnet152",
    "resnet18": "resnet18",
    "resnet34": "resnet34",
    "resnet50": "resnet50",
    "sparse_autoencoder": "sparse_autoencoder",
    "strided_cnn_c": "strided_cnn_c",
    "vae": "variational_autoencoder",
    "variational_autoencoder": "variational_autoencoder",
    "vgg11": "vgg_a",
    "vgg11_bn": "vgg_a_bn",
    "vgg13": "vgg_b",
    "vgg13_bn": "vgg_b_bn",
    "vgg16": "vgg_d",
    "vgg16_bn": "vgg_d_bn",
    "vgg19": "vgg_e",
    "vgg19_bn": "vgg_e_bn",
    "vgg_a": "vgg_a",
    "vgg_a_bn": "vgg_a_bn",
    "vgg_a_lrn": "vgg_a_lrn",
    "vgg_b": "vgg_b",
    "vgg_b_bn": "vgg_b_bn",
    "vgg_c": "vgg_c",
    "vgg_c_bn": "vgg_c_bn",
    "vgg_d": "vgg_d",
    "vgg_d_bn": "vgg_d_bn",
    "vgg_e": "vgg_e",
    "vgg_e_bn": "vgg_e_bn",
    "zfnet": "zfnet",
}


def list_names(pattern=None, include_aliases=True):
    """``kerasconv.models.list_models`` from the table: sorted names matching ``pattern``."""
    names = sorted(n for n, canonical in NAMES.items() if include_aliases or n == canonical)
    if pattern is not None:
        names = fnmatch.filter(names, pattern.lower())
    return names


def registry_names():
    """The same mapping read from the live registry (imports every model family)."""
    from kerasconv.models import get_info, list_models

    return {name: get_info(name).name for name in list_models(include_aliases=True)}


def main():
    import pathlib
    import re

    path = pathlib.Path(__file__)
    table = "".join(f'    "{n}": "{c}",\n' for n, c in sorted(registry_names().items()))
    text = path.read_text(encoding="utf-8")
    text = re.sub(
        r"(NAMES = \{\n).*?(\}\n)",
        lambda m: m.group(1) + table + m.group(2),
        text,
        count=1,
        flags=re.S,
    )
    path.write_text(text, encoding="utf-8")
    print(f"wrote {len(table.splitlines())} names to {path}")


if __name__ == "__main__":
    main()
