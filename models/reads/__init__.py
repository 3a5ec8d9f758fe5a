"""Read queries, by the subject a page shows: ``figures`` (the overview), ``records``
(recommendations, their detail and history), ``obstacles``, ``indicators``, ``timeline``,
``trail_page``, ``queues`` (closures awaiting verification, my items), ``digests`` (what each owner
should look at), ``durations`` (time in status) and ``accounts``.

They aggregate in SQL and return plain data (lists of dicts) that pickles into a page cache.
May import: ``models.store``, ``models.trail``, ``models.rules`` (look-ups and permission checks only).
Reads never write.
"""
