"""Exports of the evidence trail (CSV, JSON Lines, HTML report, zip bundle).

STUB: the lead fills this in with models/exports.py (the evidence-trail issue).
"""

import streamlit as st


def render_exports(engine, user) -> None:
    st.info("Exports arrive with the evidence-trail issue")
