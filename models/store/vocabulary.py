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
    "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73", "yellow": "#F0E442",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7", "black": "#000000",
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

#: ``Recommendation.origin`` of the records ``rectrack demo`` generates.
SYNTHETIC_ORIGIN = "synthetic"
