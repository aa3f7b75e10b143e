"""Which models and versions are served: TF Serving's model manager, in miniature.

A :class:`ModelRegistry` holds one entry per model (name, base path, version policy, version
labels), polls each base path (every ``poll_seconds``, like ``--file_system_poll_wait_seconds``)
for integer-named version folders, loads the versions the policy asks for and unloads the others.
A new version is loaded *before* the old one is dropped, so requests never see a gap.

The configuration is TF Serving's own ``ModelServerConfig`` (text protobuf, as in
``--model_config_file``), parsed with the protos shipped in ``tensorflow-serving-api``::

    model_config_list {
      config {
        name: "lenet5_digits"
        base_path: "saved_models/lenet5_digits"
        model_platform: "tensorflow"
        model_version_policy { latest { num_versions: 1 } }   # or all {} / specific { versions: 1 }
        version_labels { key: "stable" value: 1 }
      }
    }
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from kerasconv.serving.errors import ServingError, invalid_argument, not_found

logger = logging.getLogger("kerasconv.serving")

# ModelVersionStatus.State names.
LOADING, AVAILABLE, END = "LOADING", "AVAILABLE", "END"


def load_config_file(path):
    """Parse a TF Serving ``--model_config_file`` (text ``ModelServerConfig``)."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model config file {str(path)!r} does not exist")
    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(path.read_text(encoding="utf-8"), config)
    except text_format.ParseError as error:
        raise ValueError(f"{str(path)!r} is not a valid ModelServerConfig: {error}") from None
    return config


def single_model_config(model_name, base_path):
    """The ``ModelServerConfig`` that ``--model_name NAME --model_base_path PATH`` stands for."""
    from tensorflow_serving.config import model_server_config_pb2

    config = model_server_config_pb2.ModelServerConfig()
    entry = config.model_config_list.config.add()
    entry.name = model_name
    entry.base_path = str(base_path)
    entry.model_platform = "tensorflow"
    return config


def _check_config(config):
    if config.WhichOneof("config") != "model_config_list":
        raise ValueError(
            "the model config must have a model_config_list (custom configs are TF "
            "Serving plug-ins that kerasconv does not support)"
        )
    names = [entry.name for entry in config.model_config_list.config]
    if not names:
        raise ValueError("the model config lists no models")
    for entry in config.model_config_list.config:
        if not entry.name or "/" in entry.name or ":" in entry.name:
            raise ValueError(f"invalid model name {entry.name!r} (no '/' or ':', not empty)")
        if not entry.base_path:
            raise ValueError(f"model {entry.name!r} has no base_path")
        if entry.model_platform not in ("", "tensorflow"):
            raise ValueError(
                f"model {entry.name!r}: platform {entry.model_platform!r} is not supported "
                "(only 'tensorflow' SavedModels)"
            )
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise ValueError(f"model names must be unique; repeated: {sorted(duplicates)}")


