"""A training process for the distributed tests (run as a script, not collected by pytest).

Usage: python distributed_worker.py MODE OUT.npz [CHECKPOINT_DIR]
MODE: "mirrored" (2 logical CPUs, MirroredStrategy), "single" (default strategy),
"multiworker" (MultiWorkerMirroredStrategy from TF_CONFIG).
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["CUDA_VISIBLE_DEVICES"] = ""

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

mode, out = sys.argv[1], sys.argv[2]
checkpoint_dir = sys.argv[3] if len(sys.argv) > 3 else None
if mode == "mirrored":
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )

import keras  # noqa: E402

import kerasconv  # noqa: E402

if mode == "mirrored":
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
elif mode == "multiworker":
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
else:
    strategy = tf.distribute.get_strategy()

x, y = kerasconv.data.load_arrays("digits", "train", image_size=12)
x, y = x[:256], y[:256]
keras.utils.set_random_seed(0)
inputs = keras.Input((12, 12, 1))
h = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
h = keras.layers.Flatten()(h)
outputs = keras.layers.Dense(10, name="predictions")(h)
model = keras.Model(inputs, outputs)
dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(32, drop_remainder=True)
history = kerasconv.training.train(
    model,
    dataset,
    epochs=2,
    batch_size=32,
    learning_rate=0.1,
    strategy=strategy,
    checkpoint_dir=checkpoint_dir,
    verbose=0,
)
np.savez(
    out,
    *model.get_weights(),
    loss=np.array(history.history["loss"]),
    replicas=strategy.num_replicas_in_sync,
)
