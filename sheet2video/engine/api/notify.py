"""Job completion callbacks (reference §5): ``UserData.NotifyAddress`` gets a POST when a job ends.

The address is the caller's, so the request goes through the engine's callback
:class:`OutboundPolicy` (engine/outbound.py): a refused address (loopback, private … unless
``serve --allow-callback`` opened it) is never contacted, only logged. A callback is not
redirected (a 3xx is the receiver's answer), is tried three times on a 5xx or no answer, and
never fails the job.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from sheet2video.cloud.callback_auth import callback_signature
from sheet2video.engine.api.store import utc_now
from sheet2video.engine.outbound import OutboundError, OutboundPolicy, Refused

__all__ = ["notify"]

log = logging.getLogger("sheet2video.engine")


def notify(job: dict[str, Any], policy: OutboundPolicy, auth_key: str | None) -> None:
    """Post the job's completion event to its NotifyAddress, if it has one, in the background."""
    try:
        address = (json.loads(job["user_data"] or "{}") or {}).get("NotifyAddress")
    except (json.JSONDecodeError, AttributeError):
        return
    if not address or not str(address).startswith(("http://", "https://")):
        return
    event = {
        "EventType": "BatchProduceMediaComplete",
        "UserId": 0,
        "EventTime": utc_now(),
        "MessageBody": {"Status": job["status"], "UserData": job["user_data"], "JobId": job["job_id"]},
    }
    threading.Thread(target=_post, args=(policy, address, event, auth_key), daemon=True, name="callback").start()


def _post(policy: OutboundPolicy, address: str, event: dict[str, Any], auth_key: str | None, tries: int = 3) -> None:
    body = json.dumps(event, ensure_ascii=False).encode()
    for attempt in range(tries):
        headers = {"Content-Type": "application/json"}
        if auth_key:
            stamp = str(int(time.time()))
            headers["X-ICE-TIMESTAMP"] = stamp
            headers["X-ICE-SIGNATURE"] = callback_signature(address, stamp, auth_key)
        try:
            with policy.request("POST", address, body=body, headers=headers, timeout=(5.0, 10.0), redirects=0) as answer:
                if answer.status < 500:
                    return
        except Refused as error:  # checked before anything was sent: the address was never contacted
            log.warning("callback of job %s not sent: %s", event["MessageBody"]["JobId"], error.detail)
            return
        except OutboundError as error:
            log.info("callback to %s: %s", address, error.detail)
        if attempt + 1 < tries:
            time.sleep(0.5 * 2**attempt)  # backoff between callback tries; a failing receiver never fails the job
    log.warning("callback to %s failed after %d tries", address, tries)
