"""`headrace ui`'s security, against the real server process: read-only, traversal in every encoding,
symlinks that leave the root, script payloads in names and properties, headers, and the access token
on a non-loopback bind. Plain HTTP (http.client sends paths exactly as written)."""

from __future__ import annotations

import http.client
import json
import re

import pytest
from conftest import PAYLOAD, UIServer, UIStore


def get(server: UIServer, path: str, method: str = "GET", headers: dict[str, str] | None = None):
    """(status, headers, body) of one request sent with `path` exactly as given."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(method, path, headers={"Host": f"127.0.0.1:{server.port}", **(headers or {})})
        response = conn.getresponse()
        return (
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read().decode(errors="replace"),
        )
    finally:
        conn.close()


def examples_artifact(server: UIServer, ui_store: UIStore) -> int:
    """The id of the failed run's Examples artifact (its folder holds data.csv, evil.html, a symlink)."""
    status, _h, body = get(server, f"/runs/{ui_store.failed_run}")
    assert status == 200, body
    execution = re.search(r'href="/executions/(\d+)">Make<', body)
    assert execution, body
    _s, _h, body = get(server, f"/executions/{execution.group(1)}")
    return int(re.search(r'href="/artifacts/(\d+)">#\d+</a></td><td>Examples', body).group(1))


def test_files_inside_the_artifact_folder_are_served_sandboxed(ui_server, ui_store):
    artifact = examples_artifact(ui_server, ui_store)
    status, headers, body = get(ui_server, f"/artifacts/{artifact}/files/data.csv")
    assert status == 200 and body == "x,y\n1,2\n"
    assert headers["content-type"].startswith("text/plain")
    assert headers["content-security-policy"].startswith("sandbox")
    assert headers["x-content-type-options"] == "nosniff"
    # HTML headrace did not write is a download, never a page of the UI's origin.
    status, headers, body = get(ui_server, f"/artifacts/{artifact}/files/evil.html")
    assert status == 200 and "<script>" in body
    assert headers["content-type"] == "application/octet-stream"
    assert headers["content-disposition"].startswith("attachment")
    assert headers["content-security-policy"].startswith("sandbox")
    # The component's report is a page, but a sandboxed one.
    status, headers, body = get(ui_server, f"/artifacts/{artifact}/report")
    assert status == 200 and "Examples report" in body
    assert headers["content-security-policy"].startswith("sandbox;")


@pytest.mark.parametrize(
    "path",
    [
        "../../metadata.sqlite",
        "..%2f..%2fmetadata.sqlite",
        "%2e%2e/%2e%2e/metadata.sqlite",
        "%2E%2E%2F%2E%2E%2Fmetadata.sqlite",
        "%252e%252e%252f%252e%252e%252fmetadata.sqlite",
        "..%252f..%252fmetadata.sqlite",
        "/etc/passwd",
        "%2fetc%2fpasswd",
        "//etc/passwd",
        "....//....//metadata.sqlite",
        "..\\..\\metadata.sqlite",
        "passwd",  # a symlink in the artifact's folder to /etc/passwd
        "data.csv%00.png",
    ],
)
def test_no_path_leaves_the_artifact_folder(ui_server, ui_store, path):
    artifact = examples_artifact(ui_server, ui_store)
    status, _headers, body = get(ui_server, f"/artifacts/{artifact}/files/{path}")
    assert status == 404, body[:500]
    assert "root:" not in body and "SQLite format" not in body


def test_no_artifact_reaches_outside_its_folder(ui_server):
    for artifact in range(1, 12):
        status, _h, body = get(ui_server, f"/artifacts/{artifact}/files/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd")
        assert status == 404 and "root:" not in body


def test_read_only_and_loopback_only(ui_server):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, _body = get(ui_server, "/runs", method=method)
        assert status == 405 and headers["allow"] == "GET, HEAD"
    # DNS rebinding: a page elsewhere that resolves its own name to 127.0.0.1 is refused.
    status, _h, body = get(ui_server, "/runs", headers={"Host": f"attacker.example:{ui_server.port}"})
    assert status == 403 and "only on localhost" in body
    assert get(ui_server, "/runs", headers={"Host": f"localhost:{ui_server.port}"})[0] == 200


