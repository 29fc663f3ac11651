"""Shopify REST Admin API client: ``X-Shopify-Access-Token`` on every call, every path under
``{base}/admin/api/{api_version}/``, cursor paging through the ``Link`` header (``page_info``,
never sent beside other filters), the 40-request / 2 per second leaky bucket (the hub's
HttpClient honours 429 + ``Retry-After`` and slows down when
``X-Shopify-Shop-Api-Call-Limit`` nears full; the 429s survived are counted here) and ids kept
exactly: bodies are parsed with orjson, whose integers never pass through a float."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import requests

from connectors.shopify.pages import decode_rows
from hub.core.errors import ConfigError, NotPlatformApi, PermissionDenied
from hub.sync.http import platform_text, response_host

DEFAULT_VERSION = "2025-01"
PAGE_LIMIT = 250  # Shopify's largest page


def default_base(shop: str) -> str:
    """The shop's own address: ``https://{shop}`` (used when ``api_base`` is not set)."""
    return f"https://{shop}"


class ShopifyClient:
    """One shop's Admin API access through the hub's HttpClient (timeouts, retries, egress)."""

    def __init__(
        self,
        *,
        http: Any,
        shop: str,
        access_token: str,
        api_base: str | None = None,
        api_version: str = DEFAULT_VERSION,
    ) -> None:
        self.http = http
        self.shop = shop
        self.access_token = access_token
        self.api_base = (api_base or default_base(shop)).rstrip("/")
        self.api_version = api_version or DEFAULT_VERSION
        self.root = f"{self.api_base}/admin/api/{self.api_version}"
        self.throttled = 0  # 429s answered (and survived by waiting)

    def url(self, path: str) -> str:
        """``{base}/admin/api/{api_version}/{path}``."""
        return f"{self.root}/{path.lstrip('/')}"

    def _classify(self, response: requests.Response) -> Exception | None:
        if response.status_code == 429:
            self.throttled += 1
        return None  # the hub's default classification (429 / 5xx retried, 401 refused)

    def _get(self, url: str, params: dict[str, Any] | None = None) -> requests.Response:
        return self.http.get(
            url,
            params=params,
            headers={"X-Shopify-Access-Token": self.access_token, "Accept": "application/json"},
            classify=self._classify,
        )

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET a path under the versioned root; the decoded JSON body. A 404 is None."""
        response = self._get(self.url(path), params)
        if response.status_code == 404:
            return None
        return self._body(response, path)

    def get_absolute(self, path: str) -> Any:
        """GET a path outside the versioned root (``/admin/oauth/access_scopes.json``)."""
        response = self._get(f"{self.api_base}/{path.lstrip('/')}")
        return self._body(response, path)

    def page(
        self, resource: str, params: dict[str, Any], page_info: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of ``resource`` (``orders``, ``events``...): its rows and the next page's
        ``page_info`` (None at the end); ``fetch`` then ``rows``."""
        response = self.fetch(resource, params, page_info)
        return self.rows(resource, response), next_page_info(response)

    def fetch(
        self, resource: str, params: dict[str, Any], page_info: str | None = None
    ) -> requests.Response:
        """GET one page of ``resource``, undecoded (its ``Link`` header names the next). With
        ``page_info`` only it, ``limit`` and ``fields`` are sent: Shopify refuses any other
        filter beside a cursor."""
        query = params
        if page_info:  # only limit and fields may stand beside a cursor
            query = {k: v for k, v in params.items() if k in ("limit", "fields")}
            query["page_info"] = page_info
        return self._get(self.url(f"{resource}.json"), query)

    def rows(self, resource: str, response: requests.Response) -> list[dict[str, Any]]:
        """The rows of a fetched page of ``resource``. Orders, customers and checkouts are
        decoded to the fields the mapping reads (``connectors.shopify.pages``)."""
        path = f"{resource}.json"
        rows = decode_rows(resource, response.content) if response.status_code < 300 else None
        if rows is None:  # no schema for it, or not the expected shape: decoded whole
            body = self._body(response, path)
            rows = body.get(resource) if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise NotPlatformApi(
                f"{response_host(response)} answered {path} without a {resource!r} list: "
                "is api_base a Shopify shop?",
                host=response_host(response),
            )
        return rows

    def count(self, resource: str, params: dict[str, Any]) -> int | None:
        body = self.get(f"{resource}/count.json", params)
        count = body.get("count") if isinstance(body, dict) else None
        return count if isinstance(count, int) else None

    def _body(self, response: requests.Response, path: str) -> Any:
        status = response.status_code
        try:
            body = orjson.loads(response.content)
        except ValueError:
            raise NotPlatformApi(
                f"{response_host(response)} answered {path} with HTTP {status} without JSON: "
                "is api_base a Shopify shop?",
                host=response_host(response),
            ) from None
        if status >= 400:
            errors = body.get("errors") if isinstance(body, dict) else body
            text = platform_text(errors if errors is not None else "no message")
            if status in (402, 403, 423):
                raise PermissionDenied(f"Shopify refused {path} (HTTP {status}): {text}")
            raise ConfigError(f"Shopify refused {path} (HTTP {status}): {text}")
        return body


def next_page_info(response: requests.Response) -> str | None:
    """The ``page_info`` of the ``Link`` header's ``rel="next"`` URL, if any."""
    url = (response.links.get("next") or {}).get("url")
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("page_info")
    return values[0] if values else None
