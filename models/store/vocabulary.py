"""The controlled vocabularies shared by the catalog, the store, imports and the dashboard.

One list per idea, so a seed file, a CSV import and a page filter can never disagree on
what "counter_drug" or "in_progress" means.
"""

from enum import Enum


class RecommendationKind(str, Enum):
    explicit = "explicit"
    implied = "implied"
    historical_proposal = "historical_proposal"
    research_agenda = "research_agenda"
    existing_policy = "existing_policy"


class Confidence(str, Enum):
    high = "high"
    medium = "medium"
    low = "low"


class Actor(str, Enum):
    """Who must act: one government, or ``both`` (the U.S. and its partner), or ``regional``."""

    us = "us"
    mexico = "mexico"
    colombia = "colombia"
    both = "both"
    regional = "regional"


class Theme(str, Enum):
    defense_institutions = "defense_institutions"
    bilateral_mechanisms = "bilateral_mechanisms"
    education_training = "education_training"
    counter_drug = "counter_drug"
    interagency_coordination = "interagency_coordination"
    security_assistance = "security_assistance"
    command_structure = "command_structure"
    human_rights_civil_military = "human_rights_civil_military"
    regional_cooperation = "regional_cooperation"
    information_sharing = "information_sharing"
    assessment = "assessment"
    research = "research"


class ObstacleCategory(str, Enum):
    historical = "historical"
    legal_constitutional = "legal_constitutional"
    institutional = "institutional"
    political = "political"
    budgetary = "budgetary"
    cultural = "cultural"
    organizational = "organizational"
    capacity = "capacity"
    human_rights = "human_rights"
    other = "other"


class InstitutionKind(str, Enum):
    program = "program"
    organization = "organization"
    mechanism = "mechanism"
    command = "command"
    school = "school"
    agreement = "agreement"
    law = "law"
    ministry = "ministry"
    agency = "agency"


class Country(str, Enum):
    us = "us"
    mexico = "mexico"
    colombia = "colombia"
    canada = "canada"
    latin_america = "latin_america"
    both = "both"
    other = "other"


STATUSES = (
    "proposed",
    "under_review",
    "accepted",
    "in_progress",
    "on_hold",
    "implemented",
    "not_implemented",
)


# Status colours shared by every chart, the exported report and the status chips: the
# Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), which stays distinguishable
# with the common colour-vision deficiencies.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "black": "#000000",
}
STATUS_COLORS: dict[str, str] = {
    "proposed": OKABE_ITO["sky_blue"],
    "under_review": OKABE_ITO["yellow"],
    "accepted": OKABE_ITO["blue"],
    "in_progress": OKABE_ITO["orange"],
    "on_hold": OKABE_ITO["reddish_purple"],
    "implemented": OKABE_ITO["bluish_green"],
    "not_implemented": OKABE_ITO["vermillion"],
}

# ---------------------------------------------------------------- human labels
# What a reader sees for each identifier, in charts, tables, the briefing and mails. One table per
# vocabulary, so "bilateral_mechanisms" never reaches a page and two pages never word it differently.

STATUS_LABELS = {
    "proposed": "Proposed",
    "under_review": "Under review",
    "accepted": "Accepted",
    "in_progress": "In progress",
    "on_hold": "On hold",
    "implemented": "Implemented",
    "not_implemented": "Not implemented",
}
# A record that describes a policy already in force or a decades-old proposal was never "proposed" to
# anyone reading the tracker: while no source reports a status for it, it says so instead.
UNCLAIMED_STATUS_KINDS = ("existing_policy", "historical_proposal")
NO_STATUS_CLAIMED = "No status claimed"


#: the figures' bucket for those records (never a stored status: it is the starting status of a
#: record of an unclaimed kind), so counts, charts and exports show them apart from real proposals
UNCLAIMED = "unclaimed"
FIGURE_STATUSES = (STATUSES[0], UNCLAIMED, *STATUSES[1:])
#: the status colours plus a neutral grey for "No status claimed", so no colour is read into it
FIGURE_COLORS = {s: STATUS_COLORS.get(s, "#BBBBBB") for s in FIGURE_STATUSES}


def figure_status(status: str, kind: str | None) -> str:
    """The status a figure counts a record under: its own, or ``unclaimed`` (see :func:`status_shown`)."""
    return UNCLAIMED if status == STATUSES[0] and kind in UNCLAIMED_STATUS_KINDS else status


