"""One registry for every kerasconv model (the timm pattern).

Each entry records the builder and the reference numbers from its paper (parameters and
multiply-adds), so ``summary_table`` and the tests can compare the built model with the paper.

>>> import kerasconv
>>> model = kerasconv.models.create("lenet5", classes=10)
>>> kerasconv.models.list_models("vgg*")[:3]
['vgg11', 'vgg11_bn', 'vgg13']
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """What the registry knows about one model.

    Attributes:
        name: registry name (``"vgg_d"``).
        builder: callable returning a ``keras.Model``; takes keras.applications-style arguments.
        family: family name (``"vgg"``), used to group the docs and the summary table.
        paper: short citation.
        input_shape: the canonical input shape from the paper, ``(H, W, C)``.
        classes: the paper's number of classes.
        params: reference parameter count (trainable, as in the paper's form), or ``None``.
        macs: reference multiply-adds for one image at ``input_shape``, or ``None``.
        paper_params: what the paper itself states, as text (``"60 million"``), or ``""``.
        defaults: keyword arguments ``create`` passes to the builder unless overridden.
        aliases: other names for the same entry (``"vgg16"`` for ``"vgg_d"``).
        endpoints: documented layer names for feature access (``"conv1"`` ... ``"fc7"``).
        notes: anything a user should know about the entry.
    """

    name: str
    builder: Callable
    family: str
    paper: str
    input_shape: tuple
    classes: int = 1000
    params: int | None = None
    macs: int | None = None
    paper_params: str = ""
    defaults: dict = dataclasses.field(default_factory=dict)
    aliases: tuple = ()
    endpoints: tuple = ()
    notes: str = ""


_REGISTRY: dict[str, ModelInfo] = {}
_ALIASES: dict[str, str] = {}


def register(
    name,
    *,
    family,
    paper,
    input_shape,
    classes=1000,
    params=None,
    macs=None,
    paper_params="",
    aliases=(),
    endpoints=(),
    notes="",
    **defaults,
):
    """Decorator registering ``builder`` under ``name``; may be stacked for variants.

    Extra keyword arguments become defaults passed to the builder by ``create`` (for example
    ``register("vgg_a_lrn", ..., config="A", lrn=True)``).
    """

    def decorator(builder):
        info = ModelInfo(
            name=name,
            builder=builder,
            family=family,
            paper=paper,
            input_shape=tuple(input_shape),
            classes=classes,
            params=params,
            macs=macs,
            paper_params=paper_params,
            defaults=dict(defaults),
            aliases=tuple(aliases),
            endpoints=tuple(endpoints),
            notes=notes,
        )
        if name in _REGISTRY or name in _ALIASES:
            raise ValueError(f"A model named {name!r} is already registered.")
        _REGISTRY[name] = info
        for alias in aliases:
            if alias in _REGISTRY or alias in _ALIASES:
                raise ValueError(f"A model named {alias!r} is already registered.")
            _ALIASES[alias] = name
        return builder

    return decorator


def _load_families():
    # Importing the package registers every family; done lazily so the registry module
    # itself has no import cycle with the builders.
    import kerasconv.models  # noqa: F401


def get_info(name) -> ModelInfo:
    """The registry entry for ``name`` (or one of its aliases)."""
    _load_families()
    if not isinstance(name, str):
        raise TypeError(f"Model name must be a string; got {type(name).__name__}.")
    key = name.lower()
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        close = fnmatch.filter(sorted(_REGISTRY) + sorted(_ALIASES), f"*{key[:4]}*")[:6]
        hint = f" Did you mean one of: {', '.join(close)}?" if close else ""
        raise ValueError(
            f"Unknown model {name!r}.{hint} See kerasconv.models.list_models() "
            "or `kerasconv models list`."
        )
    return _REGISTRY[key]


def create(name, **kwargs):
    """Build the registered model ``name``; ``kwargs`` override the entry's defaults.

    Accepts the keras.applications arguments (``include_top``, ``weights``, ``input_tensor``,
    ``input_shape``, ``pooling``, ``classes``, ``classifier_activation``, ``name``).
    """
    info = get_info(name)
    arguments = dict(info.defaults)
    arguments.update(kwargs)
    return info.builder(**arguments)


def list_models(pattern=None, include_aliases=True):
    """Sorted registry names, optionally filtered by an ``fnmatch`` pattern (``"resnet*"``)."""
    _load_families()
    names = set(_REGISTRY)
    if include_aliases:
        names |= set(_ALIASES)
    names = sorted(names)
    if pattern is not None:
        if not isinstance(pattern, str):
            raise TypeError(f"pattern must be a string; got {type(pattern).__name__}.")
        names = fnmatch.filter(names, pattern.lower())
    return names


def registered_infos():
    """Every ``ModelInfo`` (canonical names only), sorted by family then name."""
    _load_families()
    return sorted(_REGISTRY.values(), key=lambda info: (info.family, info.name))
