"""Fault injection: control-plane / command-line rules (method regex, path regex, kind, count or
probability) → the fault a request must suffer, if any. Request-level kinds (`status`, `throttle`,
`drop`, `token_expired`) are applied by the app; `lro_fail` / `lro_stuck` by the next LRO.
Probability draws come from a seeded generator when the rule (or the emulator config) names a
`seed`, so a chaos test sees the same sequence of faults on every run."""

from __future__ import annotations

import random
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from fabric_emulator.errors import bad_request

REQUEST_KINDS = ("status", "throttle", "drop", "token_expired")
LRO_KINDS = ("lro_fail", "lro_stuck")
KINDS = REQUEST_KINDS + LRO_KINDS


@dataclass(frozen=True, slots=True)
class FaultRule:
    id: str
    kind: str
    method: str = ".*"
    path: str = ".*"
    count: int | None = 1
    probability: float | None = None
    status: int = 500
    error_code: str | None = None
    message: str | None = None
    retry_after: int = 1
    seed: int | None = None
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return bool(re.fullmatch(self.method, method, re.IGNORECASE) and re.search(self.path, path))

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["errorCode"] = out.pop("error_code")
        out["retryAfter"] = out.pop("retry_after")
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        if not isinstance(data, Mapping):
            raise bad_request("InvalidRequest", "A fault rule must be a JSON object.")
        known = {
            "kind",
            "method",
            "path",
            "count",
            "probability",
            "status",
            "errorCode",
            "message",
            "retryAfter",
            "seed",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise bad_request("InvalidRequest", f"Unknown fault rule keys: {', '.join(unknown)}.")
        kind = data.get("kind")
        if kind not in KINDS:
            raise bad_request("InvalidRequest", f"Fault kind must be one of {', '.join(KINDS)}.")
        try:
            rule = cls(
                id=str(uuid.uuid4()),
                kind=kind,
                method=str(data.get("method") or ".*"),
                path=str(data.get("path") or ".*"),
                count=None if data.get("count", 1) is None else int(data.get("count", 1)),
                probability=None if data.get("probability") is None else float(data["probability"]),
                status=int(data.get("status", 500)),
                error_code=data.get("errorCode"),
                message=data.get("message"),
                retry_after=int(data.get("retryAfter", 1)),
                seed=_seed(data.get("seed")),
            )
            re.compile(rule.method)
            re.compile(rule.path)
        except (TypeError, ValueError, OverflowError, re.error) as exc:
            raise bad_request("InvalidRequest", f"Bad fault rule: {exc}.") from None
        if rule.probability is not None and not 0 <= rule.probability <= 1:
            raise bad_request("InvalidRequest", "A fault rule's probability must be between 0 and 1.")
        bad_count = rule.count is not None and rule.count < 1
        if not 400 <= rule.status <= 599 or rule.retry_after < 0 or bad_count:
            raise bad_request(
                "InvalidRequest",
                "A fault rule needs status 400-599, retryAfter >= 0 and count >= 1 (or null).",
            )
        if rule.count is None and rule.probability is None:
            raise bad_request("InvalidRequest", "A fault rule needs a count or a probability.")
        return rule


def _seed(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"seed must be an integer, got {value!r}")
    return value


class Faults:
    """The active rules; a rule with a count disappears once it has fired that many times.

    A rule with its own `seed` draws from its own generator: its n-th evaluation always gives the
    same answer, whatever other rules or threads do meanwhile."""

    def __init__(self, seed: int | None = None) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._own: dict[str, random.Random] = {}

    def reseed(self, seed: int | None) -> None:
        """Restart the shared generator (None: from the OS's entropy)."""
        with self._lock:
            self._random.seed(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self._rules.append(rule)
            if rule.seed is not None:
                self._own[rule.id] = random.Random(rule.seed)
        return rule

    def list(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._own.clear()

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            self._own.pop(rule_id, None)
            return len(self._rules) != before

    def take(self, method: str, path: str, kinds: tuple[str, ...]) -> FaultRule | None:
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.kind not in kinds or not rule.matches(method, path):
                    continue
                draw = self._own.get(rule.id, self._random)
                if rule.probability is not None and draw.random() >= rule.probability:
                    continue
                fired = replace(rule, fired=rule.fired + 1)
                if rule.count is not None and fired.fired >= rule.count:
                    del self._rules[index]
                    self._own.pop(rule.id, None)
                else:
                    self._rules[index] = fired
                return fired
        return None
