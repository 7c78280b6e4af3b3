"""Alerts on rows of the High Instance Count scheduled queries: EC2's ("AWS EC2 Compute Abuse High
Instance Count") and the other services' ("AWS Compute Abuse Services High Instance Count")."""

from ec2_compute_windows import shared_dedup, window_named, window_severity

from ec2_compute_config import (
    HIGH_INSTANCE_COUNT_ACCOUNT_THRESHOLD,
    HIGH_INSTANCE_COUNT_SOURCE_IP_THRESHOLD,
    HIGH_INSTANCE_COUNT_THRESHOLD,
    as_int,
    as_list,
    high_instance_count_account_threshold,
    high_instance_count_source_ip_threshold,
    high_instance_count_threshold,
)
from ec2_compute_helpers import as_count, as_text

LISTS = ("principals", "actor_arns", "instance_types", "subnet_ids")
MAX_LISTED_EVENT_IDS = 20


def rule(row):
    # The query already keeps buckets at their window's threshold; checked again, with this
    # rule's configuration, so a row that is not one never alerts.
    threshold = _threshold(row)
    return threshold is not None and _total(row) >= threshold


def _threshold(row):
    """The streaming rule's threshold for the row's window; None for a window it does not keep."""
    kind = as_text(row.get("window_kind"))
    if kind == "principal":
        return as_int(high_instance_count_threshold(), HIGH_INSTANCE_COUNT_THRESHOLD)
    if kind == "source IP":
        return as_int(
            high_instance_count_source_ip_threshold(), HIGH_INSTANCE_COUNT_SOURCE_IP_THRESHOLD
        )
    if kind == "account":
        return as_int(
            high_instance_count_account_threshold(), HIGH_INSTANCE_COUNT_ACCOUNT_THRESHOLD
        )
    return None


def _total(row):
    return as_count(row.get("requested_instances")) or 0


def _refused(row):
    return as_count(row.get("refused_instances")) or 0


def _group(row):
    return as_text(row.get("grouped_value")) or "unknown"


def _who(row):
    kind, principals = as_text(row.get("window_kind")), as_list(row.get("principals"))
    return window_named(kind, _group(row), principals)


def title(row):
    who = _who(row)
    refused = _refused(row)
    tried = f", {refused} refused" if refused else ""
    return (
        f"{who} requested {_total(row)} instances on {as_text(row.get('day')) or '?'} "
        f"(data lake: {as_count(row.get('launch_calls')) or 0} launch call(s){tried})"
    )


def dedup(row):
    # The streaming rule's dedup strings: an alert of each for the same bucket is easy to match
    kind, day = as_text(row.get("window_kind")), as_text(row.get("day"))
    if kind != "principal":
        return shared_dedup(kind, _group(row), day)
    return f"{_group(row)}:{day}"


def severity(row):
    base = "LOW" if _refused(row) >= _total(row) else "MEDIUM"  # nothing launched
    return window_severity(base, _total(row), _threshold(row) or 1, 0)


def alert_context(row):
    context = {
        "window_kind": as_text(row.get("window_kind")),
        "grouped_value": _group(row),
        "day": as_text(row.get("day")),
        "threshold": _threshold(row),
    }
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
