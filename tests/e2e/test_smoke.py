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
    assert 'yingji_problems_total{code="validation_error"} 1' in text
    assert "yingji_log_position " in text and "yingji_ws_clients 0.0" in text
    # One refused report: counted once under its route template, in every bucket it fits and in +Inf.
    labels = 'method="POST",route="/api/v1/incidents"'
    assert f'yingji_http_request_duration_seconds_count{{{labels}}} 1' in text, text
    assert f'yingji_http_request_duration_seconds_bucket{{{labels},le="+Inf"}} 1' in text
    buckets = [int(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(f"yingji_http_request_duration_seconds_bucket{{{labels}")]
    assert len(buckets) == 11 and buckets == sorted(buckets)
    assert httpx.get(server.base_url + "/api/v1/district").json() == {"code": "411099000000", "name": "东城区"}
