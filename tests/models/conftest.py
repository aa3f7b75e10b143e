"""Fixtures for the model-zoo tests: each big model is built once per session."""

import pytest


@pytest.fixture(scope="session")
def built():
    """``built(name, **kwargs)`` builds a registered model once per argument set and caches it."""
    import kerasconv

    cache = {}

    def get(name, **kwargs):
        key = (name, tuple(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = kerasconv.models.create(name, **kwargs)
        return cache[key]

    return get
