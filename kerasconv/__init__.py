"""kerasconv: classic convolutional networks in Keras 3.

Build the classic convnets (``kerasconv.models``), train them (``kerasconv.training``) on real
offline data (``kerasconv.data``), look inside them (``kerasconv.visualize``), attack and defend
them (``kerasconv.attacks``), reuse their features (``kerasconv.transfer``) and ship them to
TF Serving (``kerasconv.export``, ``kerasconv.serving``).

Sub-packages are imported lazily so that ``import kerasconv`` and the CLI's ``--help`` stay fast.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "attacks",
    "autoencoders",
    "data",
    "export",
    "gradients",
    "layers",
    "models",
    "serving",
    "training",
    "transfer",
    "visualize",
)

__all__ = list(_SUBMODULES) + ["__version__"]


def __getattr__(name):
    if name in _SUBMODULES:
        module = importlib.import_module(f"kerasconv.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'kerasconv' has no attribute {name!r}")
