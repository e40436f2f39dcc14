"""A small, typed client for the AppSec+ Scans API: trigger a scan, read it, wait for it to finish.

It is written the way a client meant for production is: every documented error
is a typed exception, and transient failures are retried where retrying is
safe. It is also written to be testable without a network or a wall clock:

* ``http`` lets a test hand in any ``httpx.Client`` (specmock's in-process
  ``specmock.client``, for one); the client never assumes a socket.
* ``sleep`` and ``clock`` are the only ways the client waits and tells time, so
  a test can make every Retry-After and poll interval advance a mock clock
  instead of sleeping.

Retry policy, and why:

* 429 and 503 mean the server did not act on the request, so they are retried
  for every method, after Retry-After seconds when the server says so.
* A connection that fails before the request is sent (``httpx.ConnectError``)
  is retried for every method for the same reason.
* Any other transport failure (reset, truncated or unparseable body) is retried
  only for GET: a POST may already have queued a scan, and queuing a second one
  is worse than reporting the failure.
* 500 is not retried: the server may have half-done the work, and the caller
  knows better than we do whether to try again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Self, cast

import httpx

ScanType = Literal["sast", "dast", "sca", "container"]
ScanStatus = Literal["queued", "running", "completed", "failed"]
FINISHED: frozenset[str] = frozenset({"completed", "failed"})
#: Statuses that mean "not now, try again": the server did not act on the request.
RETRYABLE_STATUSES = frozenset({429, 503})


# -- models ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanSummary:
    """Counts of findings by severity; present once a scan has completed."""

    total_findings: int
    critical: int
    high: int
    medium: int
    low: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScanSummary:
        return cls(
            total_findings=int(data["totalFindings"]),
            critical=int(data["critical"]),
            high=int(data["high"]),
            medium=int(data["medium"]),
            low=int(data["low"]),
        )


@dataclass(frozen=True)
class Scan:
    """A scan as the API returns it, with timestamps parsed and field names in Python style."""

    id: str
    application_id: str
    scan_type: ScanType
    status: ScanStatus
    triggered_by: str
    started_at: datetime | None
    completed_at: datetime | None
    summary: ScanSummary | None

    @property
    def finished(self) -> bool:
        """True once the scan can no longer change: completed or failed."""
        return self.status in FINISHED

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scan:
        summary = data.get("summary")
        return cls(
            id=data["id"],
            application_id=data["applicationId"],
            scan_type=cast(ScanType, data["scanType"]),
            status=cast(ScanStatus, data["status"]),
            triggered_by=data["triggeredBy"],
            started_at=_parse_time(data.get("startedAt")),
            completed_at=_parse_time(data.get("completedAt")),
            summary=ScanSummary.from_json(summary) if summary else None,
        )


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# -- errors ----------------------------------------------------------------------------------


class ScansError(Exception):
    """Base of every error this client raises, so callers can catch them all in one place."""


class ApiError(ScansError):
    """The API answered with an error status; `code` and `message` come from its error object."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.retry_after = retry_after


class InvalidRequest(ApiError):
    """400: the request broke the contract (unknown scan type, missing field); `details` says where."""


class Unauthorized(ApiError):
    """401: the token is missing, unknown, revoked or expired."""


class Forbidden(ApiError):
    """403: the token is valid but lacks the scope (a read-only token triggering a scan)."""


class NotFound(ApiError):
    """404: something named in the request does not exist."""


class ApplicationNotFound(NotFound):
    """404 on trigger: the application to scan does not exist."""


class ScanNotFound(NotFound):
    """404 on get: no scan has that id."""


class ScanConflict(ApiError):
    """409: a scan of the same application and type is already queued or running."""


class RateLimited(ApiError):
    """429 that persisted through every retry; `retry_after` is the server's last advice."""


class ServerError(ApiError):
    """5xx: a 500 at once, or a 503 that persisted through every retry."""


class ScansConnectionError(ScansError):
    """The request failed in transit (reset, truncated or garbled body) and could not safely be retried."""


class ScanTimeout(ScansError):
    """`wait` gave up: the scan did not finish within `timeout` seconds of the client's clock."""

    def __init__(self, scan: Scan, timeout: float) -> None:
        super().__init__(f"scan {scan.id} still {scan.status} after {timeout:g}s")
        self.scan = scan
        self.timeout = timeout


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: ScanConflict,
    429: RateLimited,
}


