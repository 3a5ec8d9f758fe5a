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

from models.errors import DomainError  # noqa: E402
from models.overview import StoreError  # noqa: E402

from dashboard import data, ui  # noqa: E402
from dashboard.identity import current_user, sign_out  # noqa: E402
from dashboard.navigation import page_names_for  # noqa: E402

st.set_page_config(page_title="Recommendation Tracker", page_icon=":material/fact_check:", layout="wide")
ui.banner()

PAGES = {
    "overview": st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    "recommendations": st.Page("app_pages/recommendations.py", title="Recommendations", icon=":material/list:", url_path="recommendations"),
    "update": st.Page("app_pages/update.py", title="Update", icon=":material/edit:", url_path="update"),
    "obstacles": st.Page("app_pages/obstacles.py", title="Obstacles", icon=":material/block:", url_path="obstacles"),
    "indicators": st.Page("app_pages/indicators.py", title="Indicators", icon=":material/monitoring:", url_path="indicators"),
    "timeline": st.Page("app_pages/timeline.py", title="Timeline", icon=":material/timeline:", url_path="timeline"),
    "trail": st.Page("app_pages/trail.py", title="Evidence trail", icon=":material/verified:", url_path="trail"),
}
SIGN_IN = st.Page("app_pages/sign_in.py", title="Sign in", icon=":material/login:", url_path="sign-in")


try:
    user = current_user(data.engine())
except StoreError as e:
    ui.store_down(e)
    st.stop()

if user is None:
    nav = st.navigation([SIGN_IN], position="hidden")
else:
    nav = st.navigation([PAGES[name] for name in page_names_for(user)])
    with st.sidebar:
        st.markdown(f"**{user.display_name or user.username}**  \n{user.role}"
                    + (f" · {user.office}" if user.office else ""))
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            sign_out("You signed out.")
            st.rerun()

try:
    nav.run()
except StoreError as e:
    ui.store_down(e)
except DomainError as e:
    st.error(str(e))
