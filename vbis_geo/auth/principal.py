"""Who is asking: a :class:`Principal`, built once per request, or :data:`PUBLIC`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vbis_geo.db.models.accounts import EDITING_ROLES
from vbis_geo.errors import Forbidden, NotAuthorized

PUBLIC_ROLE = "public"


@dataclass(frozen=True)
class Scopes:
    """What an account's rights extend to, as granted.

    ``provinces`` are the admin_units codes granted (of the 63 or of the 34);
    ``province_codes`` adds the 63 codes of the provinces merged whole into a granted 34-unit
    (after the 2025 reform an editor of a merged province edits what lies in it, including
    records still tagged with an old code). A granted pre-2025 province does not extend to the
    merged unit it became part of. ``taxa`` are taxon ids, each standing for its descendants.
    """

    provinces: frozenset[str] = frozenset()
    province_codes: frozenset[str] = frozenset()
    protected_areas: frozenset[str] = frozenset()
    facilities: frozenset[str] = frozenset()
    taxa: frozenset[int] = frozenset()

    def as_dict(self) -> dict[str, list[Any]]:
        return {
            "provinces": sorted(self.provinces),
            "province_codes": sorted(self.province_codes),
            "protected_areas": sorted(self.protected_areas),
            "facilities": sorted(self.facilities),
            "taxa": sorted(self.taxa),
        }


@dataclass(frozen=True)
class Principal:
    """An authenticated account (``via`` a token or the portal session), or the public."""

    account_id: int | None
    username: str | None
    display_name: str | None
    role: str
    scopes: Scopes = field(default_factory=Scopes)
    exact_locations: bool = False
    #: "token", "session", or None for the public
    via: str | None = None
    token_id: int | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.account_id is not None

    @property
    def is_admin(self) -> bool:
        return self.role == "national_admin"

    @property
    def may_edit(self) -> bool:
        """Whether the role contributes data at all (where is a matter of scopes)."""
        return self.role in EDITING_ROLES

    @property
    def sees_exact_locations(self) -> bool:
        return self.is_admin or self.exact_locations

    def as_dict(self) -> dict[str, Any]:
        """What ``GET /api/me`` answers."""
        return {
            "authenticated": self.is_authenticated,
            "username": self.username,
            "display_name": self.display_name,
            "role": self.role,
            "scopes": self.scopes.as_dict(),
            "exact_locations": self.sees_exact_locations,
            "via": self.via,
        }


PUBLIC = Principal(account_id=None, username=None, display_name=None, role=PUBLIC_ROLE)


def require_authenticated(principal: Principal, action: str) -> None:
    """Raise :class:`NotAuthorized` (401) when ``principal`` is the public."""
    if not principal.is_authenticated:
        raise NotAuthorized(
            f"{action} needs an account",
            hint="log in to the portal, or send 'Authorization: Bearer <API token>'",
        )


def require_editing_role(principal: Principal, action: str) -> None:
    """Raise :class:`NotAuthorized` for the public and :class:`Forbidden` (403) for a role
    that does not contribute data."""
    require_authenticated(principal, action)
    if not principal.may_edit:
        raise Forbidden(f"{action} needs an editing role; {principal.username} is {principal.role}")
