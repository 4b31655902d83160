from cpd_common.errors import Conflict, NotFound


class TrustNotFound(NotFound):
    title = "Trust not found"


class SchoolNotFound(NotFound):
    title = "School not found"


class PersonNotFound(NotFound):
    title = "Person not found"


class GroupNotFound(NotFound):
    title = "Group not found"


class ClientNotFound(NotFound):
    title = "API client not found"


class EmailTaken(Conflict):
    code, title = "email-unusable", "Email cannot be used"


class UserNameTaken(Conflict):
    title = "User name already in use"


class ExternalIdTaken(Conflict):
    title = "External id already in use"


class ClientIdTaken(Conflict):
    title = "client_id already in use"


class PersonErased(Conflict):
    title = "Person erased"


class ClientRevoked(Conflict):
    title = "API client revoked"
