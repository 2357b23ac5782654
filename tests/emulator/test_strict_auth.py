"""Strict auth: the emulator's TokenIssuer and its OAuth authority, driven by the real msal."""

from __future__ import annotations

import html
import re
import threading
import time
import webbrowser
from collections.abc import Iterator

import msal
import msal.oauth2cli.authcode
import pytest
import requests
from certificates import self_signed
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fabric_emulator.authority import FEDERATED_AUDIENCE, AuthorityServer
from fabric_emulator.tokens import (
    TokenIssuer,
    TokenRejected,
    b64url_decode,
    b64url_encode,
    encode_jwt,
)

SCOPE = "https://api.fabric.microsoft.com/.default"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
GITHUB_SUBJECT = "repo:contoso/dataflows:ref:refs/heads/main"


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_certificate(common_name: str = "dfg-test") -> tuple[bytes, bytes]:
    """(private key PEM, certificate PEM) of a fresh self-signed RSA certificate."""
    key, cert = self_signed(common_name, valid_days=30)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


# -- TokenIssuer ---------------------------------------------------------------------------------


def test_issued_token_verifies_to_its_identity() -> None:
    issuer = TokenIssuer()
    assert issuer.verify(issuer.issue("user-1")) == "user-1"
    # App tokens name the application, as Entra's `appid` claim does.
    assert issuer.verify(issuer.issue("sp-object-id", claims={"appid": "app-7"})) == "app-7"


def test_token_expires_by_the_injected_clock() -> None:
    clock = FakeClock()
    issuer = TokenIssuer(clock=clock)
    token = issuer.issue("app", lifetime_s=60)
    clock.now += 59
    assert issuer.verify(token) == "app"
    clock.now += 2
    with pytest.raises(TokenRejected) as caught:
        issuer.verify(token)
    assert caught.value.error_code == "TokenExpired"


def test_wrong_audience_is_unauthorized() -> None:
    issuer = TokenIssuer()
    token = issuer.issue("app", audience="https://analysis.windows.net/powerbi/api")
    with pytest.raises(TokenRejected) as caught:
        issuer.verify(token)
    assert caught.value.error_code == "Unauthorized"
    assert "powerbi" in caught.value.message


def test_token_signed_by_another_key_is_invalid() -> None:
    stranger = TokenIssuer()  # same issuer name and audience, different key
    with pytest.raises(TokenRejected) as caught:
        TokenIssuer().verify(stranger.issue("app"))
    assert caught.value.error_code == "InvalidToken"


def test_tampered_payload_is_invalid() -> None:
    issuer = TokenIssuer()
    header, payload, signature = issuer.issue("app").split(".")
    claims = b64url_decode(payload).replace(b'"sub":"app"', b'"sub":"admin"')
    assert b"admin" in claims
    with pytest.raises(TokenRejected) as caught:
        issuer.verify(f"{header}.{b64url_encode(claims)}.{signature}")
    assert caught.value.error_code == "InvalidToken"


@pytest.mark.parametrize("garbage", ["", "not-a-token", "a.b.c", "e30.e30.", "x" * 5000 + ".y.z"])
def test_garbage_is_invalid(garbage: str) -> None:
    with pytest.raises(TokenRejected) as caught:
        TokenIssuer().verify(garbage)
    assert caught.value.error_code == "InvalidToken"


def test_token_of_another_issuer_is_invalid_even_with_the_same_key_shape() -> None:
    issuer = TokenIssuer()
    forged = issuer.issue("app", claims={"iss": "https://evil.example"})
    with pytest.raises(TokenRejected) as caught:
        issuer.verify(forged)
    assert caught.value.error_code == "InvalidToken"


# -- AuthorityServer with msal --------------------------------------------------------------------


@pytest.fixture
def http(authority: AuthorityServer) -> Iterator[requests.Session]:
    session = requests.Session()
    session.verify = authority.ca_file
    session.trust_env = False
    yield session
    session.close()


def confidential(
    authority: AuthorityServer, http: requests.Session, client_id: str, credential: object
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=credential,
        authority=authority.authority_url,
        instance_discovery=False,
        http_client=http,
    )


def test_authority_serves_https_with_its_own_ca(authority: AuthorityServer) -> None:
    assert authority.authority_url.startswith("https://127.0.0.1:")
    with requests.Session() as untrusting:
        untrusting.trust_env = False
        url = f"{authority.authority_url}/v2.0/.well-known/openid-configuration"
        with pytest.raises(requests.exceptions.SSLError):
            untrusting.get(url)