class _Transient(Exception):
    """Internal: a response we could not use (garbled JSON), treated like a transport failure."""


# -- the client ------------------------------------------------------------------------------


class ScansClient:
    """Trigger, read and await AppSec+ scans.

    >>> with ScansClient("https://api.appsecplus.example.com", token) as scans:
    ...     scan = scans.wait(scans.trigger("app-12345", "sast").id)
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_retries: int = 3,
        poll_interval: float = 1.0,
        timeout: float = 60,
        backoff: float = 0.5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=10.0)
        self._sleep = sleep
        self._clock = clock
        self.max_retries = max_retries
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.backoff = backoff

    # -- operations --------------------------------------------------------------------

    def trigger(self, application_id: str, scan_type: ScanType, triggered_by: str | None = None) -> Scan:
        """Queue a scan (TriggerScan). Not retried on connection loss: the scan may already be queued."""
        body: dict[str, Any] = {"applicationId": application_id, "scanType": scan_type}
        if triggered_by is not None:
            body["triggeredBy"] = triggered_by
        data = self._request("POST", "/scans", body=body, idempotent=False, not_found=ApplicationNotFound)
        return Scan.from_json(data)

    def get(self, scan_id: str) -> Scan:
        """One scan, as it is now (GetScan)."""
        data = self._request("GET", f"/scans/{scan_id}", idempotent=True, not_found=ScanNotFound)
        return Scan.from_json(data)

    def list_scans(self, application_id: str | None = None, status: ScanStatus | None = None) -> list[Scan]:
        """Scans, optionally of one application and/or in one status (ListScans)."""
        params = {k: v for k, v in {"applicationId": application_id, "status": status}.items() if v is not None}
        data = self._request("GET", "/scans", params=params, idempotent=True, not_found=NotFound)
        return [Scan.from_json(item) for item in data]

    def wait(self, scan_id: str, *, timeout: float | None = None) -> Scan:
        """Poll until the scan is completed or failed, and return it; ScanTimeout after `timeout` seconds.

        A failed scan is returned, not raised: it is an outcome of the scan, not
        an error of the API, and the caller decides what it means for them.
        """
        limit = self.timeout if timeout is None else timeout
        deadline = self._clock() + limit
        while True:
            scan = self.get(scan_id)
            if scan.finished:
                return scan
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise ScanTimeout(scan, limit)
            self._sleep(min(self.poll_interval, remaining))

    # -- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP client if we made it; one handed in belongs to the caller."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        not_found: type[NotFound],
        body: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        attempt = 0
        while True:
            try:
                response = self._http.request(method, self.base_url + path, json=body, params=params, headers=headers)
                data = _decode(response)
            except (httpx.TransportError, _Transient) as exc:
                safe = idempotent or isinstance(exc, httpx.ConnectError)
                if not safe or attempt >= self.max_retries:
                    raise ScansConnectionError(f"{method} {path}: {exc}") from exc
                delay = self.backoff * 2**attempt
            else:
                if response.is_success:
                    return data
                if response.status_code not in RETRYABLE_STATUSES or attempt >= self.max_retries:
                    raise _error(response, data, not_found)
                advised = _retry_after(response)
                delay = advised if advised is not None else self.backoff * 2**attempt
            attempt += 1
            self._sleep(delay)


def _decode(response: httpx.Response) -> Any:
    """The JSON body, or None if empty; a garbled body on success is transient (a truncated or corrupted read)."""
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        if response.is_success:
            raise _Transient(f"unparseable {response.status_code} body") from exc
        return None  # an error status still says what went wrong; the body is a bonus


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds. AppSec+ documents delta-seconds only; anything else means "use our backoff"."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _error(response: httpx.Response, data: Any, not_found: type[NotFound]) -> ApiError:
    """The typed exception for an error response, with the API's code, message and field details."""
    status = response.status_code
    error = data.get("error") if isinstance(data, dict) else None
    error = error if isinstance(error, dict) else {}
    code = str(error.get("code", f"HTTP{status}"))
    message = str(error.get("message", response.reason_phrase or "error"))
    details = error.get("details") if isinstance(error.get("details"), list) else None
    if status == 404:
        cls: type[ApiError] = not_found
    elif status >= 500:
        cls = ServerError
    else:
        cls = _BY_STATUS.get(status, ApiError)
    return cls(status, code, message, details, retry_after=_retry_after(response))
