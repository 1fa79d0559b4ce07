"""The sync client: push the outbox until it is empty, then pull every scope.

- Transient failures (network errors, 502/503/504, 500) back off and retry by
  themselves, honouring Retry-After: the client does not wait for a new local
  write to try again.
- 401: the access token is refreshed once, then the request repeats.
- 409 MUTATION_GAP: the pending mutations are renumbered from the server's
  expected mid; 409 CLIENT_ID_CONFLICT (a device restored from a backup): a
  new client_id, pending mutations renumbered from 1.
- 426: the app is too old for the server; nothing local is touched.
- Attachments upload on their own queue (`upload_attachments`), resumably, so
  photos never hold back data.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from mobile.core.store import LocalStore
from shared.sync.hlc import HybridLogicalClock, wall_clock_ms
from shared.sync.protocol import (
    MAX_PUSH_BYTES,
    MAX_PUSH_MUTATIONS,
    PROTOCOL_VERSION,
    PULL_PAGE_DEFAULT,
    SCHEMA_VERSION,
    MutationResult,
)

__all__ = [
    "AuthenticationFailed",
    "SyncClient",
    "SyncError",
    "SyncReport",
    "TransientSyncError",
    "UpgradeRequired",
]

APP_VERSION = "fieldforce-mobile/0.1"
_RESULT_FIELDS = {f.name for f in dataclasses.fields(MutationResult)}


class SyncError(Exception):
    """A failure that retrying will not fix (the problem document is attached)."""

    def __init__(self, message: str, problem: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.problem = problem or {}


class TransientSyncError(SyncError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpgradeRequired(SyncError):
    """426: this app's protocol is no longer served. Local data and the outbox are kept."""


class AuthenticationFailed(SyncError):
    """The refresh token no longer works: the rep must log in again (data is kept)."""


@dataclass
class SyncReport:
    pushed: int = 0
    pulled: int = 0
    attempts: int = 1
    results: list[MutationResult] = field(default_factory=list)
    scopes_added: list[str] = field(default_factory=list)
    scopes_removed: list[str] = field(default_factory=list)


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"status": response.status_code, "detail": response.text[:200]}
    return body if isinstance(body, dict) else {"status": response.status_code}


