"""A client for an NGSI-LD context broker's HTTP API (ETSI GS CIM 009), page by page.

Entities and their temporal evolution, so a city running a broker can feed the twin.

Only reads (GET). Every answer is checked: a broker's error (ProblemDetails) or a malformed
page raises `BrokerError` naming the request; a broker that pages forever is stopped.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import requests

from data.errors import BrokerError

API = "/ngsi-ld/v1"
JSONLD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
MAX_PAGE = 1000  # brokers refuse larger pages (Orion-LD: 400 above 1000)
MAX_PAGES = 10_000  # a broker that never ends its pages is stopped here
CONTENT_RANGE = re.compile(r"^date-time\s+(\S+?)-(\d{4}-\S+)/(\S+)$")


@dataclass(frozen=True)
class Broker:
    """An NGSI-LD broker at ``url`` (``http://host:1026``).

    ``context``: the JSON-LD @context to send in a Link header (the Smart Data Models' own,
    by default none); ``tenant``: the NGSILD-Tenant; ``page_size``: entities per request.
    """

    url: str
    context: str | None = None
    tenant: str | None = None
    page_size: int = 100
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if not re.match(r"^https?://[^\s/]+", self.url):
            raise BrokerError(f"broker url {self.url[:80]!r} must be http(s)://host[:port]")
        if not 1 <= self.page_size <= MAX_PAGE:
            raise BrokerError(f"page_size must be 1 to {MAX_PAGE}, not {self.page_size}")

    def entities(
        self, entity_type: str, *, q: str | None = None, key_values: bool = False
    ) -> Iterator[dict]:
        """Every entity of ``entity_type`` (matching the NGSI-LD query ``q``), page by page."""
        params = {"type": entity_type, "limit": self.page_size, "count": "true"}
        if q:
            params["q"] = q
        if key_values:
            params["options"] = "keyValues"
        seen: set[str] = set()
        total = None
        for page in range(MAX_PAGES):
            params["offset"] = page * self.page_size
            response = self._get("/entities", params)
            if total is None:
                total = _count(response)
            batch = _json_list(response)
            for entity in batch:
                entity_id = entity.get("id") if isinstance(entity, dict) else None
                if not isinstance(entity_id, str):
                    raise BrokerError(
                        f"{response.url}: an entity without an id: {str(entity)[:80]}"
                    )
                if entity_id in seen:
                    raise BrokerError(f"{response.url}: entity {entity_id} came twice; the broker "
                                      "does not page with offset")  # fmt: skip
                seen.add(entity_id)
                yield entity
            if len(batch) < self.page_size or (total is not None and len(seen) >= total):
                return
        raise BrokerError(f"more than {MAX_PAGES} pages of {entity_type}; stopped")

    def temporal(
        self,
        entity_type: str,
        attrs: list[str],
        start: dt.datetime,
        end: dt.datetime,
    ) -> pd.DataFrame:
        """The values of ``attrs`` of every ``entity_type`` entity observed in [start, end).

        Follows both pagings: entities by offset, and instances by the 206 answer's
        Content-Range (the next request starts where the answer's range ended). Returns a long
        table: entity_id, attribute, observed_at (UTC), value (float).
        """
        if start.tzinfo is None or end.tzinfo is None or not start < end:
            raise BrokerError("temporal: start and end must be UTC times with start < end")
        rows: dict[tuple, float] = {}
        for page in range(MAX_PAGES):
            offset = page * self.page_size
            time_at, entities_seen = start, 0
            for _ in range(MAX_PAGES):
                params = {
                    "type": entity_type,
                    "attrs": ",".join(attrs),
                    "timerel": "between",
                    "timeAt": _iso(time_at),
                    "endTimeAt": _iso(end),
                    "limit": self.page_size,
                    "offset": offset,
                }
                response = self._get("/temporal/entities", params)
                batch = _json_list(response)
                entities_seen = max(entities_seen, len(batch))
                for entity in batch:
                    rows.update(_instances(entity, attrs, response.url))
                if response.status_code != 206:
                    break
                ended = _range_end(response)  # the rest of the instances, from there on
                if ended <= time_at:
                    raise BrokerError(f"{response.url}: a partial answer that ends where it "
                                      "began; the broker makes no progress")  # fmt: skip
                time_at = ended
            else:
                raise BrokerError(f"more than {MAX_PAGES} partial answers; stopped")
            if entities_seen < self.page_size:
                break
        table = pd.DataFrame(
            [(e, a, t, v) for (e, a, t), v in rows.items()],
            columns=["entity_id", "attribute", "observed_at", "value"],
        )
        table["observed_at"] = pd.to_datetime(table["observed_at"], utc=True)
        return table.sort_values(["entity_id", "attribute", "observed_at"], ignore_index=True)

    def _get(self, path: str, params: dict) -> requests.Response:
        headers = {"Accept": "application/json"}
        if self.context:
            headers["Link"] = (f'<{self.context}>; rel="{JSONLD_CONTEXT_REL}"; '
                               'type="application/ld+json"')  # fmt: skip
        if self.tenant:
            headers["NGSILD-Tenant"] = self.tenant
        url = self.url.rstrip("/") + API + path
        try:
            response = requests.get(url, params=params, headers=headers, timeout=self.timeout_s)
        except requests.RequestException as err:
            raise BrokerError(f"{url}: the broker did not answer ({type(err).__name__})") from None
        if response.status_code >= 400:
            raise BrokerError(f"{response.url}: HTTP {response.status_code}: {_problem(response)}")
        return response


def _count(response: requests.Response) -> int | None:
    text = response.headers.get("NGSILD-Results-Count")
    if text is None:
        return None
    if not text.isdigit():
        raise BrokerError(f"{response.url}: NGSILD-Results-Count {text[:20]!r} is not a count")
    return int(text)


def _json_list(response: requests.Response) -> list:
    try:
        body = response.json()
    except ValueError:
        raise BrokerError(f"{response.url}: the answer is not JSON") from None
    if not isinstance(body, list):
        raise BrokerError(f"{response.url}: expected a list of entities, got {type(body).__name__}")
    return body


def _problem(response: requests.Response) -> str:
    """The ProblemDetails of an error answer (title, detail), or the start of its text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason
    if not isinstance(body, dict):
        return str(body)[:200]
    kind = str(body.get("type", "")).rsplit("/", 1)[-1]
    detail = body.get("detail") or body.get("details") or ""
    return " — ".join(str(p)[:300] for p in (kind, body.get("title"), detail) if p)


def _instances(entity, attrs: list[str], url: str) -> dict[tuple, float]:
    """(entity id, attribute, observedAt) -> value of a temporal entity's instances."""
    if not isinstance(entity, dict) or not isinstance(entity.get("id"), str):
        raise BrokerError(f"{url}: a temporal entity without an id")
    found = {}
    for attr in attrs:
        instances = entity.get(attr, [])
        if isinstance(instances, dict):  # one instance may come as an object
            instances = [instances]
        if not isinstance(instances, list):
            raise BrokerError(f"{url}: {entity['id']}: {attr} is not a list of instances")
        for k, instance in enumerate(instances):
            where = f"{url}: {entity['id']}: {attr}[{k}]"
            if not isinstance(instance, dict):
                raise BrokerError(f"{where}: not an attribute instance")
            value, observed = instance.get("value"), instance.get("observedAt")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BrokerError(f"{where}: value {str(value)[:30]!r} is not a number")
            if not math.isfinite(value):
                raise BrokerError(f"{where}: value {value} is not finite")
            try:
                moment = pd.Timestamp(observed)
            except (ValueError, TypeError):
                raise BrokerError(
                    f"{where}: observedAt {str(observed)[:40]!r} is not a time"
                ) from None
            if moment.tzinfo is None:
                raise BrokerError(f"{where}: observedAt {observed!r} has no time zone")
            found[(entity["id"], attr, moment.tz_convert("UTC").isoformat())] = float(value)
    return found


def _range_end(response: requests.Response) -> dt.datetime:
    """Where a 206 answer's instances end (its Content-Range), to ask for the rest."""
    header = response.headers.get("Content-Range", "")
    match = CONTENT_RANGE.match(header.strip())
    if not match:
        raise BrokerError(f"{response.url}: a partial answer (206) without a date-time "
                          f"Content-Range (got {header[:60]!r})")  # fmt: skip
    try:
        moment = dt.datetime.fromisoformat(match[2].replace("Z", "+00:00"))
    except ValueError:
        raise BrokerError(f"{response.url}: Content-Range end {match[2]!r} is not a time") from None
    if moment.tzinfo is None:
        raise BrokerError(f"{response.url}: Content-Range end {match[2]!r} has no time zone")
    return moment


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
