"""What every webhook endpoint shares: the platform's secret header, compared in constant time."""

from __future__ import annotations

import hmac

from starlette.requests import Request


def secret_matches(request: Request, header: str, secret: str) -> bool:
    return hmac.compare_digest(request.headers.get(header, "").encode(), secret.encode())