def test_pages_escape_every_name_and_property(ui_server, ui_store):
    status, headers, body = get(ui_server, f"/runs/{ui_store.failed_run}")
    assert status == 200
    assert "script-src 'self'" in headers["content-security-policy"]
    assert PAYLOAD not in body and "&lt;img src=x onerror=alert(1)&gt;" in body  # error and log tail
    status, _h, body = get(ui_server, "/runs")
    assert status == 200 and PAYLOAD not in body and "&lt;img src=x onerror=alert(1)&gt;pipeline" in body
    from urllib.parse import quote

    status, _h, body = get(ui_server, "/runs/" + quote(ui_store.payload_run, safe=""))
    assert status == 200, body[:2000]
    assert PAYLOAD not in body and body.count("&lt;img src=x onerror=alert(1)&gt;") >= 3  # graph, table, name
    status, headers, body = get(ui_server, "/api/status/" + quote(ui_store.payload_run, safe=""))
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body)["nodes"][0]["id"] == f"{PAYLOAD}Make"


def test_a_non_loopback_bind_needs_the_token(ui_store):
    server = UIServer(ui_store.db, "--host", "0.0.0.0")
    try:
        token = re.search(r"\?token=(\S+)", server.url).group(1)
        assert len(token) >= 24
        status, _h, body = get(server, "/runs")
        assert status == 401 and "access token" in body and ui_store.complete_run not in body
        assert get(server, "/runs?token=wrong")[0] == 401
        assert get(server, "/static/ui.css")[0] == 401
        assert get(server, "/runs", headers={"Cookie": f"headrace_ui_{server.port}=wrong"})[0] == 401
        # A first visit with the token: a cookie, and the address without it.
        status, headers, _body = get(server, f"/runs?state=COMPLETE&token={token}")
        assert status == 303 and headers["location"] == "/runs?state=COMPLETE"
        status, headers, _body = get(server, f"//evil.example/x?token={token}")
        assert status == 303 and headers["location"] == "/evil.example/x"  # never a redirect off this server
        cookie = headers["set-cookie"].split(";")[0]
        assert "HttpOnly" in headers["set-cookie"] and "SameSite=Strict" in headers["set-cookie"]
        status, _h, body = get(server, "/runs", headers={"Cookie": cookie})
        assert status == 200 and ui_store.complete_run in body
        assert get(server, "/runs", headers={"Authorization": f"Bearer {token}"})[0] == 200
    finally:
        server.stop()


def test_a_given_token_is_required_on_loopback_too(ui_store):
    server = UIServer(ui_store.db, env={"HEADRACE_UI_TOKEN": "s3cret-token-for-this-test"})
    try:
        assert server.url.endswith("?token=s3cret-token-for-this-test")
        assert get(server, "/runs")[0] == 401
        assert get(server, "/runs", headers={"Authorization": "Bearer s3cret-token-for-this-test"})[0] == 200
    finally:
        server.stop()


@pytest.mark.parametrize(
    "path, status, says",
    [
        ("/runs?state=BOGUS", 400, "Unknown run state"),
        ("/runs?before=1;DROP", 400, "whole number"),
        ("/runs/no-such-run", 404, "No run"),
        ("/executions/999999", 404, "No execution with id 999999"),
        ("/artifacts/999999", 404, "No artifact with id 999999"),
        ("/lineage/1?depth=0", 400, "must be a whole number from 1 to 10"),
        ("/compare?run=only-one", 400, "Compare takes 2 to"),
        ("/compare?run=a&run=no-such-run", 404, "No run"),
        ("/metrics?pipeline=ui-test&limit=x", 400, "must be a whole number from 1 to 200"),
        ("/metrics?pipeline=nope", 404, "No pipeline"),
        ("/nowhere", 404, "start from the runs page"),
    ],
)
def test_a_bad_address_is_a_page_that_says_what_is_wrong(ui_server, path, status, says):
    got, headers, body = get(ui_server, path)
    assert got == status and says in body, body[:3000]
    assert headers["content-type"].startswith("text/html") and "Traceback" not in body


def test_a_store_that_cannot_be_read_is_a_503_page_and_the_server_stays_up(ui_store, tmp_path):
    import sqlite3

    db = tmp_path / "copy.sqlite"
    with sqlite3.connect(ui_store.db) as source, sqlite3.connect(db) as copy:
        source.backup(copy)
    server = UIServer(db)
    try:
        assert get(server, "/runs")[0] == 200
        db.write_bytes(b"this is no longer a SQLite database\n" * 4096)  # the same file, overwritten
        status, headers, body = get(server, "/runs")
        assert status == 503 and "The ML Metadata store cannot be read now" in body, body[:3000]
        assert headers["content-type"].startswith("text/html") and "Traceback" not in body
        assert get(server, f"/runs/{ui_store.complete_run}")[0] == 503
        assert server.proc.poll() is None, server.stderr()
    finally:
        server.stop()
