"""Work that spans many records: ``reminders`` (daily digests by mail or file), ``bulk_export`` and
``bulk_edits`` with ``edit_files`` (spreadsheet round trips: applying, reading), ``csv_import`` (new recommendations from a file). Every change
goes through ``models.rules``.

May import: ``models.store``, ``models.trail``, ``models.rules``, ``models.reads``.
"""
