from cpd_common.errors import Conflict, Forbidden, Unauthorized


class WrongPassword(Forbidden):
    code, title = "wrong-password", "Current password not right"


class NoLocalPassword(Conflict):
    title = "No local password"


class ResetNotValid(Unauthorized):
    code, title = "invalid-reset", "Password reset not valid"
