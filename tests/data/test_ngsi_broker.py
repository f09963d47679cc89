"""The NGSI-LD broker client against a local HTTP server that plays the broker.

`BrokerDouble` is a test double: it implements only the part of the NGSI-LD API the client
uses (entity query with limit/offset/count, temporal query with timerel=between and partial
answers), with the broker's error format. The client's parsing and paging are the real thing.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from data.interop.broker import Broker, BrokerError
from data.interop.ngsi_ld import plain, read_streetlights, streetlight_entities

START = dt.datetime(2026, 11, 23, 6, tzinfo=dt.UTC)
SERIES_STEP = dt.timedelta(minutes=15)
END = START + dt.timedelta(hours=6)


class BrokerDouble(BaseHTTPRequestHandler):
    """Answers GET /ngsi-ld/v1/entities and /ngsi-ld/v1/temporal/entities from class data."""

    entities: list[dict] = []
    series: dict[str, dict[str, list[tuple[dt.datetime, float]]]] = {}
    max_instances = 5  # per attribute and answer: more makes a 206 partial answer
    quirk: str | None = None  # a misbehaviour to play
    seen: list[tuple[str, dict, dict]] = []

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        type(self).seen.append((url.path, query, dict(self.headers)))
        if self.quirk == "garbage":
            return self._send(200, b"<html>not json", "text/html")
        if url.path == "/ngsi-ld/v1/entities":
            return self._entities(query)
        if url.path == "/ngsi-ld/v1/temporal/entities":
            return self._temporal(query)
        return self._problem(404, "ResourceNotFound", "Not found", f"no such path {url.path}")

    def _entities(self, query: dict) -> None:
        limit, offset = int(query.get("limit", 20)), int(query.get("offset", 0))
        if limit > 1000:
            return self._problem(400, "BadRequestData", "Bad limit", "limit must be at most 1000")
        if self.quirk == "no offset":
            offset = 0
        matching = [e for e in self.entities if e["type"] == query.get("type")]
        page = matching[offset : offset + limit]
        if query.get("options") == "keyValues":
            page = [{k: v if k in ("id", "type") else plain(e, k) for k, v in e.items()}
                    for e in page]  # fmt: skip
        headers = {"NGSILD-Results-Count": str(len(matching))} if query.get("count") else {}
        self._send(200, json.dumps(page).encode(), "application/json", headers)

    def _temporal(self, query: dict) -> None:
        for needed in ("timerel", "timeAt", "endTimeAt"):
            if needed not in query:
                return self._problem(400, "BadRequestData", "Missing parameter", needed)
        start = dt.datetime.fromisoformat(query["timeAt"].replace("Z", "+00:00"))
        end = dt.datetime.fromisoformat(query["endTimeAt"].replace("Z", "+00:00"))
        attrs = query["attrs"].split(",")
        limit, offset = int(query.get("limit", 20)), int(query.get("offset", 0))
        ids = sorted(self.series)[offset : offset + limit]
        answer, partial, last = [], False, start
        for entity_id in ids:
            entity = {"id": entity_id, "type": query["type"]}
            for attr in attrs:
                points = [
                    (t, v) for t, v in self.series[entity_id].get(attr, []) if start <= t < end
                ]
                if len(points) > self.max_instances:
                    partial, points = True, points[: self.max_instances]
                if points:
                    last = max(last, points[-1][0])
                value = "lots" if self.quirk == "text values" else None
                entity[attr] = [{"type": "Property", "value": value or v,
                                 "observedAt": t.isoformat().replace("+00:00", "Z")}
                                for t, v in points]  # fmt: skip
            answer.append(entity)
        headers = {}
        if partial and self.quirk != "no range":
            headers["Content-Range"] = f"date-time {query['timeAt']}-{last.isoformat()}/*"
        self._send(
            206 if partial else 200, json.dumps(answer).encode(), "application/json", headers
        )

    def _problem(self, status: int, kind: str, title: str, detail: str) -> None:
        body = {"type": f"https://uri.etsi.org/ngsi-ld/errors/{kind}", "title": title,
                "detail": detail}  # fmt: skip
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, body: bytes, mimetype: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", mimetype)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def broker_url():
    """A fresh broker double on a free local port; its class data reset."""
    BrokerDouble.entities, BrokerDouble.series, BrokerDouble.quirk = [], {}, None
    BrokerDouble.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), BrokerDouble)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_entities_come_page_by_page_and_feed_the_twin(broker_url, city):
    lamps = city.lamps.iloc[:250]
    BrokerDouble.entities = streetlight_entities(lamps)
    context = "https://smart-data-models.github.io/dataModel.Streetlighting/context.jsonld"
    broker = Broker(broker_url, context=context, tenant="casablanca", page_size=100)
    entities = list(broker.entities("Streetlight"))
    assert [e["id"] for e in entities] == [e["id"] for e in BrokerDouble.entities]
    offsets = [int(q["offset"]) for path, q, _ in BrokerDouble.seen]
    assert offsets == [0, 100, 200]  # stops after the short last page
    _, query, headers = BrokerDouble.seen[0]
    assert query["limit"] == "100" and query["count"] == "true" and query["type"] == "Streetlight"
    assert headers["NGSILD-Tenant"] == "casablanca" and f"<{context}>" in headers["Link"]

    lights = read_streetlights(entities, broker_url, tuple(city.lamps.total_bounds))
    assert lights["lamp_id"].tolist() == lamps["lamp_id"].tolist()
    simple = list(broker.entities("Streetlight", key_values=True))
    assert simple[0]["status"] == "ok" and BrokerDouble.seen[-1][1]["options"] == "keyValues"
    assert list(Broker(broker_url, page_size=100).entities("Building")) == []


def test_a_count_that_ends_on_a_full_page_takes_no_extra_request(broker_url, city):
    BrokerDouble.entities = streetlight_entities(city.lamps.iloc[:200])
    assert len(list(Broker(broker_url, page_size=100).entities("Streetlight"))) == 200
    assert len(BrokerDouble.seen) == 2  # NGSILD-Results-Count said 200


def series(count: int, first: float) -> list[tuple[dt.datetime, float]]:
    return [(START + k * SERIES_STEP, first + k) for k in range(count)]


def test_temporal_values_follow_partial_answers_and_entity_pages(broker_url):
    BrokerDouble.series = {
        f"urn:ngsi-ld:TrafficFlowObserved:CAS-S{k:03d}": {
            "intensity": series(24, 100 * k),
            "averageVehicleSpeed": series(24, 40.0),
        }
        for k in range(3)
    }
    broker = Broker(broker_url, page_size=2)
    table = broker.temporal("TrafficFlowObserved", ["intensity", "averageVehicleSpeed"],
                            START, START + dt.timedelta(hours=6))  # fmt: skip
    assert len(table) == 3 * 2 * 24
    one = table[(table.entity_id.str.endswith("S002")) & (table.attribute == "intensity")]
    assert one["value"].tolist() == [200.0 + k for k in range(24)]
    assert one["observed_at"].iloc[0] == pd.Timestamp("2026-11-23T06:00Z")
    assert one["observed_at"].is_monotonic_increasing and one["observed_at"].is_unique
    asked = [q for path, q, _ in BrokerDouble.seen]
    assert {q["timerel"] for q in asked} == {"between"}
    assert {q["offset"] for q in asked} == {"0", "2"}  # two entity pages
    assert len(asked) > 2  # partial answers were followed
    # within the window only: the last two hours
    hours = dt.timedelta(hours=1)
    late = broker.temporal("TrafficFlowObserved", ["intensity"], START + 4 * hours, END)
    assert len(late) == 3 * 8 and late["observed_at"].min() == pd.Timestamp("2026-11-23T10:00Z")


@pytest.mark.parametrize(
    ("quirk", "call", "named"),
    [
        ("garbage", "entities", "the answer is not JSON"),
        ("no offset", "entities", "came twice; the broker does not page with offset"),
        ("no range", "temporal", "a partial answer (206) without a date-time Content-Range"),
        ("text values", "temporal", "value 'lots' is not a number"),
        (None, "unknown path", "HTTP 404: ResourceNotFound — Not found — no such path"),
    ],
)
def test_a_misbehaving_broker_is_named(broker_url, city, quirk, call, named):
    BrokerDouble.entities = streetlight_entities(city.lamps.iloc[:30])
    BrokerDouble.series = {"urn:ngsi-ld:TrafficFlowObserved:S1": {"intensity": series(12, 1)}}
    BrokerDouble.quirk = quirk
    broker = Broker(broker_url, page_size=10)
    with pytest.raises(BrokerError, match=named.replace("(", r"\(").replace(")", r"\)")) as err:
        if call == "entities":
            list(broker.entities("Streetlight"))
        elif call == "temporal":
            broker.temporal("TrafficFlowObserved", ["intensity"], START, START + SERIES_STEP * 12)
        else:
            broker._get("/subscriptions", {})
    assert broker_url in str(err.value)


def test_bad_settings_and_a_silent_broker_are_named(broker_url):
    with pytest.raises(BrokerError, match="must be http"):
        Broker("file:///etc/passwd")
    with pytest.raises(BrokerError, match="page_size must be 1 to 1000"):
        Broker(broker_url, page_size=5000)
    with pytest.raises(BrokerError, match="start and end must be UTC times"):
        Broker(broker_url).temporal("T", ["a"], START.replace(tzinfo=None), START)
    with pytest.raises(BrokerError, match="the broker did not answer"):
        list(Broker("http://127.0.0.1:9", timeout_s=2).entities("Streetlight"))
