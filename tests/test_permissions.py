"""The permission matrix, role by role, against the domain functions themselves."""

import io

import pytest
from helpers import make_rec
from sqlmodel import select

from models.catalog.checks import load_catalog
from models.catalog.loader import seed_catalog
from models.rules.evidence_files import store_file
from models.rules.recommendations import attach_evidence, update_recommendation
from models.rules.records import get_recommendation
from models.rules.users import add_user, set_role
from models.store.db import write_session
from models.store.errors import PermissionDenied
from models.store.schemas import EvidenceCreate, RecommendationUpdate, UserCreate
from models.store.tables import User
from models.workflow.csv_import import import_recommendations, parse_recommendations_csv

ROLE_USER = {"viewer": "vic", "editor": "ed", "auditor": "aud", "admin": "adm"}


def _update(s, user):
    rec = get_recommendation(s, "rec-a")
    update_recommendation(
        s,
        key="rec-a",
        actor=user,
        change=RecommendationUpdate(expected_version=rec.version, status="accepted", reason="r"),
    )


def _attach(s, user):
    stored = store_file(io.BytesIO(b"x"), "note.txt")
    attach_evidence(
        s, keys=["rec-a"], actor=user, reason="r", files=[stored], evidence=EvidenceCreate(title="t")
    )


def _import(s, user):
    rows = parse_recommendations_csv(
        b"key,title,summary,theme,who_must_act,owner\nnew-1,T,S,research,us,OSD\n"
    )
    import_recommendations(s, rows=rows, actor=user, filename="f.csv")


def _seed(s, user):
    seed_catalog(s, catalog=load_catalog("seeds"), actor=user)


def _add_user(s, user):
    add_user(s, data=UserCreate(username="newbie", role="viewer"), actor=user)


def _set_role(s, user):
    set_role(s, username="vic", role="auditor", actor=user)


MATRIX = {  # action: roles allowed
    _update: {"editor", "admin"},
    _attach: {"editor", "admin"},
    _import: {"editor", "admin"},
    _seed: {"admin"},
    _add_user: {"admin"},
    _set_role: {"admin"},
}


@pytest.mark.parametrize("role", list(ROLE_USER))
@pytest.mark.parametrize("action", list(MATRIX), ids=lambda f: f.__name__.strip("_"))
def test_permission_matrix(engine, users, role, action):
    make_rec(engine)
    allowed = role in MATRIX[action]
    try:
        with write_session(engine) as s:
            user = s.exec(select(User).where(User.username == ROLE_USER[role])).one()
            action(s, user)
    except PermissionDenied as e:
        assert not allowed, f"{role} should be allowed to {action.__name__}: {e}"
    else:
        assert allowed, f"{role} must not be able to {action.__name__}"
