"""Recommendation Tracker dashboard: the router.

Page config, the handling banner, sign-in, the sidebar, then one ``st.navigation(...).run()``
showing only the pages the signed-in role may use. Pages live in ``app_pages/``; they read
through :mod:`dashboard.data` and write through the domain functions in ``models/``.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` from anywhere
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import data, ui  # noqa: E402
from dashboard.identity import (  # noqa: E402
    current_user,
    session_cookie_html,
    sign_out,
    sso_sign_in,
    sso_sign_out,
)
from dashboard.navigation import page_names_for  # noqa: E402
from models.reads.figures import StoreError  # noqa: E402
from models.reads.notifications import unread_count  # noqa: E402
from models.store.errors import DomainError  # noqa: E402

st.set_page_config(page_title="Recommendation Tracker", page_icon=":material/fact_check:", layout="wide")
ui.banner()
ui.page_css()

# name: (file, title, icon, url path); the first is the default page
PAGE_SPECS = {
    "overview": ("app_pages/overview.py", "Overview", ":material/dashboard:", "overview"),
    "my_items": ("app_pages/my_items.py", "My items", ":material/assignment_late:", "my-items"),
    "notifications": (
        "app_pages/notifications.py",
        "Notifications",
        ":material/notifications:",
        "notifications",
    ),
    "recommendations": (
        "app_pages/recommendations.py",
        "Recommendations",
        ":material/list:",
        "recommendations",
    ),
    "update": ("app_pages/update.py", "Update", ":material/edit:", "update"),
    "verify": ("app_pages/verify.py", "Verify closures", ":material/rule:", "verify"),
    "bulk": ("app_pages/bulk.py", "Bulk edits", ":material/table_edit:", "bulk"),
    "obstacles": ("app_pages/obstacles.py", "Obstacles", ":material/block:", "obstacles"),
    "indicators": ("app_pages/indicators.py", "Indicators", ":material/monitoring:", "indicators"),
    "timeline": ("app_pages/timeline.py", "Timeline", ":material/timeline:", "timeline"),
    "trail": ("app_pages/trail.py", "Evidence trail", ":material/verified:", "trail"),
    "users": ("app_pages/users.py", "Users", ":material/group:", "users"),
    "handover": ("app_pages/handover.py", "Handover", ":material/move_up:", "handover"),
    "account": ("app_pages/account.py", "My account", ":material/person:", "account"),
}


def page(name: str, visible: bool = True, title: str | None = None) -> st.Page:
    file, default_title, icon, url_path = PAGE_SPECS[name]
    return st.Page(
        file,
        title=title or default_title,
        icon=icon,
        url_path=url_path,
        default=name == "overview",
        visibility="visible" if visible else "hidden",
    )


SIGN_IN = st.Page("app_pages/sign_in.py", title="Sign in", icon=":material/login:", url_path="sign-in")


try:
    ui.synthetic_banner()
    sso_sign_in(data.engine())  # a single-sign-on identity back from the provider -> a local account
    user = current_user(data.engine())
except StoreError as e:
    ui.store_down(e)
    st.stop()
if cookie_html := session_cookie_html():  # sets the session cookie after sign-in, clears it after sign-out
    st.html(cookie_html)

if user is None:
    # every page's URL shows the sign-in form, so a link (…/update) survives signing in: the rerun
    # after it opens that page, which then checks the role
    nav = st.navigation(
        [
            SIGN_IN,
            *(
                st.Page("app_pages/sign_in.py", title="Sign in", url_path=spec[3], visibility="hidden")
                for spec in PAGE_SPECS.values()
            ),
        ],
        position="hidden",
    )
else:
    allowed = set(page_names_for(user))
    # every page is registered, so a typed URL reaches the page and meets its refusal; only the
    # pages the role may use are listed
    unread = data.fresh(unread_count, user.username)  # one index count; read marks move no trail head
    titles = {"notifications": f"Notifications ({unread:,} unread)" if unread else "Notifications"}
    pages = {name: page(name, name in allowed, titles.get(name)) for name in PAGE_SPECS}
    # expanded: an admin has more than the ten pages the sidebar shows before a "View more" fold
    nav = st.navigation(list(pages.values()), expanded=True)
    with st.sidebar:
        st.markdown(
            ui.say("**{name}**  \n{role}", name=user.display_name or user.username, role=user.role)
            + (ui.say(" · {office}", office=user.office) if user.office else "")
        )
        st.caption(f":material/notifications: {unread:,} unread notification{'' if unread == 1 else 's'}")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            sign_out("You signed out.")
            if not sso_sign_out():  # ends the provider session too when signed in through it
                st.rerun()

try:
    nav.run()
except StoreError as e:
    ui.store_down(e)
except DomainError as e:
    st.error(ui.refusal(e))
