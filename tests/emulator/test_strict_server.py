"""`EmulatorServer(strict_auth=True)`: only tokens of the emulator's own authority are accepted
(signature, audience, expiry → 401 with the rejection code); msal's client-credentials flow runs
against `server.authority` and its token opens the API, with the identity in the request log."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import msal
import pytest
import requests
from emulator_samples import DEFAULT_CONFIG

from fabric_emulator import EmulatorServer

SCOPE = "https://api.fabric.microsoft.com/.default"


@pytest.fixture(scope="module")
def strict() -> Iterator[EmulatorServer]:
    with EmulatorServer(
        strict_auth=True, workspaces=[("1a2b3c4d-0000-4000-8000-000000000001", "Dev")]
    ) as s:
        yield s


@pytest.fixture
def plane(strict: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=strict.url) as client:
        client.post("/_emulator/reset").raise_for_status()
        client.post("/_emulator/config", json=DEFAULT_CONFIG).raise_for_status()
        yield client


def call(strict: EmulatorServer, token: str) -> httpx.Response:
    return httpx.get(strict.url + "/v1/workspaces", headers={"Authorization": f"Bearer {token}"})


def test_issued_token_accepted_and_others_refused(strict, plane) -> None:
    token = strict.token_issuer.issue("user-1")
    assert call(strict, token).status_code == 200
    assert plane.get("/_emulator/requests").json()["value"][-1]["identity"] == "user-1"
    refused = call(strict, "not-a-jwt")
    assert refused.status_code == 401
    assert refused.headers["x-ms-public-api-error-code"] == refused.json()["errorCode"]
    wrong_audience = call(strict, strict.token_issuer.issue("user-1", audience="https://other"))
    assert wrong_audience.status_code == 401


def test_expired_token_is_token_expired(strict, plane) -> None:
    token = strict.token_issuer.issue("user-1", lifetime_s=60)
    assert call(strict, token).status_code == 200
    plane.post("/_emulator/clock", json={"advanceSeconds": 3600})
    expired = call(strict, token)
    assert expired.status_code == 401
    assert expired.json()["errorCode"] == "TokenExpired"


def test_msal_client_credentials_token_opens_the_api(strict, plane) -> None:
    strict.authority.register_client("ci-app", secret="s3cret-value")
    with requests.Session() as http:
        http.trust_env = False
        http.verify = strict.authority.ca_file
        app = msal.ConfidentialClientApplication(
            "ci-app",
            client_credential="s3cret-value",
            authority=strict.authority.authority_url,
            instance_discovery=False,
            http_client=http,
        )
        result = app.acquire_token_for_client(scopes=[SCOPE])
    assert "access_token" in result, result.get("error_description")
    response = call(strict, result["access_token"])
    assert response.status_code == 200
    log = plane.get("/_emulator/requests").json()["value"]
    assert log[-1]["identity"]
    assert "s3cret-value" not in str(log)
    assert result["access_token"] not in str(log)
