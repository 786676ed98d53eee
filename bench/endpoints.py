"""The REST API's read endpoints, found from council.api.urls, with real ids for a given user.

Every GET route under /api/v1/ is found by walking the URL patterns (the DRF router's and
the hand-written nested ones, so new resources are measured without editing the
benchmark). A route's path arguments are filled from what the user sees: `policies/{pk}/`
takes the first policy of `GET policies/` for that user, `policies/{policy_pk}/versions/
{number}/` then the first version number of that policy, and so on. A list that needs query
parameters (a 400 naming them) gets them from `QUERY_VALUES`.

Used by the benchmark (bench.measure) and by tests/test_query_counts.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import URLPattern, URLResolver

API_PREFIX = "/api/v1/"
# Routes that are not reads of data: files, and the API's own index.
SKIPPED_NAMES = frozenset({"api-root"})
SKIPPED_ACTIONS = frozenset({"pdf"})
KWARG_RE = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    name: str
    template: str  # e.g. "policies/{policy_pk}/versions/{number}/"

    @property
    def kwargs(self) -> list[str]:
        return KWARG_RE.findall(self.template)


@dataclass
class Endpoint:
    route: Route
    kind: str  # "list", "detail" or "dashboard"
    path: str  # the URL measured, query string included
    empty: bool = False  # a list with no rows for this user (one query fewer: no page is read)

    @property
    def key(self) -> str:
        """The endpoint's name without this data's ids: stable across data sizes."""
        query = self.path.partition("?")[2]
        names = "&".join(sorted(part.split("=")[0] for part in query.split("&") if part))
        return f"{API_PREFIX}{self.route.template}" + (f"?{names}" if names else "")


def _template(pattern: str) -> str:
    """`^policies/(?P<pk>[^/.]+)/$` or `policies/<int:policy_pk>/` → `policies/{pk}/`."""
    text = pattern.lstrip("^").rstrip("$")
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", text)
    text = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)
    return text.replace("\\", "")


def _reads(callback) -> bool:
    actions = getattr(callback, "actions", None)
    if actions is not None:
        return "get" in actions and actions["get"] not in SKIPPED_ACTIONS
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    return view_class is not None and hasattr(view_class, "get")


def routes() -> list[Route]:
    """Every GET route of the REST API, in URL-pattern order (format-suffix variants left out)."""
    from council.api import urls

    found: list[Route] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + _template(str(pattern.pattern)))
            elif isinstance(pattern, URLPattern):
                if "format" in text or pattern.name in SKIPPED_NAMES or not _reads(pattern.callback):
                    continue
                found.append(Route(pattern.name or text, prefix + _template(str(pattern.pattern))))

    walk(urls.urlpatterns, "")
    return found


class Discovery:
    """Fills routes' arguments for one user through `get(path) -> (status, json)`."""

    # Values for query parameters a list refuses to go without (the dashboards' `policy`).
    QUERY_DEFAULTS = {"group_by": "prefecture"}

    def __init__(self, get: Callable[[str], tuple[int, object]]) -> None:
        self.get = get
        self.cache: dict[str, tuple[int, object]] = {}
        self.skipped: list[tuple[str, str]] = []

    def fetch(self, path: str) -> tuple[int, object]:
        if path not in self.cache:
            self.cache[path] = self.get(path)
        return self.cache[path]

    def query_values(self) -> dict[str, str]:
        """A policy the user sees that has adoption rows and reports (consented), for `?policy=`."""
        values = dict(self.QUERY_DEFAULTS)
        for path in (f"{API_PREFIX}policies/?status=consented", f"{API_PREFIX}policies/"):
            status, data = self.fetch(path)
            if status == 200 and isinstance(data, dict) and data.get("results"):
                values["policy"] = str(data["results"][0]["id"])
                break
        return values

    def _first_values(self, list_path: str, kwarg: str) -> list[str]:
        status, data = self.fetch(list_path)
        if status != 200:
            return []
        rows = data.get("results") if isinstance(data, dict) else data
        if not isinstance(rows, list):
            return []
        field = kwarg if rows and isinstance(rows[0], dict) and kwarg in rows[0] else "id"
        return [str(row[field]) for row in rows[:5] if isinstance(row, dict) and field in row]

    def resolve(self, template: str, filled: str = "") -> str | None:
        """The template with every argument filled so that the path answers 200 (a list
        with rows preferred to an empty one), or None."""
        found = self._resolve(template, filled)
        return found[0] if found else None

    def _resolve(self, template: str, filled: str) -> tuple[str, bool] | None:
        match = KWARG_RE.search(template)
        if match is None:
            path = API_PREFIX + filled + template
            status, data = self.fetch(path)
            if status != 200:
                return None
            empty = isinstance(data, dict) and data.get("count") == 0 or data == []
            return path, not empty
        before, kwarg, after = template[: match.start()], match.group(1), template[match.end():]
        fallback = None
        for value in self._first_values(API_PREFIX + filled + before, kwarg):
            found = self._resolve(after, filled + before + value)
            if found is not None and found[1]:
                return found
            fallback = fallback or found
        return fallback

    def endpoints(self, routes_: list[Route]) -> list[Endpoint]:
        found = []
        for route in routes_:
            if any(k not in ("pk", "number", "sequence") and not k.endswith("_pk") for k in route.kwargs):
                self.skipped.append((route.template, f"argument {route.kwargs} cannot be chosen from a list"))
                continue
            path = self.resolve(route.template)
            if path is None and not route.kwargs:
                path = self._with_query(API_PREFIX + route.template)
            if path is None:
                self.skipped.append((route.template, "no data visible to this user (or it needs parameters)"))
                continue
            status, data = self.fetch(path)
            if "dashboards/" in route.template:
                kind = "dashboard"
            elif isinstance(data, dict) and "results" in data and "count" in data:
                kind = "list"
            else:
                kind = "detail"
            empty = kind == "list" and isinstance(data, dict) and data.get("count") == 0
            found.append(Endpoint(route, kind, path, empty))
        return found

    def _with_query(self, path: str) -> str | None:
        """Retry a list that answered 400 with the query parameters its errors name."""
        status, data = self.fetch(path)
        if status != 400 or not isinstance(data, dict):
            return None
        values = self.query_values()
        params = {name: values[name] for name in data if name in values}
        for name in ("group_by",):
            params.setdefault(name, values[name])
        if not params:
            return None
        candidate = f"{path}?{urlencode(params)}"
        status, data = self.fetch(candidate)
        if status == 400 and isinstance(data, dict):
            params.update({name: values[name] for name in data if name in values})
            candidate = f"{path}?{urlencode(params)}"
            status, _ = self.fetch(candidate)
        return candidate if status == 200 else None


def discover(get: Callable[[str], tuple[int, object]]) -> tuple[list[Endpoint], list[tuple[str, str]]]:
    """The read endpoints answering 200 for the user behind `get`, and those skipped (why)."""
    discovery = Discovery(get)
    return discovery.endpoints(routes()), discovery.skipped
