"""The dashboard as served by ``rectrack serve``: Streamlit's own server (``st.App``) running
``dashboard/app.py``, with two middlewares in front: :class:`dashboard.session_cookie.SessionCookie`
sets and clears the HttpOnly session cookie (pages cannot), and :class:`dashboard.sso.CallbackWatch`
makes a single sign-on the provider refused reach the sign-in page in words instead of a silent
redirect home.
``streamlit run dashboard/server.py`` finds ``app`` and serves it (``app.py`` alone still runs,
without that middleware)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from starlette.middleware import Middleware  # noqa: E402
from streamlit.starlette import App  # noqa: E402

from dashboard.session_cookie import SessionCookie  # noqa: E402
from dashboard.sso import CallbackWatch  # noqa: E402

app = App(
    str(ROOT / "dashboard" / "app.py"),
    middleware=[Middleware(SessionCookie), Middleware(CallbackWatch)],
)
