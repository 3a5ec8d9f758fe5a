"""The session cookie, set and cleared by the server rather than by a page.

Streamlit's scripts cannot set cookies, and whatever they put in the page is readable by page scripts.
So after a sign-in the page shows an invisible image whose address carries a one-time claim code
(:func:`claim_image`); this ASGI middleware (installed in ``dashboard/server.py``) answers that request,
exchanges the code for a token (:func:`models.rules.web_sessions.claim`) and sets the token as an
``HttpOnly; SameSite=Strict`` cookie (``Secure`` behind HTTPS). A new browser connection carries the
cookie and ``st.context.cookies`` reads it on the server (:mod:`dashboard.identity`).
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import anyio

COOKIE = "rectrack_session"
CLAIM_PATH = "/_rectrack/session/claim"
CLEAR_PATH = "/_rectrack/session/clear"
_PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_engine = None


def claim_image(code: str) -> str:
    """HTML for the page: the browser fetches it once and receives the cookie."""
    return (
        f'<img src="{CLAIM_PATH}?code={code}" alt="" width="1" height="1" '
        'style="position:absolute;opacity:0;pointer-events:none">'
    )


def clear_image() -> str:
    return (
        f'<img src="{CLEAR_PATH}" alt="" width="1" height="1" '
        'style="position:absolute;opacity:0;pointer-events:none">'
    )


def _exchange(code: str):
    global _engine
    from models.rules.web_sessions import claim
    from models.store.db import make_engine, write_session
    from models.store.settings import get_settings

    if _engine is None:
        _engine = make_engine(get_settings().url)
    with write_session(_engine) as session:
        return claim(session, code=code)


def _cookie(value: str, max_age: int, secure: bool) -> bytes:
    return (
        f"{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict"
        + ("; Secure" if secure else "")
    ).encode()


def _secure(scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    headers = dict(scope.get("headers") or [])
    return headers.get(b"x-forwarded-proto", b"").split(b",")[0].strip() == b"https"


class SessionCookie:
    """ASGI middleware: the two cookie addresses; every other request passes untouched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope.get("type") == "http" else ""
        if not (path.endswith(CLAIM_PATH) or path.endswith(CLEAR_PATH)):
            return await self.app(scope, receive, send)
        headers = [
            (b"content-type", b"image/gif"),
            (b"cache-control", b"no-store"),
            (b"content-length", str(len(_PIXEL)).encode()),
        ]
        if path.endswith(CLAIM_PATH):
            code = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("code") or [""])[0]
            got = await anyio.to_thread.run_sync(_exchange, code)
            if got is not None:
                token, max_age = got
                headers.append((b"set-cookie", _cookie(token, max_age, _secure(scope))))
        else:
            headers.append((b"set-cookie", _cookie("", 0, _secure(scope))))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": _PIXEL})
