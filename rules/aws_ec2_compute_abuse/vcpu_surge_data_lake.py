"""Alerts on rows of the "AWS EC2 Compute Abuse vCPU Surge" scheduled query (queries/)."""

from ec2_compute_windows import window_severity

from ec2_compute_config import (
    VCPU_SURGE_THRESHOLD,
    as_int,
    as_list,
    vcpu_surge_threshold,
    vcpu_surge_window_seconds,
)
from ec2_compute_helpers import as_count, as_text

# Sentinel's grouping fields, per principal: what the principal used while surging
GROUPING_LISTS = ("account_ids", "actor_arns", "source_ips", "user_agents")
MAX_LISTED_EVENT_IDS = 20


def rule(row):
    # The query already keeps groups over the threshold; checked again so a row that is not one
    # (a changed query, a test) never alerts.
    return _total(row) > as_int(vcpu_surge_threshold(), VCPU_SURGE_THRESHOLD)


def _total(row):
    return as_count(row.get("total_vcpus")) or 0


def title(row):
    hours = as_int(vcpu_surge_window_seconds(), 8 * 3600) // 3600
    who = as_text(row.get("principal")) or "unknown principal"
    accounts = ", ".join(as_list(row.get("account_ids"))) or "?"
    return (
        f"{who} launched {_total(row)} vCPUs of EC2 within {hours} hours in account(s) "
        f"{accounts} (data lake: "
        f"{as_count(row.get('launch_calls')) or 0} launch call(s), "
        f"{as_count(row.get('total_accelerators')) or 0} accelerator(s))"
    )


def dedup(row):
    return as_text(row.get("principal"))


def severity(row):
    threshold = as_int(vcpu_surge_threshold(), VCPU_SURGE_THRESHOLD)
    accelerators = as_count(row.get("total_accelerators")) or 0
    return window_severity("MEDIUM", _total(row), threshold, accelerators)


def alert_context(row):
    context = {"principal": as_text(row.get("principal"))}
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