class SyncClient:
    def __init__(
        self,
        store: LocalStore,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: HybridLogicalClock | None = None,
        app_version: str = APP_VERSION,
        protocol: int = PROTOCOL_VERSION,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        max_attempts: int = 8,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        timeout: float = 30.0,
        page_limit: int = PULL_PAGE_DEFAULT,
    ) -> None:
        self.store = store
        self.http = httpx.Client(base_url=base_url, transport=transport, timeout=timeout)
        self.clock = clock or HybridLogicalClock()
        self.clock.observe(int(store.get_state("hlc", "0") or 0))
        self.app_version = app_version
        self.protocol = protocol
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.page_limit = page_limit

    def close(self) -> None:
        self.http.close()

    # ---- clock -----------------------------------------------------------------------------

    def next_hlc(self) -> int:
        """An HLC for a local edit, persisted so it never goes backwards across restarts."""
        value = self.clock.now()
        self.store.set_state("hlc", str(value))
        return value

    def _observe(self, body: dict[str, Any], sent_ms: int, received_ms: int) -> None:
        if "server_time_ms" in body:
            self.clock.measure_offset(int(body["server_time_ms"]), sent_ms, received_ms)
        if "hlc" in body:
            self.store.set_state("hlc", str(self.clock.observe(int(body["hlc"]))))

    # ---- authentication ----------------------------------------------------------------------

    def login(self, username: str, password: str) -> None:
        response = self._send(
            "POST", "/api/v1/auth/token", data={"username": username, "password": password}, authenticate=False
        )
        if response.status_code != 200:
            raise AuthenticationFailed("login failed", _problem(response))
        self._keep_tokens(response.json())
        me = self._request("GET", "/api/v1/users/me")
        self.store.set_state("user_id", str(me.json()["id"]))

    def use_tokens(self, access_token: str, refresh_token: str | None = None, user_id: str | None = None) -> None:
        self.store.set_state("access_token", access_token)
        if refresh_token:
            self.store.set_state("refresh_token", refresh_token)
        if user_id:
            self.store.set_state("user_id", user_id)

    def _keep_tokens(self, body: dict[str, Any]) -> None:
        self.use_tokens(body["access_token"], body.get("refresh_token"))

    def _refresh(self) -> None:
        refresh_token = self.store.get_state("refresh_token")
        if not refresh_token:
            raise AuthenticationFailed("the access token expired and there is no refresh token")
        response = self._send("POST", "/api/v1/auth/refresh", json={"refresh_token": refresh_token}, authenticate=False)
        if response.status_code != 200:
            raise AuthenticationFailed("the session ended; log in again", _problem(response))
        self._keep_tokens(response.json())

    # ---- transport -----------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, authenticate: bool = True, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if authenticate:
            token = self.store.get_state("access_token")
            if token:
                headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise TransientSyncError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code in (500, 502, 503, 504):
            retry_after = response.headers.get("Retry-After")
            raise TransientSyncError(
                f"{method} {path}: {response.status_code}",
                retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
            )
        if response.status_code == 426:
            raise UpgradeRequired("this app is too old for the server; update it", _problem(response))
        return response

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._send(method, path, **kwargs)
        if response.status_code == 401:
            self._refresh()
            response = self._send(method, path, **kwargs)
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An authenticated request for the app's other calls (tracking, the workday): the
        token is refreshed on 401; 5xx and a lost connection raise `TransientSyncError`."""
        return self._request(method, path, **kwargs)

    # ---- the sync loop ---------------------------------------------------------------------------

    def sync(self) -> SyncReport:
        """Push everything, then pull every scope; retries transient failures with backoff."""
        report = SyncReport(attempts=0)
        while True:
            report.attempts += 1
            try:
                self.push_all(report)
                self.pull_all(report)
                if self.store.pending_count() == 0:
                    self.store.drop_orphans()
                return report
            except TransientSyncError as error:
                if report.attempts >= self.max_attempts:
                    raise
                self.sleep(self._backoff(report.attempts, error.retry_after))

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential with full jitter, never shorter than the server's Retry-After."""
        delay = self.rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))
        return max(delay, min(retry_after or 0.0, self.backoff_cap))

    def push_all(self, report: SyncReport | None = None) -> int:
        report = report if report is not None else SyncReport()
        batch_size = MAX_PUSH_MUTATIONS
        pushed = 0
        while True:
            entries = self.store.pending(limit=batch_size)
            if not entries:
                return pushed
            mutations = [dataclasses.asdict(entry.mutation()) for entry in entries]
            while len(mutations) > 1 and len(json.dumps(mutations, default=str)) > MAX_PUSH_BYTES - 10_000:
                mutations = mutations[: len(mutations) // 2]
            client_id = self.store.client_id
            body = {
                "protocol": self.protocol,
                "schema_version": SCHEMA_VERSION,
                "app_version": self.app_version,
                "client_id": client_id,
                "mutations": mutations,
            }
            sent = wall_clock_ms()
            response = self._request("POST", "/api/v1/sync/push", json=body)
            if response.status_code == 200:
                answer = response.json()
                self._observe(answer, sent, wall_clock_ms())
                results = [
                    MutationResult(**{k: v for k, v in r.items() if k in _RESULT_FIELDS}) for r in answer["results"]
                ]
                self.store.acknowledge(client_id, int(answer["last_mid"]), results)
                report.results.extend(results)
                pushed += len(results)
                report.pushed += len(results)
                continue
            problem = _problem(response)
            code = problem.get("code")
            if code == "MUTATION_GAP":
                self.store.renumber_pending(int(problem["expected_mid"]))
            elif code in ("CLIENT_ID_CONFLICT", "CLIENT_ID_FOREIGN"):
                self.store.renumber_pending(1, new_client_id=str(uuid.uuid4()))
            elif response.status_code == 413 and batch_size > 1:
                batch_size = max(1, batch_size // 2)
            else:
                raise SyncError(f"push refused: {response.status_code} {code}", problem)

    def pull_all(self, report: SyncReport | None = None) -> int:
        report = report if report is not None else SyncReport()
        response = self._request("GET", "/api/v1/sync/scopes")
        if response.status_code != 200:
            raise SyncError(f"scopes refused: {response.status_code}", _problem(response))
        added, removed = self.store.set_scopes(response.json()["scopes"])
        report.scopes_added += added
        report.scopes_removed += removed
        pulled = 0
        client_id = self.store.client_id
        for scope, cursor in sorted(self.store.cursors().items()):
            while True:
                params: dict[str, Any] = {
                    "scope": scope,
                    "protocol": self.protocol,
                    "schema_version": SCHEMA_VERSION,
                    "limit": self.page_limit,
                    "client_id": client_id,
                }
                if cursor:
                    params["cursor"] = cursor
                sent = wall_clock_ms()
                response = self._request("GET", "/api/v1/sync/pull", params=params)
                if response.status_code != 200:
                    raise SyncError(f"pull of {scope} refused: {response.status_code}", _problem(response))
                page = response.json()
                self._observe(page, sent, wall_clock_ms())
                pulled += self.store.apply_page(page, client_id)
                cursor = page["cursor"]
                if not page["has_more"]:
                    break
        report.pulled += pulled
        return pulled

    # ---- attachments (their own queue) ---------------------------------------------------------

    def upload_attachments(self, chunk_size: int = 512 * 1024) -> int:
        """Upload pending files, resuming where the server says an upload stopped."""
        done = 0
        for attachment in self.store.pending_attachments():
            sha256, size = attachment["sha256"], int(attachment["size"])
            head = self._request("HEAD", f"/api/v1/files/{sha256}")
            if head.status_code == 200:
                self.store.mark_uploaded(sha256)
                done += 1
                continue
            offset = int(head.headers.get("Upload-Offset", "0"))
            with Path(attachment["path"]).open("rb") as handle:
                while True:
                    handle.seek(offset)
                    chunk = handle.read(chunk_size)
                    if not chunk:
                        raise SyncError(f"{attachment['path']} is shorter than its recorded size")
                    headers = {
                        "Content-Type": attachment["content_type"],
                        "Content-Range": f"bytes {offset}-{offset + len(chunk) - 1}/{size}",
                    }
                    response = self._request("PUT", f"/api/v1/files/{sha256}", content=chunk, headers=headers)
                    if response.status_code in (200, 201):
                        self.store.mark_uploaded(sha256)
                        done += 1
                        break
                    if response.status_code in (202, 409) and "Upload-Offset" in response.headers:
                        offset = int(response.headers["Upload-Offset"])
                        continue
                    raise SyncError(f"upload of {sha256} refused: {response.status_code}", _problem(response))
        return done
