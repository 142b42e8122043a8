"""The simplest end-to-end check: the demo district serves and answers on both backends."""

from tests.conftest import Server


def test_demo_board_is_served(server: Server) -> None:
    api = server.client("commander")
    board = api.get("/board").json()
    assert board["position"] > 0
    assert len(board["unit"]) == 49
    assert len(board["team"]) == 12
    assert len(board["warehouse"]) == 6


def test_health_readiness_and_metrics(server: Server) -> None:
    import httpx

    assert httpx.get(server.base_url + "/readyz").json() == {"status": "ready"}
    server.client("commander").post("/incidents", {"bad": 1})
    text = httpx.get(server.base_url + "/metrics").text
    from prometheus_client.parser import text_string_to_metric_families

    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in text_string_to_metric_families(text) for s in f.samples}
    assert samples[("yingji_problems_total", (("code", "validation_error"),))] == 1
    assert ("yingji_log_position", ()) in samples and samples[("yingji_ws_clients", ())] == 0
    # One refused report: counted once under its route template, in every bucket it fits and in +Inf.
    labels = (("method", "POST"), ("route", "/api/v1/incidents"))
    assert samples[("yingji_http_request_duration_seconds_count", labels)] == 1, text
    buckets = [(dict(k[1])["le"], v) for k, v in samples.items()
               if k[0] == "yingji_http_request_duration_seconds_bucket" and dict(k[1]).items() >= dict(labels).items()]
    assert len(buckets) == 11 and dict(buckets)["+Inf"] == 1
    counts = [v for _, v in sorted(buckets, key=lambda b: float(b[0]))]
    assert counts == sorted(counts)
    assert httpx.get(server.base_url + "/api/v1/district").json() == {"code": "411099000000", "name": "东城区"}
