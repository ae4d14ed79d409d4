"""Request ids: a proxy's id is kept only when it is a plain token; route labels are templates, never raw paths."""

from __future__ import annotations

import structlog
from starlette.routing import Mount, Route

from bot.core.request_ids import request_scope, sane_request_id
from bot.web.observe import UNMATCHED, route_label


def test_a_sane_incoming_id_is_kept_and_anything_else_replaced() -> None:
    assert sane_request_id("edge-7f3a.42:1") == "edge-7f3a.42:1"
    for bad in (None, "", "a" * 65, 'x" level="critical', "Nguyễn", "-leading", "a b", "x\nforged=1"):
        replaced = sane_request_id(bad)
        assert replaced != bad and len(replaced) == 16 and replaced.isalnum()
    assert sane_request_id(None) != sane_request_id(None)


def test_a_scope_binds_and_restores() -> None:
    with request_scope("outer"):
        with request_scope() as inner:
            assert structlog.contextvars.get_contextvars()["request_id"] == inner != "outer"
        assert structlog.contextvars.get_contextvars()["request_id"] == "outer"
    assert "request_id" not in structlog.contextvars.get_contextvars()


def _endpoint() -> None:
    pass


def test_route_labels_are_templates() -> None:
    person = Route("/people/{participant_id:int}", _endpoint)
    assert route_label({"route": person, "root_path": "/console", "path_params": {"participant_id": 7}}, "") == (
        "/console/people/{participant_id}"
    )
    assert route_label({"route": person, "root_path": "/base/console", "path_params": {}}, "/base") == (
        "/console/people/{participant_id}"
    )
    static = Mount("/static", app=_endpoint)
    assert route_label({"route": static, "root_path": "/console/static", "path_params": {}}, "") == (
        "/console/static/{path}"
    )
    assert route_label({"path_params": {}}, "") == UNMATCHED
    # A parameter the route does not declare came from a mount: its raw value is in the prefix, so no label.
    leaky = {"route": Route("/card", _endpoint), "root_path": "/units/HD-0042", "path_params": {"unit": "HD-0042"}}
    assert route_label(leaky, "") == UNMATCHED
