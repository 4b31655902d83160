"""The SCIM resources the gateway serves (RFC 7643), declared with scim2-models so that
``/Schemas`` publishes exactly what the directory stores: a User is a directory person, a
Group a directory group. Attributes the directory has no place for are not declared, so a
client writing one gets ``invalidPath``/``invalidValue`` instead of having it dropped."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Union

from pydantic import EmailStr, Field
from scim2_models import (
    URN,
    CaseExact,
    ComplexAttribute,
    ExtensibleStringEnum,
    Extension,
    Mutability,
    Reference,
    Required,
    Resource,
    Uniqueness,
)
from scim2_models.resources.resource import AnyExtension

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CPD_USER = "urn:ietf:params:scim:schemas:extension:cpd:2.0:User"


class Name(ComplexAttribute):
    """The person's name; the directory keeps one display name, so ``formatted`` is it."""

    formatted: str | None = None
    """The full name, as shown to colleagues (the directory's ``name``)."""

    family_name: str | None = None
    """The family name."""

    given_name: str | None = None
    """The given name."""


class Email(ComplexAttribute):
    class Type(ExtensibleStringEnum):
        work = "work"
        home = "home"
        other = "other"

    value: EmailStr | None = None
    """The address; the primary (else the work, else the first) one is the person's
    sign-in name, unique across the platform."""

    type: Type | None = None
    """What kind of address it is."""

    primary: bool | None = None
    """Whether it is the person's sign-in address."""


class GroupMembership(ComplexAttribute):
    value: Annotated[str | None, Mutability.read_only] = None
    """The id of a group the person belongs to."""

    ref: Annotated[Reference[Group] | None, Mutability.read_only] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    """The URI of the group."""

    display: Annotated[str | None, Mutability.read_only] = None
    """The group's name."""


class User(Resource[AnyExtension]):
    """A member of staff (a directory person)."""

    __schema__ = URN(CORE_USER)

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    """The identifier the HR system knows the person by, unique within the trust."""

    name: Name | None = None
    """The person's name."""

    Name: ClassVar[type[ComplexAttribute]] = Name

    display_name: str | None = None
    """The name shown to colleagues (the directory's ``name``)."""

    active: bool | None = None
    """Whether the person can sign in and appears in new audiences; false deactivates."""

    emails: list[Email] | None = None
    """Email addresses; the directory keeps one, the sign-in address."""

    Emails: ClassVar[type[ComplexAttribute]] = Email

    groups: Annotated[list[GroupMembership] | None, Mutability.read_only] = None
    """The directory groups the person is a member of."""

    Groups: ClassVar[type[ComplexAttribute]] = GroupMembership


class Manager(ComplexAttribute):
    value: Annotated[str | None, CaseExact.true] = None
    """The id of the person's line manager, a User of the same trust."""

    ref: Annotated[Reference[User] | None, Mutability.read_write] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    """The URI of the line manager."""

    display_name: Annotated[str | None, Mutability.read_only] = None
    """The line manager's name."""


class EnterpriseUser(Extension):
    """RFC 7643 section 4.3, as far as the directory keeps it."""

    __schema__ = URN(ENTERPRISE_USER)

    employee_number: str | None = None
    """The HR system's payroll or staff number."""

    organization: Annotated[str | None, Mutability.read_only] = None
    """The trust the person works for (set by the client's trust, never by the payload)."""

    department: str | None = None
    """The department or phase team."""

    manager: Manager | None = None
    """The line manager."""


STAFF_GROUPS = ["teacher", "teaching_assistant", "support", "leader", "governor"]
CAREER_STAGES = ["ect", "early_career", "mid_career", "experienced"]
FTE_EXAMPLES = ["1.0", "0.8", "0.6", "0.5", "0.4", "0.2"]


class School(ComplexAttribute):
    value: Annotated[str | None, Required.true, CaseExact.true] = None
    """The id of a school of the trust (``/v1/schools``)."""

    display: Annotated[str | None, Mutability.read_only] = None
    """The school's name."""


class CpdUser(Extension):
    """What the CPD platform needs beyond the enterprise extension."""

    __schema__ = URN(CPD_USER)

    schools: list[School] | None = None
    """The schools the person works at."""

    staff_group: str | None = Field(None, examples=STAFF_GROUPS)
    """One of teacher, teaching_assistant, support, leader, governor."""

    career_stage: str | None = Field(None, examples=CAREER_STAGES)
    """One of ect, early_career, mid_career, experienced."""

    fte: str | None = Field(None, examples=FTE_EXAMPLES)
    """Full-time equivalent, a decimal from 0 to 1 written as a string (e.g. "0.8"): HR
    systems' SCIM mappings (Entra ID's among them) have no decimal type."""

    start_date: datetime | None = None
    """The day the person started (the time of day is ignored)."""


class GroupMember(ComplexAttribute):
    value: Annotated[str | None, Mutability.immutable, CaseExact.true] = None
    """The id of a User of the trust (groups hold people, not other groups)."""

    ref: Annotated[Reference[User] | None, Mutability.immutable] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    """The URI of the member."""

    type: Annotated[str | None, Mutability.immutable] = Field(None, examples=["User"])
    """Always ``User``."""

    display: Annotated[str | None, Mutability.read_only] = None
    """The member's name."""


class Group(Resource[Any]):
    """A directory group of people (a phase team, a department, a lesson-study triad)."""

    __schema__ = URN(CORE_GROUP)

    display_name: Annotated[str | None, Required.true] = None
    """The group's name."""

    members: list[GroupMember] | None = None
    """The people in the group."""

    Members: ClassVar[type[ComplexAttribute]] = GroupMember


ScimUser = User[Union[EnterpriseUser, CpdUser]]  # noqa: UP007
