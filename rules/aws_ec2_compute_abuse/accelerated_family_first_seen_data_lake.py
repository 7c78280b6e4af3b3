"""Alerts on rows of the "AWS EC2 Compute Abuse Accelerated Family First Seen" scheduled query."""

from ec2_compute_config import (
    as_int,
    as_list,
    first_seen_days,
    unusual_instance_types,
    usual_instance_types,
)
from ec2_compute_helpers import accelerator_kinds, as_count, as_text, unusual_types

MAX_LISTED_EVENT_IDS = 20
LISTS = ("principals", "regions", "services", "instance_types", "outcomes", "source_ips")
EC2_SERVICES = ("ec2", "autoscaling")  # the services column's names of EC2's own launch APIs


def rule(row):
    # The query keeps the configured unusual families; the usual ones (an ML team's GPUs) are
    # removed here, as UnusualInstanceType removes them.
    return bool(_unusual(row))


def _unusual(row):
    types = [text.lower() for text in as_list(row.get("instance_types"))]
    return unusual_types(types, unusual_instance_types(), usual_instance_types())


def title(row):
    family = as_text(row.get("instance_family")) or "?"
    account = as_text(row.get("account_id")) or "?"
    who = ", ".join(as_list(row.get("principals"))) or "unknown principal"
    launched = "launched" if "success" in as_list(row.get("outcomes")) else "tried (not launched)"
    others = [name for name in as_list(row.get("services")) if name not in EC2_SERVICES]
    return (
        f"First {family} instances in {as_int(first_seen_days(), 30)} days in account {account}: "
        f"{launched} by {who}" + (f" via {', '.join(others)}" if others else "")
    )


def dedup(row):
    return f"{as_text(row.get('account_id'))}:{as_text(row.get('instance_family'))}"


def alert_context(row):
    context = {
        "account_id": as_text(row.get("account_id")),
        "instance_family": as_text(row.get("instance_family")),
        "unusual_instance_types": _unusual(row),
        "accelerators": accelerator_kinds(_unusual(row)),
        "launch_calls": as_count(row.get("launch_calls")) or 0,
        "first_seen": as_text(row.get("first_seen")),
        "last_seen": as_text(row.get("last_seen")),
    }
    context.update({column: as_list(row.get(column)) for column in LISTS})
    context["event_ids"] = as_list(row.get("event_ids"))[:MAX_LISTED_EVENT_IDS]
    return context
