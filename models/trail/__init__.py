"""The evidence trail: what an auditor relies on.

``chain`` is the append-only, hash-chained log itself (every write appends through it, inside the
write's transaction). ``verify`` checks a live store against it, ``history`` rebuilds the store as it
stood at any moment, ``exports``/``export_formats`` write CSV, JSON Lines and the readable report,
``bundle`` writes the signed zip bundle (``bundle_files``: the files regenerated from its events)
and ``bundle_verify`` checks one offline, reading it through ``bundle_zip``. ``keys`` holds the installation's signing
key (outside the database) and ``checkpoints`` the signed chain heads that ``verify`` holds the
store to.

May import: ``models.store``; ``chain`` imports nothing else, the rest may also use ``models.rules``
(permissions, and recording an export through the write path).
"""
