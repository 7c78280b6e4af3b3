"""Every tunable of the EC2 compute-abuse pack, in one place.

Adapt the pack by editing this file. Rules read each value through a function so that tests
(and Panther's `Mocks`) can replace it; a mocked value arrives as a string, so consumers parse
every value with `as_list` / `as_int` instead of trusting its type.
"""

import json
from collections.abc import Iterable

from ec2_instance_catalog import ACCELERATED_FAMILIES

# --- ComputeAbuse.AWS.EC2.UnusualInstanceType -------------------------------------------------
# Families ("p5") or exact types ("p2.xlarge") whose launch is unusual. The default is every
# accelerated family in the catalog (GPU, Inferentia, Trainium, FPGA, media accelerators): what
# cryptominers and GPU hijackers ask for, and what most accounts never run. Broad on purpose:
# an account that runs GPUs routinely should move those families to USUAL_INSTANCE_TYPES
# rather than shrink this list, so new accelerated families stay covered.
UNUSUAL_INSTANCE_TYPES = sorted(ACCELERATED_FAMILIES)

# Families or types to treat as unusual on top of the default, e.g. very large CPU types
# ("c7i.48xlarge", "hpc7a") that CPU miners favour. Each addition costs alerts on real use.
EXTRA_UNUSUAL_INSTANCE_TYPES: list[str] = []

# Families or types this organisation runs routinely; removed from the unusual set. Every
# entry is a blind spot: prefer listing exact types ("g5.xlarge") over whole families.
USUAL_INSTANCE_TYPES: list[str] = []

# --- ComputeAbuse.AWS.EC2.HighInstanceCount ----------------------------------------------------
# Instances requested (attempts included) per principal and UTC day, across subnets, instance
# types and outcomes, at which to alert. Elastic's hunting query uses 10 per (user, day, subnet,
# type, outcome) bucket; those buckets are the alert's breakdown here, since spreading a burst over
# subnets or types hid it. Lower catches smaller miners and alerts on more CI bursts.
HIGH_INSTANCE_COUNT_THRESHOLD = 10

# Beside the principal's day, instances requested per UTC day per source IP address (across
# principals and accounts; AWS service addresses and the console's "AWS Internal" excluded) and
# per account (across principals), each alerting on its own: stolen keys of several users used
# from one address, each below the principal threshold. An office NAT's five developers
# launching a few instances each, or a runner deploying to two accounts, stay below them.
HIGH_INSTANCE_COUNT_SOURCE_IP_THRESHOLD = 25
HIGH_INSTANCE_COUNT_ACCOUNT_THRESHOLD = 40

# --- ComputeAbuse.AWS.EC2.VCPUSurge -------------------------------------------------------------
# vCPUs launched per principal within the window above which to alert (strictly more than),
# and the window's length. Sentinel's rule uses 800 vCPUs within 8 hours. A longer window or a
# lower threshold catches slower miners and alerts on more batch jobs.
VCPU_SURGE_THRESHOLD = 800
VCPU_SURGE_WINDOW_SECONDS = 8 * 3600

# Beside that window, VCPUSurge keeps four more, each with its own threshold (strictly more than)
# and each alerting on its own (an alert says which window crossed):
# - accumulation per principal over 24 hours and over 7 days of event time: a principal that
#   launches ~2,300 vCPUs a day crosses the 24-hour one on its first day, while a developer's
#   960 vCPUs in 10 hours, a cluster autoscaler's ~900 vCPUs a day and a CI drip of ~900 vCPUs a
#   week stay below both. Launches are counted, not running capacity (see README).
# - per source IP address across principals and accounts, and per account across principals,
#   over the 8-hour window: stolen keys of several users used from one address, or several
#   principals in one account. AWS service addresses and the console's "AWS Internal" have no IP
#   window. An office NAT's five users launching a few hundred vCPUs each stay below it.
VCPU_SURGE_DAY_THRESHOLD = 1600
VCPU_SURGE_WEEK_THRESHOLD = 7000
VCPU_SURGE_SOURCE_IP_THRESHOLD = 1200
VCPU_SURGE_ACCOUNT_THRESHOLD = 2400

# Severity of both windowed detections climbs one step (Medium, High, Critical) at each of these
# multiples of the threshold, and one more when the window holds accelerated (GPU, ...) instances.
SEVERITY_STEP_MULTIPLES = (2, 5)

# --- ComputeAbuse.AWS.EC2.DryRunProbe -----------------------------------------------------------
# A dry run of a launch alerts when it asks for an unusual type or for at least this many vCPUs:
# attackers dry-run to learn what a stolen key may launch before they launch it.
DRY_RUN_VCPU_THRESHOLD = 64

