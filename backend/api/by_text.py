"""What is worked out once per document text and schema: the same few documents come
again and again. The text is the key, not the parsed document: Python keeps a string's
hash, while graphql-core's nodes hash by walking every node."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class ByText(Generic[T]):
    """Results per schema and key (a text, with whatever else decides the result); past
    `size` keys of a schema, the least recently used goes, so unique texts cannot grow it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._schemas: weakref.WeakKeyDictionary[object, OrderedDict[Hashable, T]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, schema: object, key: Hashable) -> T | None:
        known = self._schemas.get(schema)
        if known is None or key not in known:
            return None
        known.move_to_end(key)
        return known[key]

    def put(self, schema: object, key: Hashable, value: T) -> None:
        known = self._schemas.setdefault(schema, OrderedDict())
        known[key] = value
        while len(known) > self.size:
            known.popitem(last=False)
