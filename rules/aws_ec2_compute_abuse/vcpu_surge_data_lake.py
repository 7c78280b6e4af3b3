"""Alerts on rows of the "AWS EC2 Compute Abuse vCPU Surge" scheduled query (queries/)."""

from ec2_compute_windows import window_severity

from ec2_compute_config import as_int, as_list, vcpu_surge_threshold, vcpu_surge_window_seconds
from ec2_compute_helpers import as_count, as_text

DEFAULT_THRESHOLD = 800
GROUP = ("source_ip", "account_id", "actor_name", "actor_upn_suffix", "actor_arn", "user_agent")
MAX_LISTED_EVENT_IDS = 20


def _total(row):
    return as_count(row.get("total_vcpus")) or 0


def rule(row):
    # The query already keeps groups over the threshold; checked again so a row that is not one
    # (a changed query, a test) never alerts.
    return _total(row) > as_int(vcpu_surge_threshold(), DEFAULT_THRESHOLD)


def title(row):
    hours = as_int(vcpu_surge_window_seconds(), 8 * 3600) // 3600
    who = as_text(row.get("actor_name")) or as_text(row.get("actor_arn")) or "unknown actor"
    return (
        f"{who} launched {_total(row)} vCPUs of EC2 within {hours} hours in account "
        f"{as_text(row.get('account_id')) or '?'} (data lake: "
        f"{as_count(row.get('launch_calls')) or 0} launch call(s), "
        f"{as_count(row.get('total_accelerators')) or 0} accelerator(s))"
    )


def dedup(row):
    return "|".join(as_text(row.get(column)) for column in GROUP)


def severity(row):
    threshold = as_int(vcpu_surge_threshold(), DEFAULT_THRESHOLD)
    accelerators = as_count(row.get("total_accelerators")) or 0
    return window_severity("MEDIUM", _total(row), threshold, accelerators)


def alert_context(row):
    context = {column: as_text(row.get(column)) for column in GROUP}
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