# Node controllers (Karpenter, cluster autoscalers) validate launches with dry runs and launch
# small nodes all day. A call is theirs only when BOTH its user agent and its principal ARN (the
# session's or the role's) match these case-insensitive shell patterns: a user agent alone is
# set by the caller and would let anyone hide behind it. Their dry runs alert nowhere and their
# launches do not count toward HighInstanceCount. Their resizes of auto scaling groups and fleets
# (the cluster autoscaler's SetDesiredCapacity, within the maximum a person set) count for no one,
# as Application Auto Scaling's; their own launches (Karpenter's fleets) and unusual types still
# alert in VCPUSurge and UnusualInstanceType.
CAPACITY_CONTROLLER_USER_AGENTS = ["*karpenter.sh*", "*cluster-autoscaler*"]
CAPACITY_CONTROLLER_PRINCIPAL_ARNS = [
    "arn:aws:sts::*:assumed-role/*karpenter*",
    "arn:aws:iam::*:role/*karpenter*",
    "arn:aws:sts::*:assumed-role/*cluster-autoscaler*",
    "arn:aws:iam::*:role/*cluster-autoscaler*",
]

# --- ComputeAbuse.AWS.EC2.QuotaProbe ------------------------------------------------------------
# EC2 quota look-ups (GetServiceQuota, ListServiceQuotas) by one actor in at least this many
# regions within the window alert. Elastic's production rule uses 10 regions in 30 seconds: a
# script sweeping regions, not a person in the console.
QUOTA_LOOKUP_MIN_REGIONS = 10
QUOTA_LOOKUP_WINDOW_SECONDS = 30

# --- ComputeAbuse.AWS.EC2.RegionSpread ----------------------------------------------------------
# One actor launching (or trying to) in at least this many regions within the window alerts.
# Stolen keys fan out to find capacity and quota; most workloads stay in one or two regions.
REGION_SPREAD_MIN_REGIONS = 3
REGION_SPREAD_WINDOW_SECONDS = 3600

# --- ComputeAbuse.AWS.EC2.TerminationProtection -------------------------------------------------
# Turning on termination protection alerts on an unusual instance the pack saw launched within
# the memory below, or within the window after the same actor's launch burst (a launch of at
# least BURST_INSTANCES instances or of an unusual type): attackers protect miners to slow
# clean-up.
TERMINATION_PROTECTION_WINDOW_SECONDS = 3600
TERMINATION_PROTECTION_BURST_INSTANCES = 5
TERMINATION_PROTECTION_INSTANCE_MEMORY_SECONDS = 7 * 86400

# --- ComputeAbuse.AWS.EC2.HijackPlaybook --------------------------------------------------------
# One principal showing at least PLAYBOOK_MIN_STAGES distinct stages of the compute-hijacking
# playbook within the window raises one Critical alert. The stages: quota or instance-type
# reconnaissance, a quota increase request, a dry run of unusual or large capacity (as
# DryRunProbe judges it), an unusual or large launch (unusual as UnusualInstanceType judges it, or
# at least PLAYBOOK_LARGE_LAUNCH_VCPUS vCPUs in one call; refused attempts count), launches in at
# least REGION_SPREAD_MIN_REGIONS regions, termination or stop protection, and new access keys or
# console passwords. Teams do one or two of these in a working day; the playbook does them all
# within hours. More stages or a shorter window: fewer alerts, later.
PLAYBOOK_MIN_STAGES = 3
PLAYBOOK_WINDOW_SECONDS = 6 * 3600
PLAYBOOK_LARGE_LAUNCH_VCPUS = 384

# --- ComputeAbuse.AWS.EC2.AcceleratedFamilyFirstSeenDataLake and the first-seen queries -------
# Days an account (or region, or principal) must not have shown a term for its next sighting to be
# new. The queries read this many days of the data lake (make queries after a change).
FIRST_SEEN_DAYS = 30

# --- Launch templates (every detection that prices a launch) ----------------------------------
# How long the KV store keeps what the pack saw of a launch template or launch configuration. A
# launch naming a template older than this (or created before the pack was deployed) is judged
# with the template "unknown". Each write sends the TTL again, so templates in use stay known.
LAUNCH_TEMPLATE_MEMORY_SECONDS = 90 * 86400

# How long the KV store keeps the type of each instance the pack saw launched (written by
# VCPUSurge; at most 1,000 per account and region, the latest), so that StartInstances of a
# stopped instance is priced by its type; one launched earlier, or before the pack (or while
# VCPUSurge is disabled), is counted by number only.
INSTANCE_MEMORY_SECONDS = 30 * 86400

# --- Allowlists (every detection) ---------------------------------------------------------------
# Principal ARNs whose launches never alert, as shell-style patterns, e.g.
# "arn:aws:sts::123456789012:assumed-role/ml-training-*". A stolen key of an allowlisted role
# goes unseen, so keep these narrow: an exact role, not an account.
ALLOWLISTED_PRINCIPAL_ARNS: list[str] = []

