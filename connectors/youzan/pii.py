"""Decryption of Youzan's ``$…$1$`` PII through the shop-scoped secret APIs, batched per page
and cached (the ciphertext of a value is stable, and returning buyers repeat)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from connectors.youzan.client import YouzanApiError
from hub.core.errors import PermissionDenied

BATCH_MAX = 1000  # the API takes up to 10,000; smaller batches keep requests small


class Decryptor:
    """``prefetch`` a page's ciphertexts in batch calls, then ``plain`` reads the cache. When
    the app may not decrypt (4204: the permission was not granted), every value is None: the
    orders sync without the buyers' names, phones and addresses (the connector reports it)."""

    def __init__(self, client: Any, cache_size: int = 50_000) -> None:
        self.client = client
        self.cache: OrderedDict[str, str] = OrderedDict()
        self.cache_size = cache_size
        self.batch_supported = True
        self.refused = False

    def prefetch(self, sources: Iterable[str]) -> None:
        try:
            self._prefetch(sources)
        except PermissionDenied:
            self.refused = True

    def _prefetch(self, sources: Iterable[str]) -> None:
        if self.refused:
            return
        missing = sorted({s for s in sources if s not in self.cache})
        for start in range(0, len(missing), BATCH_MAX):
            chunk = missing[start : start + BATCH_MAX]
            if self.batch_supported:
                try:
                    self._remember(self._batch(chunk))
                    continue
                except YouzanApiError:
                    self.batch_supported = False  # fall back to the single API
            for source in chunk:
                self._remember({source: self._single(source)})

    def plain(self, source: str) -> str | None:
        """The plain text of a ciphertext (decrypted one by one if it was not prefetched);
        None when decrypting was refused."""
        if self.refused:
            return None
        if source not in self.cache:
            try:
                self._remember({source: self._single(source)})
            except PermissionDenied:
                self.refused = True
                return None
        self.cache.move_to_end(source)
        return self.cache[source]

    def _batch(self, chunk: list[str]) -> dict[str, str]:
        data = self.client.call("youzan.cloud.secret.decrypt.batch", "1.0.0", {"sources": chunk})
        return {s: str(data.get(s, s)) for s in chunk} if isinstance(data, dict) else {}

    def _single(self, source: str) -> str:
        data = self.client.call("youzan.cloud.secret.decrypt.single", "1.0.0", {"source": source})
        return str(data)

    def _remember(self, pairs: dict[str, str]) -> None:
        self.cache.update(pairs)
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)
