"""Alerts on rows of the "AWS EC2 Compute Abuse vCPU Surge" scheduled query (queries/)."""

from ec2_compute_windows import shared_dedup, window_named, window_severity

from ec2_compute_config import (
    VCPU_SURGE_ACCOUNT_THRESHOLD,
    VCPU_SURGE_DAY_THRESHOLD,
    VCPU_SURGE_SOURCE_IP_THRESHOLD,
    VCPU_SURGE_THRESHOLD,
    VCPU_SURGE_WEEK_THRESHOLD,
    as_int,
    as_list,
    vcpu_surge_account_threshold,
    vcpu_surge_day_threshold,
    vcpu_surge_source_ip_threshold,
    vcpu_surge_threshold,
    vcpu_surge_week_threshold,
)
from ec2_compute_helpers import as_count, as_text

# Sentinel's grouping fields: what the group's principals used while surging
GROUPING_LISTS = ("principals", "account_ids", "actor_arns", "source_ips", "user_agents")
MAX_LISTED_EVENT_IDS = 20


def rule(row):
    # The query keeps groups over their window's threshold; checked again, with this rule's
    # configuration, so a row that is not one (a changed query, a test) never alerts.
    threshold = _threshold(row)
    return threshold is not None and _total(row) > threshold


def _threshold(row):
    """The streaming rule's threshold for the row's window; None for a window it does not keep."""
    kind, span = as_text(row.get("window_kind")), as_text(row.get("span"))
    if kind == "principal":
        if span == "24 hours":
            return as_int(vcpu_surge_day_threshold(), VCPU_SURGE_DAY_THRESHOLD)
        if span == "7 days":
            return as_int(vcpu_surge_week_threshold(), VCPU_SURGE_WEEK_THRESHOLD)
        return as_int(vcpu_surge_threshold(), VCPU_SURGE_THRESHOLD)
    if kind == "source IP":
        return as_int(vcpu_surge_source_ip_threshold(), VCPU_SURGE_SOURCE_IP_THRESHOLD)
    if kind == "account":
        return as_int(vcpu_surge_account_threshold(), VCPU_SURGE_ACCOUNT_THRESHOLD)
    return None


def _total(row):
    return as_count(row.get("total_vcpus")) or 0


def _group(row):
    return as_text(row.get("grouped_value")) or "unknown"


def _who(row):
    kind, principals = as_text(row.get("window_kind")), as_list(row.get("principals"))
    return window_named(kind, _group(row), principals)


def title(row):
    who = _who(row)
    accounts = ", ".join(as_list(row.get("account_ids"))) or "?"
    return (
        f"{who} launched {_total(row)} vCPUs of {_compute(row)} within "
        f"{as_text(row.get('span')) or '?'} in "
        f"account(s) {accounts} (data lake: "
        f"{as_count(row.get('launch_calls')) or 0} launch call(s), "
        f"{as_count(row.get('total_accelerators')) or 0} accelerator(s))"
    )


def _compute(row):
    # the Services vCPU Surge query's rows count other services' calls: not EC2 alone
    return "compute" if as_count(row.get("service_calls")) else "EC2"


def dedup(row):
    # The streaming rule's dedup strings: an alert of each for the same window is easy to match
    kind, span, group = as_text(row.get("window_kind")), as_text(row.get("span")), _group(row)
    if kind != "principal":
        return shared_dedup(kind, group)
    return {"24 hours": f"{group}:24h", "7 days": f"{group}:7d"}.get(span, group)


def severity(row):
    accelerators = as_count(row.get("total_accelerators")) or 0
    return window_severity("MEDIUM", _total(row), _threshold(row) or 1, accelerators)


def alert_context(row):
    context = {
        "window_kind": as_text(row.get("window_kind")),
        "grouped_value": _group(row),
        "span": as_text(row.get("span")),
        "threshold": _threshold(row),
    }
    context.update({column: as_list(row.get(column)) for column in GROUPING_LISTS})
    context.update(
        {
            "total_vcpus": _total(row),
            "total_accelerators": as_count(row.get("total_accelerators")) or 0,
            "launch_calls": as_count(row.get("launch_calls")) or 0,
            "instances": as_count(row.get("instances")) or 0,
            "first_launch": as_text(row.get("first_launch")),
            "last_launch": as_text(row.get("last_launch")),
            "event_ids": as_list(row.get("event_ids"))[:MAX_LISTED_EVENT_IDS],
        }
    )
    return context
