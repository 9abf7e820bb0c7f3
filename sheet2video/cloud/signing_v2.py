"""V2 RPC request signing (``HMAC-SHA1``, the ``Signature`` parameter): the older scheme that
``aliyun-python-sdk-core`` and tea-openapi ``signature_algorithm='v2'`` still send
(``reference/ims-api.md`` §5.3). The server checks it with
:func:`sheet2video.cloud.signature_check.verify_v2`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from sheet2video.cloud.canonical import canonical_query_string, percent_encode

__all__ = ["V2_SIGNATURE_PARAMS", "sign_v2", "string_to_sign_v2"]

#: The V2 parameters that sign a request; they are not parameters of the action itself.
V2_SIGNATURE_PARAMS = frozenset(
    {"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "SignatureType",
     "Timestamp", "SecurityToken", "Format", "Action", "Version"}
)


def string_to_sign_v2(method: str, params: Mapping[str, Any]) -> str:
    """``METHOD&%2F&pe(CanonicalizedQueryString)`` over every parameter except ``Signature``."""
    signed = {k: v for k, v in params.items() if k != "Signature" and v is not None}
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query_string(signed))}"


def sign_v2(method: str, params: Mapping[str, Any], secret: str) -> str:
    """Base64 HMAC-SHA1 keyed with ``secret + "&"`` — the value of the ``Signature`` parameter.
    ``params`` are all query *and* form-body parameters together."""
    digest = hmac.new(
        (secret + "&").encode("utf-8"), string_to_sign_v2(method, params).encode("utf-8"), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode("ascii")