# User agents whose launches never alert, as case-insensitive shell-style patterns, e.g.
# "*my-batch-scheduler/*". User agents are set by the caller, so an attacker can copy one:
# pair an entry with a principal allowlist where you can.
ALLOWLISTED_USER_AGENTS: list[str] = []


def unusual_instance_types() -> list[str]:
    """Families and types that UnusualInstanceType alerts on (before the usual ones are removed)."""
    return [*UNUSUAL_INSTANCE_TYPES, *EXTRA_UNUSUAL_INSTANCE_TYPES]


def usual_instance_types() -> list[str]:
    """Families and types that never count as unusual, even inside an unusual family."""
    return list(USUAL_INSTANCE_TYPES)


def allowlisted_principal_arns() -> list[str]:
    return list(ALLOWLISTED_PRINCIPAL_ARNS)


def allowlisted_user_agents() -> list[str]:
    return list(ALLOWLISTED_USER_AGENTS)


def high_instance_count_threshold() -> int:
    return HIGH_INSTANCE_COUNT_THRESHOLD


def high_instance_count_source_ip_threshold() -> int:
    return HIGH_INSTANCE_COUNT_SOURCE_IP_THRESHOLD


def high_instance_count_account_threshold() -> int:
    return HIGH_INSTANCE_COUNT_ACCOUNT_THRESHOLD


def vcpu_surge_threshold() -> int:
    return VCPU_SURGE_THRESHOLD


def vcpu_surge_window_seconds() -> int:
    return VCPU_SURGE_WINDOW_SECONDS


def vcpu_surge_day_threshold() -> int:
    return VCPU_SURGE_DAY_THRESHOLD


def vcpu_surge_week_threshold() -> int:
    return VCPU_SURGE_WEEK_THRESHOLD


def vcpu_surge_source_ip_threshold() -> int:
    return VCPU_SURGE_SOURCE_IP_THRESHOLD


def vcpu_surge_account_threshold() -> int:
    return VCPU_SURGE_ACCOUNT_THRESHOLD


def dry_run_vcpu_threshold() -> int:
    return DRY_RUN_VCPU_THRESHOLD


def capacity_controller_user_agents() -> list[str]:
    return list(CAPACITY_CONTROLLER_USER_AGENTS)


def capacity_controller_principal_arns() -> list[str]:
    return list(CAPACITY_CONTROLLER_PRINCIPAL_ARNS)


def quota_lookup_min_regions() -> int:
    return QUOTA_LOOKUP_MIN_REGIONS


def quota_lookup_window_seconds() -> int:
    return QUOTA_LOOKUP_WINDOW_SECONDS


def region_spread_min_regions() -> int:
    return REGION_SPREAD_MIN_REGIONS


def region_spread_window_seconds() -> int:
    return REGION_SPREAD_WINDOW_SECONDS


def termination_protection_window_seconds() -> int:
    return TERMINATION_PROTECTION_WINDOW_SECONDS


def termination_protection_burst_instances() -> int:
    return TERMINATION_PROTECTION_BURST_INSTANCES


def termination_protection_instance_memory_seconds() -> int:
    return TERMINATION_PROTECTION_INSTANCE_MEMORY_SECONDS


def playbook_min_stages() -> int:
    return PLAYBOOK_MIN_STAGES


def playbook_window_seconds() -> int:
    return PLAYBOOK_WINDOW_SECONDS


def playbook_large_launch_vcpus() -> int:
    return PLAYBOOK_LARGE_LAUNCH_VCPUS


def first_seen_days() -> int:
    return FIRST_SEEN_DAYS


def launch_template_memory_seconds() -> int:
    return LAUNCH_TEMPLATE_MEMORY_SECONDS


def instance_memory_seconds() -> int:
    return INSTANCE_MEMORY_SECONDS


def as_int(value, default: int) -> int:
    """A configured positive integer, from an int or from the string a test mock returns."""
    if isinstance(value, bool):
        return default
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


def as_list(value) -> list[str]:
    """A configured list, from a real list or from the string a test mock returns.

    Accepts a JSON list ('["p2.xlarge", "g5"]') or a comma/whitespace separated string
    ("p2.xlarge, g5"). A mocked string must never reach a membership test as-is: `"p2" in
    "p2.xlarge"` is a substring test and would match the wrong things.
    """
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return as_list(json.loads(text))
            except ValueError:
                text = text.strip("[]")
        return [part for part in text.replace(",", " ").split() if part]
    if isinstance(value, Iterable):
        return [str(item).strip() for item in value if isinstance(item, str) and item.strip()]
    return []
