"""Alerts on rows of the "AWS EC2 Compute Abuse High Instance Count" scheduled query."""

from ec2_compute_windows import window_severity

from ec2_compute_config import (
    HIGH_INSTANCE_COUNT_THRESHOLD,
    as_int,
    as_list,
    high_instance_count_threshold,
)
from ec2_compute_helpers import as_count, as_text

BUCKET = ("principal", "day")
LISTS = ("actor_arns", "instance_types", "subnet_ids")
MAX_LISTED_EVENT_IDS = 20


def rule(row):
    # The query already keeps buckets at the threshold; checked again so a row that is not one
    # never alerts.
    return _total(row) >= as_int(high_instance_count_threshold(), HIGH_INSTANCE_COUNT_THRESHOLD)


def _total(row):
    return as_count(row.get("requested_instances")) or 0


def _refused(row):
    return as_count(row.get("refused_instances")) or 0


def title(row):
    who = as_text(row.get("principal")) or "unknown principal"
    refused = _refused(row)
    tried = f", {refused} refused" if refused else ""
    return (
        f"{who} requested {_total(row)} EC2 instances on {as_text(row.get('day')) or '?'} in "
        f"account {as_text(row.get('account_id')) or '?'} "
        f"(data lake: {as_count(row.get('launch_calls')) or 0} launch call(s){tried})"
    )


def dedup(row):
    return ":".join(as_text(row.get(column)) for column in BUCKET)


def severity(row):
    base = "LOW" if _refused(row) >= _total(row) else "MEDIUM"  # nothing launched
    threshold = as_int(high_instance_count_threshold(), HIGH_INSTANCE_COUNT_THRESHOLD)
    return window_severity(base, _total(row), threshold, 0)


def alert_context(row):
    context = {column: as_text(row.get(column)) for column in (*BUCKET, "account_id")}
    context.update({column: as_list(row.get(column)) for column in LISTS})
    context.update(
        {
            "requested_instances": _total(row),
            "refused_instances": _refused(row),
            "launch_calls": as_count(row.get("launch_calls")) or 0,
            "first_call": as_text(row.get("first_call")),
            "last_call": as_text(row.get("last_call")),
            "error_codes": [code for code in as_list(row.get("error_codes")) if code],
            "event_ids": as_list(row.get("event_ids"))[:MAX_LISTED_EVENT_IDS],
        }
    )
    return context
