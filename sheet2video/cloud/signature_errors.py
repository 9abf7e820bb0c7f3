"""The error a request that fails authentication raises, with the gateway's codes and statuses."""

from __future__ import annotations

from sheet2video.errors import ImsError

__all__ = ["SignatureError"]

# HTTP status of each signature error, as the Alibaba Cloud gateway answers it.
_STATUS = {
    "IncompleteSignature": 400,
    "SignatureDoesNotMatch": 400,
    "InvalidAccessKeyId.NotFound": 404,
    "InvalidTimeStamp.Format": 400,
    "InvalidTimeStamp.Expired": 400,
    "SignatureNonceUsed": 400,
}


class SignatureError(ImsError):
    """A request failed authentication; ``code`` is the gateway's error code.

    Codes: ``IncompleteSignature``, ``InvalidAccessKeyId.NotFound``, ``SignatureDoesNotMatch``,
    ``InvalidTimeStamp.Format``, ``InvalidTimeStamp.Expired`` (and ``SignatureNonceUsed`` for
    servers that track nonces). ``http_status`` defaults to what the cloud answers (400, or 404
    for an unknown key).
    """

    def __init__(self, code: str, message: str, request_id: str | None = None, http_status: int | None = None):
        super().__init__(code, message, request_id, http_status if http_status is not None else _STATUS.get(code, 400))