class Servable:
    """One loaded version of a model: its signatures, their input specs and its SignatureDefs."""

    def __init__(self, name, version, path):
        import tensorflow as tf
        from tensorflow.core.protobuf import saved_model_pb2

        self.name = name
        self.version = version
        self.path = str(path)
        self._loaded = tf.saved_model.load(self.path)
        self.signatures = dict(self._loaded.signatures)
        proto = saved_model_pb2.SavedModel()
        proto.ParseFromString(Path(self.path, "saved_model.pb").read_bytes())
        graphs = [g for g in proto.meta_graphs if "serve" in g.meta_info_def.tags]
        self.signature_defs = dict((graphs or proto.meta_graphs)[0].signature_def)
        self.input_specs = {}
        for key, function in self.signatures.items():
            _, kwargs = function.structured_input_signature
            self.input_specs[key] = dict(kwargs)

    def signature(self, signature_name):
        key = signature_name or "serving_default"
        if key not in self.signatures:
            raise ServingError("FAILED_PRECONDITION", f'Serving signature key "{key}" not found.')
        return key, self.signatures[key], self.input_specs[key]

    def predict(self, signature_name, inputs, output_filter=()):
        """Run a signature on NumPy inputs (already named as the signature wants)."""
        import numpy as np
        import tensorflow as tf

        from kerasconv.serving.tensors import check_input_names

        key, function, specs = self.signature(signature_name)
        check_input_names(inputs, specs)
        feeds = {}
        for name, value in inputs.items():
            spec = specs[name]
            value = np.asarray(value) if not isinstance(value, np.ndarray) else value
            expected = spec.dtype
            if expected == tf.string:
                if value.dtype != object and value.dtype.kind not in "SU":
                    raise invalid_argument(
                        f"Expects arg {name!r} to be string but {value.dtype} is provided"
                    )
            elif value.dtype != np.dtype(expected.as_numpy_dtype):
                raise invalid_argument(
                    f"Expects arg {name!r} to be {expected.name} but "
                    f"{tf.as_dtype(value.dtype).name if value.dtype != object else 'string'} is "
                    "provided"
                )
            if not spec.shape.is_compatible_with(value.shape):
                raise invalid_argument(
                    f"Input {name!r} has shape {list(value.shape)}; signature {key!r} expects "
                    f"{_shape_text(spec.shape)}."
                )
            feeds[name] = tf.constant(value, dtype=expected)
        unknown = set(output_filter) - set(function.structured_outputs)
        if unknown:
            raise invalid_argument(
                f"output tensor alias not found in signature: {sorted(unknown)[0]} Outputs "
                f"expected to be in the set {{{','.join(sorted(function.structured_outputs))}}}."
            )
        try:
            outputs = function(**feeds)
        except (tf.errors.InvalidArgumentError, ValueError, TypeError) as error:
            message = str(getattr(error, "message", error)).strip().splitlines()
            raise invalid_argument(message[0] if message else type(error).__name__) from None
        except tf.errors.OpError as error:
            raise ServingError("INTERNAL", error.message.strip().splitlines()[0]) from None
        wanted = set(output_filter) or set(outputs)
        return {name: value.numpy() for name, value in outputs.items() if name in wanted}


def _shape_text(shape):
    return "[" + ", ".join("-1" if dim is None else str(dim) for dim in shape.as_list()) + "]"


class _ModelEntry:
    def __init__(self, config):
        self.config = config
        self.servables = {}  # version -> Servable (AVAILABLE)
        self.states = {}  # version -> (state, error_code, error_message)
        self.failed = set()  # versions whose load failed: not retried until the folder changes


