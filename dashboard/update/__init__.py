"""The Update page's parts, each readable on one screen: the record being edited and its state
(``record``), the evidence inputs every form shares (``evidence``), the one save transaction
(``saving``), and the three forms: change fields (``change_form``), propose a closure
(``closure_form``) and correct an evidence item (``correction_form``).

The page script (``dashboard/app_pages/update.py``) renders the forms in order, then runs the
handler of the one that was submitted.
"""
