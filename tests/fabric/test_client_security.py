"""Security: where the token goes, plain http only for loopback, no secret in logs/errors/reprs."""

from __future__ import annotations

import logging

import httpx
import pytest
from fabric_fakes import SECRET, V1, Server, Tokens, error, raises

from dataflow_gitops.errors import ConfigError, DataflowGitopsError
from dataflow_gitops.fabric.client import FabricClient
from dataflow_gitops.fabric.http_log import LOGGER


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8765",
        "http://127.5.0.1",
        "http://localhost:1234/",
        "http://[::1]:99",
        "https://api.fabric.microsoft.com",
        "https://example.com/v1",
    ],
)
def test_allowed_base_urls(base_url: str) -> None:
    FabricClient(
        base_url, Tokens(), transport=httpx.MockTransport(lambda r: httpx.Response(200))
    ).close()


@pytest.mark.parametrize(
    "base_url",
    [
        "http://api.fabric.microsoft.com",
        "http://10.0.0.5:8080",
        "http://128.0.0.1",
        "ftp://127.0.0.1",
        "not a url",
    ],
)
def test_plain_http_to_a_non_loopback_host_is_refused(base_url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        FabricClient(base_url, Tokens())
    assert caught.value.hint


def test_base_url_gets_v1_once(server: Server, make_client) -> None:
    server.on("GET", "/v1/workspaces/w", httpx.Response(200, json={}))
    make_client(base_url="https://api.fabric.test/v1/").get_workspace("w")
    assert server.requests[0].url.path == "/v1/workspaces/w"


def test_ids_cannot_add_path_segments(server: Server, client: FabricClient) -> None:
    server.on("GET", "/v1/workspaces/../x", httpx.Response(200, json={}))  # path is decoded
    with pytest.raises(DataflowGitopsError):
        client.get_item("ws", "..")
    client.get_workspace("../x")
    assert server.requests[-1].url.raw_path == b"/v1/workspaces/..%2Fx"


def test_token_goes_only_to_the_api_origin(make_client) -> None:
    """Every request that carried the token went to the API origin; the off-host Location and
    continuationUri were never requested at all."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/getDefinition"):
            return httpx.Response(
                202, headers={"Location": "https://api.fabric.test:8443/v1/operations/o"}
            )
        return httpx.Response(
            200, json={"value": [{"id": "a"}], "continuationUri": "http://api.fabric.test/v1/next"}
        )

    client = make_client(transport=httpx.MockTransport(handler))
    with pytest.raises(DataflowGitopsError):
        client.get_definition("ws", "it")
    with pytest.raises(DataflowGitopsError):
        client.list_items("ws")
    assert seen
    for request in seen:
        assert (request.url.scheme, request.url.host, request.url.port) == (
            "https",
            "api.fabric.test",
            None,
        )


def test_no_secret_in_logs_errors_or_reprs(
    server: Server, make_client, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = Tokens()
    server.on(
        "GET",
        "/v1/workspaces/ws",
        error(401, "TokenExpired"),
        httpx.Response(200, json={"id": "ws"}, headers={"RequestId": "r-1"}),
    )
    server.on("GET", "/v1/workspaces/bad", error(403, "InsufficientPrivileges"))
    server.on("GET", "/v1/workspaces/down", raises(httpx.ConnectError))
    client = make_client(tokens=tokens, max_retries=1)
    texts: list[str] = [repr(client), repr(tokens)]
    with caplog.at_level(logging.DEBUG, logger="dataflow_gitops"):
        client.get_workspace("ws")
        for ws in ("bad", "down"):
            with pytest.raises(DataflowGitopsError) as caught:
                client.get_workspace(ws)
            texts += [str(caught.value), repr(caught.value), repr(vars(caught.value))]
    texts += [r.getMessage() for r in caplog.records]
    assert len(caplog.records) >= 4
    for text in texts:
        assert SECRET not in text
        assert "Bearer" not in text
        assert "Authorization" not in text


def test_request_log_line_shape(
    server: Server, client: FabricClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.on(
        "GET",
        "/v1/workspaces/ws/items",
        httpx.Response(200, json={"value": []}, headers={"x-ms-request-id": "rid-9"}),
    )
    with caplog.at_level(logging.INFO, logger=LOGGER.name):
        client.list_items("ws", "Dataflow")
    [record] = [r for r in caplog.records if r.name == LOGGER.name]
    message = record.getMessage()
    assert message.startswith("GET /v1/workspaces/ws/items?type=Dataflow 200 ")
    assert message.split()[3].endswith("ms")
    assert message.endswith("requestId=rid-9")
    assert record.levelno == logging.INFO


def test_request_log_is_silent_without_verbose(
    server: Server, client: FabricClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.on("GET", "/v1/workspaces/ws", httpx.Response(200, json={}))
    with caplog.at_level(logging.WARNING, logger=LOGGER.name):
        client.get_workspace("ws")
    assert not [r for r in caplog.records if r.name == LOGGER.name]


def test_absolute_url_in_base_is_used(make_client) -> None:
    client = make_client(base_url="https://api.fabric.test")
    assert repr(client) == f"FabricClient({V1!r}, identity={client._identity!r})"


class _TlsServer:
    """A loopback HTTPS server whose certificate no system trust store knows (trustme CA)."""

    def __init__(self) -> None:
        import ssl
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import trustme

        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                body = b'{"id": "ws", "displayName": "W"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.ca = ca = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def test_tls_certificates_are_verified_even_on_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An https API is never talked to without a valid certificate, whatever the host.
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    server = _TlsServer()
    client = FabricClient(server.url, Tokens(), max_retries=0, sleep=lambda s: None)
    try:
        with pytest.raises(DataflowGitopsError) as caught:
            client.get_workspace("ws")
    finally:
        client.close()
        server.close()
    assert server.requests == 0
    assert SECRET not in str(caught.value)
    assert "TLS certificate not trusted" in str(caught.value)


def test_the_tls_test_server_answers_a_client_that_trusts_its_ca() -> None:
    # The control for the test above: only the certificate check made the difference there.
    import ssl

    server = _TlsServer()
    trusted = ssl.create_default_context()
    server.ca.configure_trust(trusted)
    client = FabricClient(server.url, Tokens(), transport=httpx.HTTPTransport(verify=trusted))
    try:
        assert client.get_workspace("ws")["id"] == "ws"
    finally:
        client.close()
        server.close()
    assert server.requests == 1