class ModelRegistry:
    """The models a server answers for, kept in step with their folders.

    Args:
        config: a ``ModelServerConfig`` (see :func:`load_config_file`, :func:`single_model_config`).
        poll_seconds: how often the background thread looks for new versions (``start``);
            0 disables polling after the first scan.
    """

    def __init__(self, config, poll_seconds=1.0):
        _check_config(config)
        self._lock = threading.RLock()
        self._models = {}
        self.poll_seconds = float(poll_seconds)
        self._stop = threading.Event()
        self._thread = None
        self._apply_config(config)

    @classmethod
    def for_model(cls, model_name, base_path, poll_seconds=1.0):
        return cls(single_model_config(model_name, base_path), poll_seconds=poll_seconds)

    # ------------------------------------------------------------------ configuration
    def _apply_config(self, config):
        with self._lock:
            kept = {}
            for entry in config.model_config_list.config:
                old = self._models.get(entry.name)
                if old is not None and old.config.base_path == entry.base_path:
                    old.config = entry
                    kept[entry.name] = old
                else:
                    kept[entry.name] = _ModelEntry(entry)
            self._models = kept

    def reload_config(self, config):
        """Switch to a new ``ModelServerConfig`` (gRPC ``HandleReloadConfigRequest``)."""
        _check_config(config)
        self._apply_config(config)
        self.poll()

    @property
    def model_names(self):
        with self._lock:
            return sorted(self._models)

    # ------------------------------------------------------------------ polling
    def _wanted_versions(self, entry, present):
        policy = entry.config.model_version_policy
        choice = policy.WhichOneof("policy_choice")
        if choice == "all":
            return set(present)
        if choice == "specific":
            return set(present) & set(policy.specific.versions)
        count = policy.latest.num_versions if choice == "latest" else 0
        return set(sorted(present)[-max(count, 1) :])

    def poll(self):
        """Scan every base path once: load wanted new versions, unload the others."""
        with self._lock:
            entries = list(self._models.items())
        for name, entry in entries:
            base = Path(entry.config.base_path)
            present = []
            if base.is_dir():
                for child in base.iterdir():
                    if (
                        child.name.isdigit()
                        and child.is_dir()
                        and (
                            (child / "saved_model.pb").is_file()
                            or (child / "saved_model.pbtxt").is_file()
                        )
                    ):
                        present.append(int(child.name))
            wanted = self._wanted_versions(entry, present)
            for version in sorted(wanted - set(entry.servables) - entry.failed):
                self._load(name, entry, version, base / str(version))
            with self._lock:
                # Unload only once something newer is serving (or the folder is gone).
                for version in list(entry.servables):
                    if version not in wanted and (
                        version not in present or wanted & set(entry.servables)
                    ):
                        del entry.servables[version]
                        entry.states[version] = (END, "OK", "")
                        logger.info("Unloaded %s version %d", name, version)
                entry.failed &= set(present)

    def _load(self, name, entry, version, path):
        with self._lock:
            entry.states[version] = (LOADING, "OK", "")
        try:
            servable = Servable(name, version, path)
        except Exception as error:  # noqa: BLE001 - a broken export must not stop the server
            message = str(error).strip().splitlines()
            with self._lock:
                entry.states[version] = (END, "UNKNOWN", message[0] if message else repr(error))
                entry.failed.add(version)
            logger.error("Loading %s version %d failed: %s", name, version, error)
            return
        with self._lock:
            entry.servables[version] = servable
            entry.states[version] = (AVAILABLE, "OK", "")
        logger.info("Loaded %s version %d from %s", name, version, path)

    def start(self):
        """Scan once now, then keep polling in a daemon thread (if ``poll_seconds`` > 0)."""
        self.poll()
        if self.poll_seconds > 0 and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="kerasconv-poll", daemon=True)
            self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - keep polling whatever one scan hit
                logger.exception("Polling the model folders failed")

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    # ------------------------------------------------------------------ lookups
    def _entry(self, name, request_text):
        entry = self._models.get(name)
        if entry is None:
            raise not_found(f"Servable not found for request: {request_text}")
        return entry

    def get(self, name, version=None, label=None):
        """The servable a request names: latest by default, or a version, or a version label."""
        if version is not None and label:
            raise invalid_argument(
                f"Both model version ({version}) and model version label ({label}) cannot be "
                "supplied."
            )
        with self._lock:
            if label:
                entry = self._models.get(name)
                labels = dict(entry.config.version_labels) if entry is not None else {}
                if label not in labels:
                    raise invalid_argument(f"Unrecognized servable version label: {label}")
                version = labels[label]
            if version is not None:
                entry = self._entry(name, f"Specific({name}, {version})")
                servable = entry.servables.get(int(version))
                if servable is None:
                    raise not_found(f"Servable not found for request: Specific({name}, {version})")
                return servable
            entry = self._entry(name, f"Latest({name})")
            if not entry.servables:
                raise not_found(f"Servable not found for request: Latest({name})")
            return entry.servables[max(entry.servables)]

    def status(self, name, version=None):
        """``[(version, state, error_code, error_message)]`` as ``GetModelStatus`` reports them."""
        with self._lock:
            entry = self._models.get(name)
            states = dict(entry.states) if entry is not None else {}
        if version is not None:
            if int(version) not in states:
                raise not_found(f"Could not find version {version} of model {name}")
            return [(int(version), *states[int(version)])]
        if not states:
            raise not_found(f"Could not find any versions of model {name}")
        return [(v, *states[v]) for v in sorted(states, reverse=True)]

    def class_names(self, servable):
        """The class names stored with an export (empty list when it has none)."""
        path = os.path.join(servable.path, "assets", "class_names.txt")
        if not os.path.isfile(path):
            return []
        with open(path, encoding="utf-8") as handle:
            return handle.read().splitlines()
