"""Generate queries/*.yml: the pack's scheduled and saved Snowflake queries.

The SQL is written once, in compute_abuse/sql_templates/, and filled in from the same sources
as the streaming rules: thresholds and windows from ec2_compute_config, the instance catalog from
ec2_instance_catalog, the fleet services from ec2_compute_helpers. `make queries` writes them; a
test fails when the committed files differ, so a threshold change shows up in the SQL's diff.
"""

from pathlib import Path

import yaml

from compute_abuse import REPO_ROOT
from compute_abuse.content import install_global_helpers

QUERIES_DIR = REPO_ROOT / "queries"
TEMPLATES = Path(__file__).resolve().parent / "sql_templates"


RATE_MINUTES = 60  # how often the scheduled queries run

# A day's bucket is reported by one run only: the first after the rows that took it to the
# threshold arrived (p_parse_time), however many hourly runs its lookback spans. So a bucket never
# alerts twice, whatever the dedup period (Panther's longest is 1,440 minutes, one hour less than
# the 25-hour lookback), and rows that arrive late still take a bucket over once.
CROSSED_SINCE_LAST_RUN = f"""AND SUM(COALESCE(r.instances, 1)) - SUM(
    CASE WHEN a.p_parse_time >= DATEADD(minute, -{RATE_MINUTES}, CURRENT_TIMESTAMP())
      THEN COALESCE(r.instances, 1) ELSE 0 END
  ) < {{instance_threshold}}"""


def _fill(template: str, lookback: str, crossed_since_last_run: str = "") -> str:
    install_global_helpers()
    import ec2_compute_config as config
    import ec2_compute_helpers as helpers
    import ec2_instance_catalog as catalog

    common = (TEMPLATES / "common.sql").read_text(encoding="utf-8").rstrip()
    values = ",\n    ".join(
        f"('{name}', {row[0]}, {row[3]})" for name, row in catalog._CATALOG.items()
    )
    common = common.replace("{catalog_values}", values).replace("{lookback}", lookback)
    services = ", ".join(f"'{s}'" for s in sorted(helpers.ON_BEHALF_SERVICES))
    sql = (TEMPLATES / template).read_text(encoding="utf-8")
    return (
        sql.replace("{common}", common)
        .replace(
            "  {crossed_since_last_run}\n",
            f"  {crossed_since_last_run}\n" if crossed_since_last_run else "",
        )
        .replace("{fleet_services}", services)
        .replace("{vcpu_threshold}", str(config.vcpu_surge_threshold()))
        .replace("{instance_threshold}", str(config.high_instance_count_threshold()))
    )


def _hours(seconds: int) -> str:
    return f"{seconds // 3600} hours" if seconds % 3600 == 0 else f"{seconds} seconds"