def status_shown(status: str | None, kind: str | None = None) -> str:
    """The status as a reader should see it: the label, or "No status claimed" for a record of a kind
    that cannot be pending a decision while it still stands at the catalog's starting status."""
    if status == UNCLAIMED or (status == STATUSES[0] and kind in UNCLAIMED_STATUS_KINDS):
        return NO_STATUS_CLAIMED
    return STATUS_LABELS.get(status or "", status or "")


def owner_shown(owner: str, inferred: bool) -> str:
    """The owner as every table, export and briefing shows it: marked where no source names the office."""
    return f"{owner} (inferred)" if inferred else owner


def owners_shown(owner: str, inferred: int, total: int) -> str:
    """An office in a tally (a chart bar, a filter): how many of its records' owners are inferred."""
    if inferred and inferred == total:
        return f"{owner} (inferred)"
    return f"{owner} ({inferred} of {total} inferred)" if inferred else owner


THEME_LABELS = {
    "defense_institutions": "Defense institutions",
    "bilateral_mechanisms": "Bilateral mechanisms",
    "education_training": "Education and training",
    "counter_drug": "Counter-drug",
    "interagency_coordination": "Interagency coordination",
    "security_assistance": "Security assistance",
    "command_structure": "Command structure",
    "human_rights_civil_military": "Human rights and civil-military relations",
    "regional_cooperation": "Regional cooperation",
    "information_sharing": "Information sharing",
    "assessment": "Assessment",
    "research": "Research",
}
KIND_LABELS = {
    "explicit": "Explicit recommendation",
    "implied": "Implied recommendation",
    "historical_proposal": "Historical proposal",
    "research_agenda": "Research agenda",
    "existing_policy": "Existing policy",
}
ACTOR_LABELS = {
    "us": "United States",
    "mexico": "Mexico",
    "colombia": "Colombia",
    "both": "Both governments",
    "regional": "Regional partners",
}
COUNTRY_LABELS = {
    "us": "United States",
    "mexico": "Mexico",
    "colombia": "Colombia",
    "canada": "Canada",
    "latin_america": "Latin America",
    "both": "Both",
    "other": "Other",
}
CATEGORY_LABELS = {
    "historical": "Historical",
    "legal_constitutional": "Legal and constitutional",
    "institutional": "Institutional",
    "political": "Political",
    "budgetary": "Budgetary",
    "cultural": "Cultural",
    "organizational": "Organizational",
    "capacity": "Capacity",
    "human_rights": "Human rights",
    "other": "Other",
}
#: an action plan step's status (models.rules.steps); dropped steps do not count towards progress
STEP_STATUS_LABELS = {
    "not_started": "Not started",
    "in_progress": "In progress",
    "done": "Done",
    "dropped": "Dropped",
}
STEP_STATUSES = tuple(STEP_STATUS_LABELS)
#: an obstacle's standing for one recommendation (models.rules.obstacles)
OBSTACLE_STATE_LABELS = {
    "blocking": "Blocking",
    "resolved": "Resolved",
    "no_longer_blocking": "No longer blocking",
}
OBSTACLE_STATES = tuple(OBSTACLE_STATE_LABELS)
LABELS = {
    "status": STATUS_LABELS,
    "step_status": STEP_STATUS_LABELS,
    "obstacle_state": OBSTACLE_STATE_LABELS,
    "theme": THEME_LABELS,
    "kind": KIND_LABELS,
    "who_must_act": ACTOR_LABELS,
    "country": COUNTRY_LABELS,
    "side": COUNTRY_LABELS,
    "category": CATEGORY_LABELS,
}


def human(vocabulary: str, value: object) -> str:
    """The reader's word for ``value`` of a vocabulary (``human("theme", "counter_drug")``); a value
    outside it (a user's owner string, a future identifier) is shown as it is, an empty one as "—"."""
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return "—"
    table = LABELS.get(vocabulary, {})
    if value in table:
        return table[value]
    text = str(value)
    return (
        text.replace("_", " ").capitalize()
        if vocabulary in LABELS and "_" in text and " " not in text
        else text
    )


#: ``Recommendation.origin`` of the records ``rectrack demo`` generates.
SYNTHETIC_ORIGIN = "synthetic"
