"""Auth settings, the `token` method, the 0600 token cache and secret hygiene (no network)."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import msal
import pytest
from certificates import self_signed
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from platforms import posix_modes

from dataflow_gitops.errors import AuthError, DataflowGitopsError
from dataflow_gitops.fabric.auth import (
    EMULATOR_TOKEN,
    FABRIC_SCOPE,
    AuthSettings,
    FileAssertion,
    StaticTokenProvider,
    assertion_from_environment,
    build_token_provider,
)
from dataflow_gitops.fabric.msal_auth import (
    CertificateProvider,
    ClientSecretProvider,
    DeviceCodeProvider,
    InteractiveProvider,
    ManagedIdentityProvider,
    WorkloadIdentityProvider,
    scrub,
)
from dataflow_gitops.fabric.token_cache import TokenCacheFile

SECRET = "Sup3r~Secret.Value_42"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def settings(**overrides: object) -> AuthSettings:
    values: dict[str, object] = {"tenant_id": "contoso", "client_id": "app-1"}
    values.update(overrides)
    return AuthSettings(**values)  # type: ignore[arg-type]


# -- method: token -------------------------------------------------------------------------------


def test_token_method_reads_the_configured_variable() -> None:
    provider = build_token_provider(AuthSettings(token_env="MY_TOKEN"), env={"MY_TOKEN": "abc.def"})
    assert isinstance(provider, StaticTokenProvider)
    assert provider.get_token() == "abc.def"
    assert provider.get_token(force_refresh=True) == "abc.def"
    assert "abc.def" not in repr(provider)
    assert provider.identity.startswith("token:sha256:")
    assert "abc.def" not in provider.identity


def jwt(claims: dict[str, object]) -> str:
    def segment(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{segment({'alg': 'RS256', 'typ': 'JWT'})}.{segment(claims)}.c2lnbmF0dXJl"


def test_two_different_static_tokens_get_different_identities() -> None:
    first = StaticTokenProvider("opaque-token-one")
    second = StaticTokenProvider("opaque-token-two")
    assert first.identity != second.identity
    assert StaticTokenProvider("opaque-token-one").identity == first.identity
    assert "opaque-token" not in first.identity + repr(first)


def test_tokens_of_one_principal_share_an_identity_from_the_jwt_claims() -> None:
    oid, tid = "11111111-2222-3333-4444-555555555555", "99999999-8888-7777-6666-555555555555"
    first = jwt({"oid": oid, "tid": tid, "appid": "app", "exp": 1, "nonce": "a"})
    renewed = jwt({"oid": oid, "tid": tid, "appid": "app", "exp": 2, "nonce": "b"})
    other = jwt({"oid": "22222222-2222-3333-4444-555555555555", "tid": tid, "exp": 1})
    assert StaticTokenProvider(first).identity == f"token:{oid}@{tid}"
    assert StaticTokenProvider(renewed).identity == StaticTokenProvider(first).identity
    assert StaticTokenProvider(other).identity != StaticTokenProvider(first).identity
    assert StaticTokenProvider(jwt({"appid": "app-9"})).identity == "token:app-9"


def test_odd_claims_fall_back_to_the_hash() -> None:
    token = jwt({"oid": "x" * 65, "appid": "evil\nline"})
    assert StaticTokenProvider(token).identity.startswith("token:sha256:")


def test_token_method_identity_follows_the_token_not_the_variable() -> None:
    one = build_token_provider(AuthSettings(), env={"FABRIC_TOKEN": "token-a"})
    two = build_token_provider(AuthSettings(), env={"FABRIC_TOKEN": "token-b"})
    assert one.identity != two.identity


@pytest.mark.parametrize("env", [{}, {"FABRIC_TOKEN": ""}, {"FABRIC_TOKEN": "   "}])
def test_token_method_without_the_variable_is_one_clear_line(env: dict[str, str]) -> None:
    with pytest.raises(AuthError) as caught:
        build_token_provider(AuthSettings(), env=env)
    text = str(caught.value)
    assert "environment variable FABRIC_TOKEN is not set" in text
    assert "export FABRIC_TOKEN=" in text  # what to do
    assert "\n" not in text
    assert isinstance(caught.value, DataflowGitopsError)


def test_token_method_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FABRIC_TOKEN", "from-env")
    assert build_token_provider(AuthSettings()).get_token() == "from-env"


def test_emulator_token_is_a_stable_non_empty_constant() -> None:
    assert EMULATOR_TOKEN == "dfg-embedded-emulator"


# -- settings validation and construction (no network until get_token) ------------------------


def test_unknown_method_is_refused() -> None:
    with pytest.raises(AuthError, match="unknown auth method 'kerberos'"):
        build_token_provider(settings(method="kerberos"))


@pytest.mark.parametrize(
    ("method", "missing"),
    [
        ("client_secret", "auth.client_secret"),
        ("certificate", "auth.certificate_path"),
        ("device_code", "auth.tenant_id"),
    ],
)
def test_missing_settings_are_named(method: str, missing: str, tmp_path: Path) -> None:
    overrides: dict[str, object] = {"method": method, "cache_path": str(tmp_path / "c.json")}
    if missing == "auth.tenant_id":
        overrides["tenant_id"] = None
    with pytest.raises(AuthError) as caught:
        build_token_provider(settings(**overrides))
    assert missing in str(caught.value)


def test_origin_names_the_overlay_file(tmp_path: Path) -> None:
    with pytest.raises(AuthError) as caught:
        build_token_provider(
            settings(
                method="client_secret",
                origin="environments/prod.yaml:4",
                cache_path=str(tmp_path / "c.json"),
            )
        )
    assert str(caught.value).startswith("environments/prod.yaml:4: ")


def test_each_method_builds_its_provider_offline(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache.json")
    token_file = tmp_path / "oidc.jwt"
    token_file.write_text("x.y.z")
    built = {
        "client_secret": build_token_provider(
            settings(method="client_secret", client_secret=SECRET, cache_path=cache)
        ),
        "managed_identity": build_token_provider(
            settings(method="managed_identity", client_id=None, cache_path=cache)
        ),
        "device_code": build_token_provider(settings(method="device_code", cache_path=cache)),
        "interactive": build_token_provider(settings(method="interactive", cache_path=cache)),
        "workload_identity": build_token_provider(
            settings(method="workload_identity", federated_token_file=str(token_file), cache_path=cache)
        ),
    }
    assert isinstance(built["client_secret"], ClientSecretProvider)
    assert isinstance(built["managed_identity"], ManagedIdentityProvider)
    assert built["managed_identity"].identity == "managed-identity:system"
    assert isinstance(built["device_code"], DeviceCodeProvider)
    # (Its browser flow runs in test_auth_msal.py with a scripted browser.)
    assert isinstance(built["interactive"], InteractiveProvider)
    assert isinstance(built["workload_identity"], WorkloadIdentityProvider)
    assert built["client_secret"].identity == "app-1"
    assert not Path(cache).exists()  # nothing acquired, nothing written


# -- secrets never leak --------------------------------------------------------------------------


def test_settings_repr_hides_secrets() -> None:
    value = settings(method="certificate", client_secret=SECRET, certificate_password=SECRET)
    assert SECRET not in repr(value)
    assert SECRET not in str(value)
    assert "app-1" in repr(value)


def test_provider_repr_hides_secret(tmp_path: Path) -> None:
    provider = build_token_provider(
        settings(method="client_secret", client_secret=SECRET, cache_path=str(tmp_path / "c.json"))
    )
    assert SECRET not in repr(provider)
    assert SECRET not in str(provider)


def test_scrub_removes_secrets_tokens_and_trace_noise() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    text = (
        f"AADSTS7000215: Invalid client secret {SECRET} provided, assertion {jwt}.\n"
        "Trace ID: 123 Correlation ID: 456 Timestamp: 2026"
    )
    cleaned = scrub(text, [SECRET, None])
    assert SECRET not in cleaned
    assert jwt not in cleaned
    assert "Trace ID" not in cleaned
    assert cleaned.startswith("AADSTS7000215: Invalid client secret *** provided")
    assert "\n" not in cleaned


# -- token cache file ----------------------------------------------------------------------------


def _cache_with_token(
    cache_file: TokenCacheFile, *, client_id: str = "app-1", token: str = "cached-at"
) -> None:
    cache_file.cache.add(
        {
            "client_id": client_id,
            "scope": [FABRIC_SCOPE],
            "token_endpoint": "https://login.example/contoso/oauth2/v2.0/token",
            "response": {"access_token": token, "token_type": "Bearer", "expires_in": 3600},
            "params": {},
            "data": {},
        }
    )


@posix_modes
def test_cache_file_is_written_0600_in_a_0700_directory(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "msal_cache.json"
    cache_file = TokenCacheFile(path)
    _cache_with_token(cache_file)
    cache_file.save()
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert "cached-at" in path.read_text()
    assert [p.name for p in path.parent.iterdir()] == ["msal_cache.json"]  # no temp file left


def test_cache_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "msal_cache.json"
    first = TokenCacheFile(path)
    _cache_with_token(first)
    first.save()
    second = TokenCacheFile(path)
    tokens = list(second.cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN))
    assert [t["secret"] for t in tokens] == ["cached-at"]


def test_two_caches_on_one_file_keep_each_others_tokens(tmp_path: Path) -> None:
    # `dfg promote` signs in to two environments in one process with the same cache file.
    path = tmp_path / "msal_cache.json"
    first, second = TokenCacheFile(path), TokenCacheFile(path)
    _cache_with_token(first, client_id="app-test", token="token-test")
    _cache_with_token(second, client_id="app-prod", token="token-prod")
    first.save()
    second.save()
    reloaded = TokenCacheFile(path)
    found = {t["secret"] for t in reloaded.cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)}
    assert found == {"token-test", "token-prod"}


@posix_modes
def test_wide_cache_file_is_narrowed_on_load(tmp_path: Path) -> None:
    path = tmp_path / "msal_cache.json"
    path.write_text("{}")
    path.chmod(0o644)
    TokenCacheFile(path)
    assert mode(path) == 0o600


@posix_modes
def test_save_fixes_permissions_of_an_existing_wide_file(tmp_path: Path) -> None:
    path = tmp_path / "msal_cache.json"
    cache_file = TokenCacheFile(path)
    path.write_text("{}")
    path.chmod(0o666)  # widened by someone after we loaded
    _cache_with_token(cache_file)
    cache_file.save()
    assert mode(path) == 0o600


def test_unchanged_cache_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "msal_cache.json"
    TokenCacheFile(path).save()
    assert not path.exists()


def test_corrupt_cache_is_dropped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "msal_cache.json"
    path.write_text("{not json")
    path.chmod(0o600)
    cache_file = TokenCacheFile(path)
    _cache_with_token(cache_file)
    cache_file.save()
    assert json.loads(path.read_text())["AccessToken"]


def test_default_cache_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert TokenCacheFile().path == tmp_path / ".cache" / "dataflow-gitops" / "msal_cache.json"


# -- certificate files ---------------------------------------------------------------------------


def write_certificate(path: Path, password: str | None) -> str:
    """A PEM with the (optionally encrypted) key and a self-signed certificate; its SHA-1 hex."""
    key, cert = self_signed("dfg")
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    return cert.fingerprint(hashes.SHA1()).hex().upper()


def test_certificate_thumbprint_is_computed(tmp_path: Path) -> None:
    pem = tmp_path / "sp.pem"
    thumbprint = write_certificate(pem, SECRET)
    provider = build_token_provider(
        settings(
            method="certificate",
            certificate_path=str(pem),
            certificate_password=SECRET,
            cache_path=str(tmp_path / "c.json"),
        )
    )
    assert isinstance(provider, CertificateProvider)
    assert provider.thumbprint == thumbprint
    assert SECRET not in repr(provider)


@pytest.mark.parametrize("password", [None, "wrong-password"])
def test_certificate_with_bad_password_is_one_line_without_it(
    tmp_path: Path, password: str | None
) -> None:
    pem = tmp_path / "sp.pem"
    write_certificate(pem, SECRET)
    with pytest.raises(AuthError) as caught:
        build_token_provider(
            settings(
                method="certificate",
                certificate_path=str(pem),
                certificate_password=password,
                cache_path=str(tmp_path / "c.json"),
            )
        )
    text = str(caught.value)
    assert str(pem) in text
    assert "password" in text
    assert SECRET not in text
    if password:
        assert password not in text


def test_certificate_file_without_certificate(tmp_path: Path) -> None:
    pem = tmp_path / "key-only.pem"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(AuthError, match="both the private key and the certificate"):
        build_token_provider(
            settings(
                method="certificate", certificate_path=str(pem), cache_path=str(tmp_path / "c.json")
            )
        )


def test_missing_certificate_file(tmp_path: Path) -> None:
    with pytest.raises(AuthError, match="cannot read the certificate file"):
        build_token_provider(
            settings(
                method="certificate",
                certificate_path=str(tmp_path / "absent.pem"),
                cache_path=str(tmp_path / "c.json"),
            )
        )


# -- assertion sources (selection; the HTTP sources are exercised in test_auth_msal.py) ----------


def test_assertion_source_order(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(" header.payload.sig \n")
    github = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:1/token?x=1",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "req",
    }
    ado = {"SYSTEM_OIDCREQUESTURI": "http://127.0.0.1:1/oidc", "SYSTEM_ACCESSTOKEN": "sys"}
    from_file = assertion_from_environment({**github, "AZURE_FEDERATED_TOKEN_FILE": str(token_file)})
    assert isinstance(from_file, FileAssertion)
    assert from_file() == "header.payload.sig"
    assert type(assertion_from_environment({**github, **ado})).__name__ == "GitHubActionsAssertion"
    assert type(assertion_from_environment(ado)).__name__ == "AzureDevOpsAssertion"
    with pytest.raises(AuthError, match="no OIDC token source"):
        assertion_from_environment({})


def test_empty_or_missing_federated_token_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(AuthError, match="empty"):
        FileAssertion(empty)()
    with pytest.raises(AuthError, match="cannot read"):
        FileAssertion(tmp_path / "absent")()


@pytest.mark.parametrize(
    ("variable", "url"),
    [
        ("ACTIONS_ID_TOKEN_REQUEST_URL", "http://token.actions.example/idtoken?api-version=2.0"),
        ("SYSTEM_OIDCREQUESTURI", "ftp://dev.azure.example/oidctoken"),
    ],
)
def test_ci_request_token_never_goes_over_plain_http(variable: str, url: str) -> None:
    env = {
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-secret",
        "SYSTEM_ACCESSTOKEN": "ado-secret",
        variable: url,
    }
    source = assertion_from_environment(env)
    with pytest.raises(AuthError, match="non-https") as caught:
        source()  # refused before any connection is attempted
    assert "secret" not in str(caught.value)


def test_token_method_accepts_a_value_copied_from_an_authorization_header() -> None:
    provider = build_token_provider(AuthSettings(), env={"FABRIC_TOKEN": "Bearer abc.def.ghi\n"})
    assert provider.get_token() == "abc.def.ghi"
