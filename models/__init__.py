"""The domain: the store, its rules, the evidence trail, the catalog, reads and workflows.

Nothing here imports Streamlit, ``dashboard`` or ``cli``: those are the two front doors over this
package. The sub-packages, from the bottom up (each may import only those above it in this list):

==============  ===========================================================================
``store``       tables, input/output schemas, engines and sessions, settings, vocabularies,
                errors, Alembic migrations. Imports nothing else from ``models``.
``trail.chain`` the hash-chained, append-only event log: canonical encoding, hashes, append,
                chain checks. Imports ``store`` only; every write appends through it.
``rules``       lifecycle, permissions and the one write path (recommendations, evidence,
                closure, users, sign-in). The only package that changes rows.
``trail``       (the rest) verification, history ("as of"), exports and bundles.
``reads``       read queries by the subject a page shows; never write.
``catalog``     the seed file format, its checks, the loader, the synthetic-store generator.
``workflow``    reminders, spreadsheet round trips, CSV import (through ``rules``).
==============  ===========================================================================

``tests/test_layout.py`` enforces these directions, the absence of import cycles, and that
only ``rules`` (plus the documented exceptions) writes.
"""
