"""Alerts on rows of the "AWS EC2 Compute Abuse High Instance Count" scheduled query."""

from ec2_compute_windows import window_severity

from ec2_compute_config import as_int, as_list, high_instance_count_threshold
from ec2_compute_helpers import as_count, as_text

DEFAULT_THRESHOLD = 10
BUCKET = ("actor_arn", "day", "subnet_id", "instance_type", "outcome")
MAX_LISTED_EVENT_IDS = 20


def _total(row):
    return as_count(row.get("requested_instances")) or 0


def rule(row):
    # The query already keeps buckets at the threshold; checked again so a row that is not one
    # never alerts.
    return _total(row) >= as_int(high_instance_count_threshold(), DEFAULT_THRESHOLD)


def title(row):
    verb = "requested" if as_text(row.get("outcome")) == "success" else "tried and failed to get"
    who = as_text(row.get("actor_name")) or as_text(row.get("actor_arn")) or "unknown actor"
    return (
        f"{who} {verb} {_total(row)} EC2 instances of {as_text(row.get('instance_type')) or '?'} "
        f"on {as_text(row.get('day')) or '?'} in account {as_text(row.get('account_id')) or '?'} "
        f"(data lake: {as_count(row.get('launch_calls')) or 0} launch call(s))"
    )


def dedup(row):
    return ":".join(as_text(row.get(column)) for column in BUCKET)


def severity(row):
    base = "MEDIUM" if as_text(row.get("outcome")) == "success" else "LOW"
    threshold = as_int(high_instance_count_threshold(), DEFAULT_THRESHOLD)
    return window_severity(base, _total(row), threshold, 0)


def alert_context(row):
    context = {column: as_text(row.get(column)) for column in (*BUCKET, "actor_name", "account_id")}
    context.update(
        {
            "requested_instances": _total(row),
            "launch_calls": as_count(row.get("launch_calls")) or 0,
            "first_call": as_text(row.get("first_call")),
            "last_call": as_text(row.get("last_call")),
            "error_codes": [code for code in as_list(row.get("error_codes")) if code],
            "event_ids": as_list(row.get("event_ids"))[:MAX_LISTED_EVENT_IDS],
        }
    )
    return context
