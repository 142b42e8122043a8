"""The simplest end-to-end check: the demo district serves and answers on both backends."""

from tests.conftest import Server


def test_demo_board_is_served(server: Server) -> None:
    api = server.client("commander")
    board = api.get("/board").json()
    assert board["position"] > 0
    assert len(board["unit"]) == 49
    assert len(board["team"]) == 12
    assert len(board["warehouse"]) == 6
