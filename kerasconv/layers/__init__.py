"""kerasconv.layers: the layers of the classic convnets that Keras does not ship.

Every layer is registered serializable (package ``kerasconv``), so models using them round-trip
through ``.keras`` files and ``model.export()``. See ``docs/layers.md``.

* normalisation: ``LocalResponseNormalization`` (AlexNet), ``LocalContrastNormalization``
  (Jarrett et al. 2009), ``ZCAWhitening`` (a preprocessing layer with ``adapt``);
* ``Maxout`` (Goodfellow et al. 2013);
* untied convolutions: ``LocallyConnected2D``, ``TiledConv2D`` (Le et al. 2010);
* deconvnet switches: ``MaxPoolingWithArgmax2D``, ``MaxUnpooling2D`` (Zeiler & Fergus 2014);
* LeNet-5's ``Subsampling2D``, ``ConnectionTableConv2D`` and ``lecun_tanh`` (LeCun et al. 1998).
"""

from kerasconv.layers.local import (
    LocallyConnected2D,
    TiledConv2D,
    tiled_kernel_from_locally_connected,
)
from kerasconv.layers.maxout import Maxout
from kerasconv.layers.normalization import (
    LocalContrastNormalization,
    LocalResponseNormalization,
    gaussian_window,
)
from kerasconv.layers.pooling import CoveringMaxPooling2D, MaxPoolingWithArgmax2D, MaxUnpooling2D
from kerasconv.layers.subsampling import (
    LENET5_C3_TABLE,
    ConnectionTableConv2D,
    Subsampling2D,
    lecun_tanh,
)
from kerasconv.layers.whitening import ZCAWhitening

__all__ = [
    "LENET5_C3_TABLE",
    "ConnectionTableConv2D",
    "CoveringMaxPooling2D",
    "LocalContrastNormalization",
    "LocalResponseNormalization",
    "LocallyConnected2D",
    "MaxPoolingWithArgmax2D",
    "MaxUnpooling2D",
    "Maxout",
    "Subsampling2D",
    "TiledConv2D",
    "ZCAWhitening",
    "gaussian_window",
    "lecun_tanh",
    "tiled_kernel_from_locally_connected",
]
