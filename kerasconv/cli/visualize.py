"""``kerasconv visualize METHOD --model M --image I --out DIR``: look inside a convnet.

``--model`` is a ``.keras`` file or a registry name (an untrained network: useful for filters and
receptive fields only). ``--image`` is a PNG/JPEG file, ``digits:N`` (test digit N) or the name of
a bundled photograph (``chelsea``, ``astronaut``, ...). Writes ``METHOD.png`` (and ``METHOD.npy``
with the raw maps) into ``--out``.
"""

from __future__ import annotations

import os

from kerasconv.cli import UsageError

MAP_METHODS = (
    "saliency",
    "smoothgrad",
    "integrated_gradients",
    "gradient_times_input",
    "guided_backprop",
    "deconvnet",
    "grad_cam",
    "grad_cam_plus_plus",
    "guided_grad_cam",
    "occlusion",
)
METHODS = MAP_METHODS + ("filters", "activations", "receptive_field")


def register(subparsers):
    parser = subparsers.add_parser(
        "visualize",
        help="saliency, Grad-CAM, guided backprop, occlusion, filters, activations of a model",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("method", choices=METHODS, metavar="METHOD", help=", ".join(METHODS))
    parser.add_argument("--model", required=True, help=".keras file or registry name")
    parser.add_argument(
        "--image", help="PNG/JPEG path, 'digits:N' or a sample photograph name (chelsea, ...)"
    )
    parser.add_argument("--out", required=True, help="folder for the PNG (created)")
    parser.add_argument("--layer", help="layer name (Grad-CAM, activations, filters, ...)")
    parser.add_argument("--target", type=int, help="class index (default: the predicted class)")
    parser.set_defaults(func=run)


def _load_model(spec):
    import keras

    import kerasconv

    if spec.endswith(".keras") or os.path.sep in spec:
        if not os.path.exists(spec):
            raise UsageError(f"model file {spec!r} does not exist.")
        try:
            return keras.models.load_model(spec)
        except (OSError, ValueError) as error:
            raise UsageError(f"cannot load model {spec!r}: {str(error).splitlines()[0]}") from None
    if spec not in kerasconv.models.list_models():
        raise UsageError(
            f"--model {spec!r} is neither a .keras file nor a registered model "
            "(see 'kerasconv models list')."
        )
    return kerasconv.models.create(spec)


def _load_image(spec, model):
    import numpy as np
    import tensorflow as tf

    import kerasconv

    shape = tuple(model.inputs[0].shape[1:])
    height, width, channels = shape
    if height is None or width is None:
        raise UsageError("the model's input size is not fixed; cannot resize the image.")
    if spec.startswith("digits:"):
        try:
            index = int(spec.split(":", 1)[1])
        except ValueError:
            raise UsageError(f"--image {spec!r}: expected digits:N with an integer N.") from None
        if height != width:
            raise UsageError("digits are square; the model's input is not.")
        x, y = kerasconv.data.load_arrays("digits", "test", image_size=height)
        if not 0 <= index < len(x):
            raise UsageError(f"--image {spec!r}: N must be in [0, {len(x) - 1}].")
        image = x[index]
    elif spec in kerasconv.data.SAMPLE_NAMES:
        image = kerasconv.data.sample_image(spec, size=(height, width))
    else:
        if not os.path.exists(spec):
            raise UsageError(
                f"--image {spec!r} is not a file, 'digits:N' or a sample photograph "
                f"({', '.join(kerasconv.data.SAMPLE_NAMES)})."
            )
        try:
            data = tf.io.read_file(spec)
            image = tf.io.decode_image(data, channels=3, expand_animations=False)
        except tf.errors.InvalidArgumentError:
            raise UsageError(f"--image {spec!r} is not a PNG/JPEG/GIF/BMP image.") from None
        image = tf.image.resize(tf.cast(image, tf.float32) / 255.0, (height, width)).numpy()
    image = np.asarray(image, dtype="float32")
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[-1] != channels:
        if channels == 1:
            image = image.mean(axis=-1, keepdims=True)
        elif image.shape[-1] == 1:
            image = np.repeat(image, channels, axis=-1)
        else:
            raise UsageError(
                f"the model wants {channels} channels; the image has {image.shape[-1]}."
            )
    return image[None]


def run(args):
    import numpy as np

    from kerasconv import visualize
    from kerasconv.visualize import plot

    model = _load_model(args.model)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{args.method}.png")
    if args.method == "filters":
        kernels = visualize.filters(model, args.layer)
        plot.filter_grid(kernels, path=path, title=f"{model.name} {args.layer or 'first layer'}")
        np.save(os.path.join(args.out, "filters.npy"), kernels)
        print(path)
        return 0
    if args.method == "receptive_field":
        if not args.layer:
            raise UsageError("receptive_field needs --layer.")
        field = visualize.receptive_field(model, args.layer)
        print(f"{args.layer}: size {field.size}, stride {field.stride}, start {field.start}")
        return 0
    if not args.image:
        raise UsageError(f"{args.method} needs --image.")
    x = _load_image(args.image, model)
    if args.method == "activations":
        from kerasconv.visualize._common import default_spatial_layer

        layer = args.layer or default_spatial_layer(model)
        activation = visualize.activations(model, x, layer)
        plot.feature_map_grid(activation[0], path=path, title=f"{model.name} {layer}")
        np.save(os.path.join(args.out, "activations.npy"), activation)
        print(path)
        return 0
    target = args.target
    if target is not None:
        classes = int(np.prod(model.outputs[0].shape[-1:]))
        if not 0 <= target < classes:
            raise UsageError(f"--target must be a class index in [0, {classes - 1}]; got {target}.")
    layered = {"grad_cam", "grad_cam_plus_plus", "guided_grad_cam"}
    options = {"layer": args.layer} if args.method in layered else {}
    if args.layer and args.method not in layered:
        raise UsageError(f"--layer does not apply to {args.method}.")
    function = {
        "saliency": visualize.saliency_map,
        "occlusion": visualize.occlusion_sensitivity,
    }.get(args.method) or getattr(visualize, args.method)
    if args.method == "occlusion":
        side = int(x.shape[1])
        options = {"patch_size": max(2, side // 8), "stride": max(1, side // 16)}
    maps = function(model, x, target, **options)
    predicted = int(np.argmax(model.predict(x, verbose=0)[0]))
    explained = predicted if target is None else target
    plot.attribution_grid(
        x,
        {args.method: maps},
        path=path,
        title=f"{args.method}: class {explained} (predicted {predicted})",
    )
    np.save(os.path.join(args.out, f"{args.method}.npy"), maps)
    print(path)
    return 0
