"""One per-model cache for compiled helpers (gradient engines, attack loops, rule clones, ...).

Compiled functions close over the model they serve, so a ``WeakKeyDictionary`` keyed by the model
never frees its entries (the value keeps the key alive). kerasconv keeps the cache on the model
itself instead, as an attribute Keras does not track: model and cache form a cycle that Python's
garbage collector frees together, and the cache never enters the model's config or saved files.
"""

from __future__ import annotations

_ATTRIBUTE = "_kerasconv_caches"


def model_cache(model, namespace):
    """The dict kept on ``model`` for ``namespace`` (created empty on first use).

    Objects that take no attributes get a fresh, unshared dict (no caching).
    """
    caches = getattr(model, "__dict__", {}).get(_ATTRIBUTE)
    if caches is None:
        caches = {}
        try:
            object.__setattr__(model, _ATTRIBUTE, caches)
        except (AttributeError, TypeError):
            return {}
    return caches.setdefault(namespace, {})
