"""The rules and the one write path.

``lifecycle`` (which moves are allowed, what each demands) and ``permissions`` (who may do what)
are checked by every write function here: ``recommendations`` (create, update, attach and
supersede evidence), ``closure`` (the two-person verified closure), ``users``, ``auth`` and
``single_sign_on`` (accounts, passwords and sign-in), each bumping versions and appending the audit
event in the caller's transaction. ``records`` holds the look-ups they share; ``evidence_files`` checks and stores files.
``notifications`` (imported here, so it is registered before any write) tells watchers of each
change in the change's transaction, and keeps watches, read marks and mail preferences.

May import: ``models.store``, ``models.trail.chain``. Nothing outside this package changes rows
(``tests/test_layout.py``).
"""

from models.rules import notifications  # noqa: E402,F401  (registers the fan-out on the chain)
