"""kerasconv.models: the classic convnets, one registry, uniform feature access.

Every builder takes keras.applications' arguments::

    import kerasconv
    model = kerasconv.models.LeNet5(input_shape=(32, 32, 1), classes=10)
    same = kerasconv.models.create("lenet5", classes=10)
    kerasconv.models.list_models("resnet*")
    taps = kerasconv.models.feature_extractor(model, ["c1", "c3", "f6"])

Families (one module each): ``lenet``, ``alexnet`` (AlexNet, ZF-Net), ``vgg``, ``googlenet``
(GoogLeNet, BN-Inception), ``resnet`` (ImageNet and CIFAR ResNets, plain nets), ``allconv``
(Springenberg et al.'s Model C family), ``maxout``. ``summary`` counts parameters and
multiply-adds. See docs/models.md.
"""

from kerasconv.models.alexnet import AlexNet, AlexNetOneTower, ZFNet
from kerasconv.models.allconv import AllCNNC, AllConvNet, ConvPoolCNNC, ModelC, StridedCNNC
from kerasconv.models.features import endpoints, feature_extractor, find_layer
from kerasconv.models.googlenet import (
    BNInception,
    GoogLeNet,
    auxiliary_loss_weights,
    without_auxiliary_classifiers,
)
from kerasconv.models.lenet import LeNet5
from kerasconv.models.maxout import MaxoutCIFAR, MaxoutMLP
from kerasconv.models.registry import ModelInfo, create, get_info, list_models, register
from kerasconv.models.resnet import (
    CIFARPlain20,
    CIFARPlain32,
    CIFARPlain44,
    CIFARPlain56,
    CIFARPlain110,
    CIFARResNet,
    CIFARResNet20,
    CIFARResNet32,
    CIFARResNet44,
    CIFARResNet56,
    CIFARResNet110,
    ResNet,
    ResNet18,
    ResNet34,
    ResNet50,
    ResNet101,
    ResNet152,
)
from kerasconv.models.summary import (
    count_macs,
    count_trainable,
    format_layer_table,
    format_summary_table,
    layer_table,
    summary_table,
)
from kerasconv.models.vgg import (
    VGG,
    VGG11,
    VGG11BN,
    VGG11LRN,
    VGG13,
    VGG13BN,
    VGG16,
    VGG16BN,
    VGG19,
    VGG19BN,
    VGGC,
)

__all__ = [
    "auxiliary_loss_weights",
    "without_auxiliary_classifiers",
    "VGG",
    "VGG11",
    "VGG11BN",
    "VGG11LRN",
    "VGG13",
    "VGG13BN",
    "VGG16",
    "VGG16BN",
    "VGG19",
    "VGG19BN",
    "VGGC",
    "AlexNet",
    "AlexNetOneTower",
    "AllCNNC",
    "AllConvNet",
    "BNInception",
    "CIFARPlain20",
    "CIFARPlain32",
    "CIFARPlain44",
    "CIFARPlain56",
    "CIFARPlain110",
    "CIFARResNet",
    "CIFARResNet20",
    "CIFARResNet32",
    "CIFARResNet44",
    "CIFARResNet56",
    "CIFARResNet110",
    "ConvPoolCNNC",
    "GoogLeNet",
    "LeNet5",
    "MaxoutCIFAR",
    "MaxoutMLP",
    "ModelC",
    "ModelInfo",
    "ResNet",
    "ResNet18",
    "ResNet34",
    "ResNet50",
    "ResNet101",
    "ResNet152",
    "StridedCNNC",
    "ZFNet",
    "count_macs",
    "count_trainable",
    "create",
    "endpoints",
    "feature_extractor",
    "find_layer",
    "format_layer_table",
    "format_summary_table",
    "get_info",
    "layer_table",
    "list_models",
    "register",
    "summary_table",
]

# The autoencoders register themselves in the same registry (family "autoencoder").
import kerasconv.autoencoders  # noqa: E402, F401, I001
