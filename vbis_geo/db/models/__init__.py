"""The declarative models, one module per aggregate. Importing this package registers them all."""

from vbis_geo.db.models.accounts import (
    Account,
    AccountScope,
    ApiToken,
    LoginFailure,
    PublicContribution,
)
from vbis_geo.db.models.admin import AdminUnit, AdminUnitLineage
from vbis_geo.db.models.areas import Ecosystem, PlanningZone, Wetland
from vbis_geo.db.models.datasets import Dataset
from vbis_geo.db.models.facilities import ConservationFacility
from vbis_geo.db.models.occurrences import Occurrence
from vbis_geo.db.models.protected_areas import PADesignation, PAZone, ProtectedArea
from vbis_geo.db.models.taxa import SensitivityOverride, Taxon, TaxonStatus

__all__ = [
    "Account",
    "AccountScope",
    "ApiToken",
    "LoginFailure",
    "PublicContribution",
    "AdminUnit",
    "AdminUnitLineage",
    "ConservationFacility",
    "Dataset",
    "Ecosystem",
    "Occurrence",
    "PADesignation",
    "PAZone",
    "PlanningZone",
    "ProtectedArea",
    "SensitivityOverride",
    "Taxon",
    "TaxonStatus",
    "Wetland",
]

#: Tables with a geometry, in the order they are published as OGC API collections.
SPATIAL_MODELS = (
    AdminUnit,
    ProtectedArea,
    PAZone,
    Wetland,
    Ecosystem,
    PlanningZone,
    ConservationFacility,
    Occurrence,
)
