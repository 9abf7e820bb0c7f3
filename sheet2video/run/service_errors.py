"""Which service errors stop a whole run (exit 4) rather than fail one row."""

from __future__ import annotations

import re

from sheet2video.errors import ImsError, Sheet2VideoError

__all__ = ["FATAL_CODES", "TRANSIENT_CODES", "ServiceError", "stops_the_run"]

# errors that mean "this run cannot talk to the service", not "this row is wrong"
FATAL_CODES = re.compile(r"^(Signature|IncompleteSignature|InvalidAccessKeyId|InvalidTimeStamp|Forbidden|"
                         r"InvalidSecurityToken|CredentialsUnavailable|ConnectionError|ReadTimeout|RequestFailed|InvalidVersion|InvalidApi)")
# a failing or throttling service that outlasted the client's retries stops the run too (exit 4): the
# ledger keeps the job as it was (Submitting: a rerun resends the same ClientToken) instead of marking
# a row Failed for a hiccup, which --retry-failed would then submit again as a second, billed job
TRANSIENT_CODES = re.compile(r"^(InternalError|ServiceUnavailable|Throttling|HTTP5\d\d)")


class ServiceError(Sheet2VideoError):
    """The service refused this run as a whole (credentials, signature, unreachable): exit 4."""

    exit_code = 4

    def __init__(self, error: ImsError):
        self.ims = error
        super().__init__(str(error))


def stops_the_run(error: ImsError) -> bool:
    """True for an answer about the run (credentials, reachability, an outage), not about one job."""
    return bool(FATAL_CODES.match(error.code or "") or TRANSIENT_CODES.match(error.code or ""))