def test_discovery_document(authority: AuthorityServer, http: requests.Session) -> None:
    doc = http.get(f"{authority.authority_url}/v2.0/.well-known/openid-configuration").json()
    assert doc["token_endpoint"] == f"{authority.authority_url}/oauth2/v2.0/token"
    assert doc["issuer"] == f"{authority.authority_url}/v2.0"
    keys = http.get(doc["jwks_uri"]).json()["keys"]
    assert keys[0]["kty"] == "RSA"
    missing = http.get(
        authority.authority_url.rsplit("/", 1)[0] + "/other-tenant/v2.0/.well-known/openid-configuration"
    )
    assert missing.status_code == 400
    assert missing.json()["error_codes"] == [90002]


def test_client_secret_flow(
    authority: AuthorityServer, http: requests.Session, issuer: TokenIssuer
) -> None:
    authority.register_client("app-secret", secret="s3cr3t-value")
    result = confidential(authority, http, "app-secret", "s3cr3t-value").acquire_token_for_client(
        scopes=[SCOPE]
    )
    assert issuer.verify(result["access_token"]) == "app-secret"
    assert result["token_type"] == "Bearer"


def test_wrong_secret_is_refused(authority: AuthorityServer, http: requests.Session) -> None:
    authority.register_client("app-secret-2", secret="right")
    result = confidential(authority, http, "app-secret-2", "wrong").acquire_token_for_client(
        scopes=[SCOPE]
    )
    assert "access_token" not in result
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    assert "wrong" not in result["error_description"]


def test_unknown_client_is_refused(authority: AuthorityServer, http: requests.Session) -> None:
    result = confidential(authority, http, "nobody", "x").acquire_token_for_client(scopes=[SCOPE])
    assert result["error"] == "unauthorized_client"
    assert result["error_codes"] == [700016]


def test_scope_must_be_a_default_scope(authority: AuthorityServer, http: requests.Session) -> None:
    authority.register_client("app-scope", secret="s")
    app = confidential(authority, http, "app-scope", "s")
    result = app.acquire_token_for_client(scopes=["https://api.fabric.microsoft.com/Item.Read.All"])
    assert result["error"] == "invalid_scope"


def test_token_for_another_resource_is_not_accepted_by_fabric(
    authority: AuthorityServer,
    http: requests.Session,
    issuer: TokenIssuer,
) -> None:
    authority.register_client("app-pbi", secret="s")
    result = confidential(authority, http, "app-pbi", "s").acquire_token_for_client(
        scopes=["https://analysis.windows.net/powerbi/api/.default"]
    )
    with pytest.raises(TokenRejected) as caught:
        issuer.verify(result["access_token"])
    assert caught.value.error_code == "Unauthorized"


@pytest.mark.parametrize("style", ["public_certificate", "sha1_thumbprint"])
def test_certificate_flow(
    authority: AuthorityServer, http: requests.Session, issuer: TokenIssuer, style: str
) -> None:
    key_pem, cert_pem = make_certificate()
    authority.register_client(f"app-cert-{style}", certificate_pem=cert_pem)
    if style == "public_certificate":  # msal signs PS256 with x5t#S256
        credential = {"private_key": key_pem.decode(), "public_certificate": cert_pem.decode()}
    else:  # the legacy form: RS256 with the SHA-1 thumbprint in x5t
        cert = x509.load_pem_x509_certificate(cert_pem)
        credential = {
            "private_key": key_pem.decode(),
            "thumbprint": cert.fingerprint(hashes.SHA1()).hex(),
        }
    result = confidential(authority, http, f"app-cert-{style}", credential).acquire_token_for_client(
        scopes=[SCOPE]
    )
    assert issuer.verify(result["access_token"]) == f"app-cert-{style}"


def test_unregistered_certificate_is_refused(authority: AuthorityServer, http: requests.Session) -> None:
    _, registered = make_certificate()
    other_key, other_cert = make_certificate("intruder")
    authority.register_client("app-cert-x", certificate_pem=registered)
    result = confidential(
        authority,
        http,
        "app-cert-x",
        {
            "private_key": other_key.decode(),
            "public_certificate": other_cert.decode(),
        },
    ).acquire_token_for_client(scopes=[SCOPE])
    assert result["error"] == "invalid_client"


def test_federated_assertion_flow(
    authority: AuthorityServer, http: requests.Session, issuer: TokenIssuer
) -> None:
    github = TokenIssuer(audience=FEDERATED_AUDIENCE, issuer=GITHUB_ISSUER)
    authority.trust_federated_issuer(
        GITHUB_ISSUER, github.public_key_pem(), client_id="app-fed", subject=GITHUB_SUBJECT
    )
    assertion = github.issue(GITHUB_SUBJECT, lifetime_s=300)
    result = confidential(
        authority, http, "app-fed", {"client_assertion": lambda: assertion}
    ).acquire_token_for_client(scopes=[SCOPE])
    assert issuer.verify(result["access_token"]) == "app-fed"


