"""Dashboard entry point (placeholder until the full multipage app lands)."""

import streamlit as st

from models.db import make_engine, read_session
from models.queries import list_recommendations

st.set_page_config(page_title="Recommendation Tracker", layout="wide")


@st.cache_resource
def engine():
    return make_engine()


st.title("Recommendation Tracker")
with read_session(engine()) as s:
    recs = list_recommendations(s)
st.dataframe([{"key": r.key, "status": r.status, "title": r.title, "owner": r.owner} for r in recs])