def specs() -> dict[str, dict]:
    """File name -> YAML spec of every query."""
    install_global_helpers()
    import ec2_compute_config as config

    window = config.vcpu_surge_window_seconds()
    return {
        "vcpu_surge_query.yml": {
            "AnalysisType": "scheduled_query",
            "QueryName": "AWS EC2 Compute Abuse vCPU Surge",
            "Enabled": True,
            "Description": (
                "Data-lake version of ComputeAbuse.AWS.EC2.VCPUSurge (Sentinel's grouping): "
                f"vCPUs launched per actor over the last {_hours(window)}, every launched "
                "instance counted (catalog vCPUs where cpuOptions is missing), each eventID once. "
                "Runs every hour; catches what the real-time rule missed (KV store outages, late "
                "logs). Its window is the query's lookback, not a sliding window."
            ),
            "SnowflakeQuery": _fill("vcpu_surge.sql", _hours(window)),
            "Schedule": {"RateMinutes": RATE_MINUTES, "TimeoutMinutes": 10},
            "Tags": ["AWS", "EC2", "Compute Abuse"],
        },
        "high_instance_count_query.yml": {
            "AnalysisType": "scheduled_query",
            "QueryName": "AWS EC2 Compute Abuse High Instance Count",
            "Enabled": True,
            "Description": (
                "Data-lake version of ComputeAbuse.AWS.EC2.HighInstanceCount (Elastic's "
                "grouping): instances requested per actor, UTC day, subnet, instance type and "
                "outcome, maxCount (else minCount, else 1) summed over each call's items. Runs "
                "every hour over the last 25 hours, so each UTC day is seen whole; a day is "
                "reported once, by the run after the rows that took it over the threshold "
                "arrived."
            ),
            "SnowflakeQuery": _fill("high_instance_count.sql", "25 hours", CROSSED_SINCE_LAST_RUN),
            "Schedule": {"RateMinutes": RATE_MINUTES, "TimeoutMinutes": 10},
            "Tags": ["AWS", "EC2", "Compute Abuse"],
        },
        "launches_by_actor_query.yml": {
            "AnalysisType": "saved_query",
            "QueryName": "AWS EC2 Compute Abuse Launches by Actor",
            "Description": (
                "Hunting: EC2 launches per actor over the last 7 days with instances, vCPUs, "
                "GPUs and other accelerators, regions, instance types and source IPs. Sort by "
                "accelerators; pivot on regions and types an actor never used before."
            ),
            "SnowflakeQuery": _fill("launches_by_actor.sql", "7 days"),
            "Tags": ["AWS", "EC2", "Compute Abuse", "Hunting"],
        },
        "accelerated_launches_query.yml": {
            "AnalysisType": "saved_query",
            "QueryName": "AWS EC2 Compute Abuse Accelerated Instance Launches",
            "Description": (
                "Hunting: every launch or attempt of an accelerated instance type (GPU, "
                "Inferentia, Trainium, FPGA, media) over the last 7 days, newest first. Pivot on "
                "the same actor's dry runs, failures and quota requests."
            ),
            "SnowflakeQuery": _fill("accelerated_launches.sql", "7 days"),
            "Tags": ["AWS", "EC2", "Compute Abuse", "Hunting"],
        },
        "failed_launch_attempts_query.yml": {
            "AnalysisType": "saved_query",
            "QueryName": "AWS EC2 Compute Abuse Failed and Dry-Run Launches",
            "Description": (
                "Hunting: refused launches and dry runs over the last 7 days by actor, outcome "
                "and error code, with the instance types and regions tried."
            ),
            "SnowflakeQuery": _fill("failed_launch_attempts.sql", "7 days"),
            "Tags": ["AWS", "EC2", "Compute Abuse", "Hunting"],
        },
        "daily_instance_counts_query.yml": {
            "AnalysisType": "saved_query",
            "QueryName": "AWS EC2 Compute Abuse Daily Instance Counts",
            "Description": (
                "Hunting, Elastic style: instances requested per actor, UTC day, subnet, "
                "instance type and outcome over the last 7 days, at or above the "
                "HighInstanceCount threshold."
            ),
            "SnowflakeQuery": _fill("high_instance_count.sql", "7 days"),
            "Tags": ["AWS", "EC2", "Compute Abuse", "Hunting"],
        },
    }


class _Literal(str):
    """A string YAML writes as a block (|), so the SQL reads as SQL in review."""


def _literal(dumper, value):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")


yaml.add_representer(_Literal, _literal, Dumper=yaml.SafeDumper)


def render() -> dict[str, str]:
    header = "# Generated by `make queries` from compute_abuse/sql_templates/; do not edit.\n"
    rendered = {}
    for name, spec in specs().items():
        body = {**spec}
        for key in ("SnowflakeQuery",):
            body[key] = _Literal(body[key])
        rendered[name] = header + yaml.safe_dump(body, sort_keys=False, width=100)
    return rendered


def write() -> list[Path]:
    QUERIES_DIR.mkdir(exist_ok=True)
    paths = []
    for name, text in render().items():
        path = QUERIES_DIR / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