@pytest.mark.parametrize(
    ("subject", "lifetime_s", "same_key", "code"),
    [
        ("repo:contoso/other:ref:refs/heads/main", 300, True, 70021),  # another repository
        (GITHUB_SUBJECT, -10, True, 700024),  # expired assertion
        (GITHUB_SUBJECT, 300, False, 700027),  # forged signature
    ],
)
def test_bad_federated_assertion_is_refused(
    authority: AuthorityServer,
    http: requests.Session,
    subject: str,
    lifetime_s: int,
    same_key: bool,
    code: int,
) -> None:
    github = TokenIssuer(audience=FEDERATED_AUDIENCE, issuer=GITHUB_ISSUER)
    authority.trust_federated_issuer(
        GITHUB_ISSUER, github.public_key_pem(), client_id="app-fed-bad", subject=GITHUB_SUBJECT
    )
    signer = github if same_key else TokenIssuer(audience=FEDERATED_AUDIENCE, issuer=GITHUB_ISSUER)
    assertion = signer.issue(subject, lifetime_s=lifetime_s)
    result = confidential(
        authority, http, "app-fed-bad", {"client_assertion": lambda: assertion}
    ).acquire_token_for_client(scopes=[SCOPE])
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [code]


def test_device_code_flow_after_approval(
    authority: AuthorityServer, http: requests.Session, issuer: TokenIssuer
) -> None:
    authority.register_client("app-public")
    app = msal.PublicClientApplication(
        "app-public", authority=authority.authority_url, instance_discovery=False, http_client=http
    )
    flow = app.initiate_device_flow(scopes=[SCOPE])
    assert flow["user_code"] in flow["message"]
    authority.approve_device_code(flow["user_code"], user="ada@contoso.example")
    result = app.acquire_token_by_device_flow(flow)
    assert issuer.verify(result["access_token"]) == "ada@contoso.example"
    [account] = app.get_accounts()
    assert account["username"] == "ada@contoso.example"
    # The refresh token works: a forced silent refresh gets a new access token.
    again = app.acquire_token_silent([SCOPE], account=account, force_refresh=True)
    assert again is not None
    assert again["access_token"] != result["access_token"]


def test_managed_identity_endpoint(
    authority: AuthorityServer, http: requests.Session, issuer: TokenIssuer
) -> None:
    endpoint = authority.enable_managed_identity("identity-header-value", principal="mi-1")
    response = http.get(
        endpoint,
        params={"resource": "https://api.fabric.microsoft.com", "api-version": "2019-08-01"},
        headers={"X-IDENTITY-HEADER": "identity-header-value"},
    )
    assert issuer.verify(response.json()["access_token"]) == "mi-1"
    refused = http.get(
        endpoint,
        params={"resource": "https://api.fabric.microsoft.com"},
        headers={"X-IDENTITY-HEADER": "guess"},
    )
    assert refused.status_code == 400


class FakeBrowser:
    """Stands in for the person's browser: follows the authorize URL to msal's localhost
    redirect in a thread (msal waits for that redirect after opening the browser)."""

    def __init__(self, ca_file: str) -> None:
        self.ca_file = ca_file
        self.threads: list[threading.Thread] = []

    def open(self, url: str, *args: object, **kwargs: object) -> bool:
        thread = threading.Thread(target=self._visit, args=(url,), daemon=True)
        thread.start()
        self.threads.append(thread)
        return True

    def _visit(self, url: str) -> None:
        with requests.Session() as session:
            session.trust_env = False
            page = session.get(url, verify=self.ca_file, allow_redirects=False).text
            # msal asks for response_mode=form_post: submit the page's form as a browser would.
            action = html.unescape(re.search(r'action="([^"]+)"', page).group(1))
            fields = {
                k: html.unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page)
            }
            # msal listens on 127.0.0.1 and names it "localhost" in the redirect URI.
            session.post(
                action.replace("http://localhost:", "http://127.0.0.1:"), data=fields, timeout=10
            )


@pytest.fixture
def browser(authority: AuthorityServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBrowser]:
    fake = FakeBrowser(authority.ca_file)
    monkeypatch.setattr(webbrowser, "open", fake.open)
    # Inside a container msal would listen on 0.0.0.0; keep its redirect listener on loopback.
    monkeypatch.setattr(msal.oauth2cli.authcode, "_is_inside_docker", lambda: False)
    yield fake
    for thread in fake.threads:
        thread.join(timeout=10)


