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
import re
import threading
import time
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
            raise invalid_argument(op_error_message(error)) from None
        except tf.errors.OpError as error:
            raise ServingError("INTERNAL", op_error_message(error)) from None
        wanted = set(output_filter) or set(outputs)
        return {name: value.numpy() for name, value in outputs.items() if name in wanted}


def op_error_message(error):
    """The cause in a TensorFlow error, without eager mode's "Graph execution error:" wrapping.

    A failing op inside a ``tf.function`` raises a message that starts with "Graph execution
    error:", then "Detected at node …" and a Python traceback; the op's own message (e.g. "Unknown
    image file format. One of JPEG, PNG, GIF, BMP required.") comes just before the
    ``[[{{node …}}]]`` marker.
    """
    text = str(getattr(error, "message", None) or error)
    lines = [line.strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        if "[[{{node" in line:
            before = line.split("[[{{node", 1)[0].strip()
            if before:
                return before
            for previous in reversed(lines[:index]):
                if previous and not previous.startswith("<stack traces"):
                    return previous
    for line in lines:
        if line and not line.startswith(("Graph execution error", "Detected at node", "<stack")):
            return re.sub(r"\s*\[Op:[^\]]*\]\s*$", "", line)
    return type(error).__name__


def _shape_text(shape):
    return "[" + ", ".join("-1" if dim is None else str(dim) for dim in shape.as_list()) + "]"


class _Failure:
    """A version whose load failed: when to try again, and whether the retries are used up."""

    __slots__ = ("attempts", "next_attempt", "exhausted", "folder")

    def __init__(self, attempts, next_attempt, exhausted, folder):
        self.attempts = attempts
        self.next_attempt = next_attempt
        self.exhausted = exhausted
        self.folder = folder


def _folder_signature(path):
    """(relative path, size, mtime) of every file under a version folder: changes when it does."""
    items = []
    for root, _, files in os.walk(path):
        for file in files:
            full = os.path.join(root, file)
            try:
                info = os.stat(full)
            except OSError:
                continue
            items.append((os.path.relpath(full, path), info.st_size, info.st_mtime_ns))
    return tuple(sorted(items))


class _ModelEntry:
    def __init__(self, config):
        self.config = config
        self.servables = {}  # version -> Servable (AVAILABLE)
        self.states = {}  # version -> (state, error_code, error_message)
        self.failures = {}  # version -> _Failure
        self.problem = None  # why no version can be found (e.g. the base path is missing)


DEFAULT_MAX_NUM_LOAD_RETRIES = 5
DEFAULT_LOAD_RETRY_INTERVAL_MICROS = 60 * 1000 * 1000


class ModelRegistry:
    """The models a server answers for, kept in step with their folders.

    Version changes follow TF Serving's availability-preserving policy
    (``tensorflow_serving/core/availability_preserving_policy.cc``): a version that is no longer
    wanted is unloaded only once a wanted version is serving, so a model never goes dark while a
    version is on its way in; rolling back (deleting the newest folder) loads the older version
    first and only then drops the newer one. A version whose load fails is retried
    ``max_num_load_retries`` times, ``load_retry_interval_micros`` apart (TF Serving's flags and
    defaults: 5 retries, 60 s); a version that has used up its retries is passed over, so the
    policy falls back to the newest version that loads, and it gets a fresh set of retries when its
    folder changes (a copy that completes late is served once complete).

    Args:
        config: a ``ModelServerConfig`` (see :func:`load_config_file`, :func:`single_model_config`).
        poll_seconds: how often the background thread looks for new versions (``start``);
            0 disables polling after the first scan.
        max_num_load_retries: retries after a failed load (0: give up at once).
        load_retry_interval_micros: the wait before each retry, in microseconds.
    """

    def __init__(
        self,
        config,
        poll_seconds=1.0,
        max_num_load_retries=DEFAULT_MAX_NUM_LOAD_RETRIES,
        load_retry_interval_micros=DEFAULT_LOAD_RETRY_INTERVAL_MICROS,
    ):
        _check_config(config)
        if isinstance(max_num_load_retries, bool) or not isinstance(max_num_load_retries, int):
            raise TypeError("max_num_load_retries must be an integer.")
        if max_num_load_retries < 0:
            raise ValueError(f"max_num_load_retries must be >= 0; got {max_num_load_retries}.")
        if isinstance(load_retry_interval_micros, bool) or not isinstance(
            load_retry_interval_micros, (int, float)
        ):
            raise TypeError("load_retry_interval_micros must be a number.")
        if load_retry_interval_micros < 0:
            raise ValueError(
                f"load_retry_interval_micros must be >= 0; got {load_retry_interval_micros}."
            )
        self._lock = threading.RLock()
        self._poll_lock = threading.Lock()
        self._models = {}
        self.poll_seconds = float(poll_seconds)
        self.max_num_load_retries = max_num_load_retries
        self.load_retry_interval = load_retry_interval_micros / 1e6
        self.on_change = []  # callables run after a version is loaded or unloaded
        self._stop = threading.Event()
        self._thread = None
        self._apply_config(config)

    @classmethod
    def for_model(cls, model_name, base_path, poll_seconds=1.0, **kwargs):
        return cls(single_model_config(model_name, base_path), poll_seconds=poll_seconds, **kwargs)

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

    def problems(self):
        """``{model name: message}`` for models none of whose versions can be found."""
        with self._lock:
            return {name: e.problem for name, e in self._models.items() if e.problem}

    # ------------------------------------------------------------------ polling
    def _wanted_versions(self, entry, present):
        policy = entry.config.model_version_policy
        choice = policy.WhichOneof("policy_choice")
        if choice == "all":
            return set(present)
        if choice == "specific":
            return set(present) & set(policy.specific.versions)
        count = policy.latest.num_versions if choice == "latest" else 0
        return set(sorted(present)[-max(count, 1) :]) if present else set()

    def _scan(self, name, entry, base):
        present = []
        if not base.is_dir():
            problem = (
                f"base path {str(base)!r} does not exist"
                if not base.exists()
                else f"base path {str(base)!r} is not a folder"
            )
        else:
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
            problem = None if present else f"no version folders under {str(base)!r} yet"
        if problem != entry.problem:
            if problem:
                logger.warning(
                    "Model %s: %s (polling every %g s)", name, problem, self.poll_seconds
                )
            entry.problem = problem
        return present

    def poll(self):
        """Scan every base path once: load wanted new versions, unload the others."""
        with self._poll_lock:
            with self._lock:
                entries = list(self._models.items())
            changed = False
            for name, entry in entries:
                changed |= self._poll_entry(name, entry)
        if changed:
            for callback in list(self.on_change):
                callback()

    def _poll_entry(self, name, entry):
        base = Path(entry.config.base_path)
        present = self._scan(name, entry, base)
        changed = False
        for version, failure in list(entry.failures.items()):
            if version not in present:
                del entry.failures[version]
            elif failure.exhausted and _folder_signature(base / str(version)) != failure.folder:
                logger.info("%s version %d changed on disk: loading it again", name, version)
                del entry.failures[version]
        # A version that used up its retries is passed over, so the policy falls back to the
        # newest one that loads; loop because a load that fails for good changes what is wanted.
        while True:
            given_up = {v for v, f in entry.failures.items() if f.exhausted}
            wanted = self._wanted_versions(entry, sorted(set(present) - given_up))
            newly_exhausted = False
            for version in sorted(wanted - set(entry.servables), reverse=True):
                failure = entry.failures.get(version)
                if failure is not None and time.monotonic() < failure.next_attempt:
                    continue
                if self._load(name, entry, version, base / str(version)):
                    changed = True
                elif entry.failures[version].exhausted:
                    newly_exhausted = True
            if not newly_exhausted:
                break
        with self._lock:
            # availability_preserving_policy.cc: unload what is not wanted only while a wanted
            # version is serving; otherwise the last serving version stays (even if its folder is
            # gone: it is in memory), so requests never meet an empty model.
            if wanted & set(entry.servables):
                for version in sorted(set(entry.servables) - wanted):
                    del entry.servables[version]
                    entry.states[version] = (END, "OK", "")
                    changed = True
                    logger.info("Unloaded %s version %d", name, version)
        return changed

    def _load(self, name, entry, version, path):
        with self._lock:
            entry.states[version] = (LOADING, "OK", "")
        try:
            servable = Servable(name, version, path)
        except Exception as error:  # noqa: BLE001 - a broken export must not stop the server
            lines = [line for line in str(error).strip().splitlines() if line.strip()]
            message = lines[0] if lines else repr(error)
            previous = entry.failures.get(version)
            attempts = (previous.attempts if previous else 0) + 1
            exhausted = attempts > self.max_num_load_retries
            failure = _Failure(
                attempts,
                time.monotonic() + self.load_retry_interval,
                exhausted,
                _folder_signature(path),
            )
            with self._lock:
                entry.failures[version] = failure
                if exhausted:
                    entry.states[version] = (END, "UNKNOWN", message)
                else:
                    entry.states[version] = (
                        LOADING,
                        "UNKNOWN",
                        f"load attempt {attempts} of {self.max_num_load_retries + 1} failed, "
                        f"retrying in {self.load_retry_interval:g} s: {message}",
                    )
            logger.error(
                "Loading %s version %d failed (attempt %d of %d): %s",
                name,
                version,
                attempts,
                self.max_num_load_retries + 1,
                message,
            )
            return False
        with self._lock:
            entry.failures.pop(version, None)
            entry.servables[version] = servable
            entry.states[version] = (AVAILABLE, "OK", "")
        logger.info("Loaded %s version %d from %s", name, version, path)
        return True

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

    def watch_config_file(self, path, poll_wait_seconds):
        """Re-read a ``--model_config_file`` every ``poll_wait_seconds`` and apply it when it
        changes (TF Serving's ``--model_config_file_poll_wait_seconds``). A file that fails to
        parse is logged and the current config kept."""
        if poll_wait_seconds <= 0:
            return
        path = Path(path)
        last = [path.read_text(encoding="utf-8") if path.is_file() else None]

        def watch():
            while not self._stop.wait(poll_wait_seconds):
                try:
                    text = path.read_text(encoding="utf-8")
                    if text == last[0]:
                        continue
                    last[0] = text
                    self.reload_config(load_config_file(path))
                    logger.info("Applied the changed model config file %s", path)
                except Exception as error:  # noqa: BLE001 - keep the config that works
                    logger.error("Model config file %s not applied: %s", path, error)

        thread = threading.Thread(target=watch, name="kerasconv-config", daemon=True)
        thread.start()
        self._watchers = [*getattr(self, "_watchers", []), thread]

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        for thread in getattr(self, "_watchers", []):
            thread.join(timeout=10)
        self._watchers = []

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
