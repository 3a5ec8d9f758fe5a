"""Where a request comes from, for the sign-in throttle (:mod:`models.rules.auth`).

Streamlit gives the address of the connection (none for a browser on this machine). Behind a
reverse proxy every connection comes from the proxy, so ``RECTRACK_CLIENT_ADDRESS_HEADER`` (for
example ``X-Forwarded-For``) names the header the proxy sets; set it only when a proxy you run
sets that header, since a browser can send any header it likes."""

from __future__ import annotations

import streamlit as st

from models.store.settings import get_settings


def client_address() -> str:
    header = get_settings().client_address_header
    try:
        if header:
            forwarded = st.context.headers.get(header)
            if isinstance(forwarded, str) and forwarded.strip():
                return forwarded.split(",")[0].strip()[:100] or "unknown"
        ip = st.context.ip_address
        return ip if isinstance(ip, str) and ip else "local"
    except Exception:  # no request context (a script run outside the server)
        return "unknown"
