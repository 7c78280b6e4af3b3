"""Unified data model fields for EC2 launch events, all read through the pack's shared helper."""

from ec2_compute_helpers import actor, is_launch_event, launch_outcome, summarize_launch


def get_actor_user(event):
    return actor(event).display or None


def get_instance_types(event):
    return list(summarize_launch(event).instance_types) if is_launch_event(event) else None


def get_instance_count(event):
    return summarize_launch(event).instance_count if is_launch_event(event) else None


def get_vcpus(event):
    return summarize_launch(event).vcpus if is_launch_event(event) else None


def get_accelerator_count(event):
    return summarize_launch(event).accelerators if is_launch_event(event) else None


def get_launch_outcome(event):
    return launch_outcome(event)[0] if is_launch_event(event) else None