def test_interactive_sign_in_with_pkce(
    authority: AuthorityServer,
    http: requests.Session,
    issuer: TokenIssuer,
    browser: FakeBrowser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    authority.register_client("app-desktop")
    monkeypatch.setattr(authority, "signed_in_user", "grace@contoso.example")
    app = msal.PublicClientApplication(
        "app-desktop", authority=authority.authority_url, instance_discovery=False, http_client=http
    )
    result = app.acquire_token_interactive([SCOPE], prompt="select_account", timeout=30)
    assert issuer.verify(result["access_token"]) == "grace@contoso.example"
    assert app.get_accounts()[0]["username"] == "grace@contoso.example"


def test_authorize_without_a_signed_in_user_is_refused(
    authority: AuthorityServer, http: requests.Session
) -> None:
    authority.register_client("app-desktop-2")
    answer = http.get(
        f"{authority.authority_url}/oauth2/v2.0/authorize",
        allow_redirects=False,
        params={
            "client_id": "app-desktop-2",
            "response_type": "code",
            "redirect_uri": "http://localhost:1234",
            "code_challenge": "x",
            "code_challenge_method": "S256",
            "scope": SCOPE,
        },
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "interaction_required"


def test_code_with_wrong_pkce_verifier_is_refused(
    authority: AuthorityServer, http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    authority.register_client("app-desktop-3")
    monkeypatch.setattr(authority, "signed_in_user", "eve@contoso.example")
    redirect = "http://localhost:1234"
    answer = http.get(
        f"{authority.authority_url}/oauth2/v2.0/authorize",
        allow_redirects=False,
        params={
            "client_id": "app-desktop-3",
            "response_type": "code",
            "redirect_uri": redirect,
            "code_challenge": "expected-challenge",
            "code_challenge_method": "S256",
            "scope": SCOPE,
        },
    )
    assert answer.status_code == 302  # without response_mode=form_post: a plain redirect
    code = answer.headers["location"].split("code=")[1].split("&")[0]
    token = http.post(
        authority.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "client_id": "app-desktop-3",
            "code": code,
            "redirect_uri": redirect,
            "code_verifier": "not-the-verifier",
            "scope": SCOPE,
        },
    )
    assert token.status_code == 400
    assert token.json()["error_codes"] == [501481]


def _certificate_assertion(key_pem: bytes, cert_pem: bytes, client_id: str, audience: str) -> str:
    key = serialization.load_pem_private_key(key_pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    thumbprint = x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256())
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "j-1",
    }
    return encode_jwt(claims, key, algorithm="PS256", headers={"x5t#S256": b64url_encode(thumbprint)})


@pytest.mark.parametrize(
    ("form", "error", "code"),
    [
        ({"grant_type": "client_credentials"}, "invalid_client", 7000218),  # no credential
        ({"grant_type": "password", "client_secret": "s"}, "unsupported_grant_type", 70003),
        (
            {
                "grant_type": "client_credentials",
                "client_assertion": "x.y.z",
                "client_assertion_type": "urn:other",
            },
            "invalid_client",
            50027,
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_assertion": "garbage",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            },
            "invalid_client",
            700027,
        ),
    ],
)
def test_malformed_token_requests(
    authority: AuthorityServer, http: requests.Session, form: dict[str, str], error: str, code: int
) -> None:
    authority.register_client("app-raw", secret="s")
    answer = http.post(authority.token_endpoint, data={"client_id": "app-raw", "scope": SCOPE, **form})
    assert answer.status_code in (400, 401)
    assert (answer.json()["error"], answer.json()["error_codes"]) == (error, [code])


def test_certificate_assertion_for_another_audience_is_refused(
    authority: AuthorityServer, http: requests.Session
) -> None:
    key_pem, cert_pem = make_certificate()
    authority.register_client("app-cert-aud", certificate_pem=cert_pem)
    jwt_bearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    def ask(audience: str) -> requests.Response:
        assertion = _certificate_assertion(key_pem, cert_pem, "app-cert-aud", audience)
        return http.post(
            authority.token_endpoint,
            data={
                "client_id": "app-cert-aud",
                "grant_type": "client_credentials",
                "scope": SCOPE,
                "client_assertion": assertion,
                "client_assertion_type": jwt_bearer,
            },
        )

    assert ask(authority.token_endpoint).status_code == 200  # the same assertion, right audience
    refused = ask("https://login.microsoftonline.com/other/oauth2/v2.0/token")
    assert refused.status_code == 401
    assert refused.json()["error_codes"] == [700023]
