"""Generate queries/*.yml: the pack's scheduled and saved Snowflake queries.

The SQL is written once, in compute_abuse/sql_templates/, and filled in from the same sources
as the streaming rules: thresholds and windows from ec2_compute_config, the instance catalog from
ec2_instance_catalog, the fleet services from ec2_compute_helpers. `make queries` writes them; a
test fails when the committed files differ, so a threshold change shows up in the SQL's diff.
"""

import re
from pathlib import Path
from typing import NamedTuple

import yaml

from compute_abuse import REPO_ROOT
from compute_abuse.content import install_global_helpers

QUERIES_DIR = REPO_ROOT / "queries"
TEMPLATES = Path(__file__).resolve().parent / "sql_templates"


RATE_MINUTES = 60  # how often the scheduled queries run
LAST_RUN = f"DATEADD(minute, -{RATE_MINUTES}, CURRENT_TIMESTAMP())"  # when the run before this ran

# A day's bucket is reported by one run only: the first after the rows that took it to the
# threshold arrived (p_parse_time), however many hourly runs its lookback spans. So a bucket never
# alerts twice, whatever the dedup period (Panther's longest is 1,440 minutes, one hour less than
# the 25-hour lookback), and rows that arrive late still take a bucket over once.
CROSSED_SINCE_LAST_RUN = (
    f"AND SUM(instances) - SUM(IFF(p_parse_time >= {LAST_RUN}, instances, 0)) < MAX(threshold)"
)
# The instances a RunInstances call asks for, as HighInstanceCount counts them (launch_columns.sql,
# service_counts.sql): maxCount, else minCount, else 1.
RUN_INSTANCES_ASKED = (
    "COALESCE(TRY_TO_NUMBER(requestParameters:instancesSet:items[0]:maxCount::STRING),\n"
    "        TRY_TO_NUMBER(requestParameters:instancesSet:items[0]:minCount::STRING), 1)"
)
# A ModifyInstanceAttribute call is read where it resizes (the other attributes it sets are not
# capacity): a line of launch_calls.sql in the queries that read it.
TYPED_RESIZES_ONLY = (
    "  AND (eventName <> 'ModifyInstanceAttribute' OR requestParameters:instanceType IS NOT NULL"
    " OR requestParameters:attribute::STRING = 'instanceType')"
)
# ... and only a day whose crossing was an alert of the streaming rule's (count_crossings.sql).
FIRST_CROSSING = """
  AND window_kind || '/' || grouped_value || '/' || day IN (SELECT bucket FROM crossings)"""
# The minimum an Application Auto Scaling call sets (ec2_compute_helpers.scalable_minimum):
# registered, or put in a scheduled action.
SCALABLE_MINIMUM = (
    "TRY_TO_NUMBER(COALESCE(requestParameters:minCapacity::STRING,"
    " requestParameters:scalableTargetAction:minCapacity::STRING))"
)
# sourceIPAddress holds an address (IPv4 or IPv6), not a service name or "AWS Internal"
IS_IP_ADDRESS = (
    "REGEXP_LIKE(source_ip, '^[0-9]{1,3}([.][0-9]{1,3}){3}$|^[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*$')"
)


def size_rule_vcpus(instance_type: str) -> int | None:
    """The vCPUs the SQL gives a type by its size alone (size_rule.sql): medium 1, large 2,
    xlarge 4, Nxlarge and metal-Nxl 4N; None for other sizes (metal, nano, ...)."""
    size = instance_type.partition(".")[2]
    if size in _SIZE_VCPUS:
        return _SIZE_VCPUS[size]
    match = re.fullmatch(r"(?:metal-)?([0-9]+)xl(?:arge)?", size)
    return 4 * int(match.group(1)) if match else None


_SIZE_VCPUS = {"medium": 1, "large": 2, "xlarge": 4}


def _ec2_catalog() -> dict[str, tuple]:
    """The catalog's EC2 instance types (not the sizes other services sell under their names)."""
    install_global_helpers()
    import ec2_instance_catalog as catalog

    return {name: row for name, row in catalog._CATALOG.items() if "_" not in name}


def instance_type_rows() -> dict[str, tuple[int, int]]:
    """launched.sql's instance_types: every EC2 type the size rule misprices or that carries
    accelerators, with its catalog vCPUs and accelerators."""
    return {
        name: (row[0], row[3])
        for name, row in _ec2_catalog().items()
        if row[3] or size_rule_vcpus(name) != row[0]
    }


def count_type_rows() -> dict[str, tuple[int, int]]:
    """The Services High Instance Count query's instance_types: the types a Batch environment may
    name that the size rule misprices, and every family (Batch names "p3"), priced by its
    smallest member as the streaming rules price it: what a Batch environment's vCPUs are
    counted in. (Its other calls ask for instances by number.)"""
    rows = {
        name: (row[0], row[3])
        for name, row in _ec2_catalog().items()
        if size_rule_vcpus(name) != row[0]
    }
    return rows | _family_rows()


def _family_rows() -> dict[str, tuple[int, int]]:
    """Every EC2 family (Batch names "p3"), at its smallest member's vCPUs and accelerators, as
    the streaming rules price a family."""
    families: dict[str, tuple[int, int]] = {}
    for name, row in _ec2_catalog().items():
        family = name.partition(".")[0]
        families[family] = min(families.get(family, (row[0], row[3])), (row[0], row[3]))
    return dict(sorted(families.items()))


def service_type_rows() -> dict[str, tuple[int, int]]:
    """service_surge.sql's instance_types: launched.sql's, the sizes other services sell under
    their own names (Lightsail bundles, CodeBuild compute types), which no size rule reads, and
    the families a Batch environment names (its instances and accelerators)."""
    install_global_helpers()
    import ec2_instance_catalog as catalog

    sold = {name: (row[0], row[3]) for name, row in catalog._CATALOG.items() if "_" in name}
    return {**instance_type_rows(), **sold, **_family_rows()}


def cpu_units(text: str, per_number: int = 1) -> str:
    """SQL reading CPU units as ECS writes them (a task's or container's `cpu`): "1024", or
    "1 vCPU" (1,024 units a vCPU), whole units, from the first number in the text (task_size's
    _cpu_units, which refuses any other text); NULL without a number. Batch writes vCPUs: a
    bare number is `per_number` units (_text_units)."""
    number = f"TRY_TO_DOUBLE(REGEXP_SUBSTR({text}, '[0-9.]+'))"
    if per_number == 1024:
        return f"FLOOR({number} * 1024)"
    return f"FLOOR({number} * IFF({text} ILIKE '%vcpu%', 1024, {per_number}))"


def group_creates() -> list[str]:
    """The calls that create an auto scaling group or a fleet (group_growth.sql): the streaming
    rules' group calls of auto scaling and EC2 that are not resizes (GROUP_RESIZES)."""
    install_global_helpers()
    import ec2_compute_helpers as helpers
    from ec2_launch_templates import GROUP_EVENTS, GROUP_RESIZES

    sources = (helpers.AUTOSCALING_EVENT_SOURCE, helpers.EC2_EVENT_SOURCE)
    creates = GROUP_EVENTS - GROUP_RESIZES
    return sorted(name for source in sources for name in helpers.LAUNCH_EVENTS[source] & creates)


def service_sizing_calls() -> list[str]:
    """The calls that size a group another service runs, of the groups service_surge.sql names
    (ECS services, by Application Auto Scaling too; EKS node groups, Batch compute environments,
    EMR groups and fleets resized):
    the streaming rules' group calls (GROUP_EVENTS) of those services."""
    install_global_helpers()
    import ec2_compute_helpers as helpers
    from ec2_launch_templates import GROUP_EVENTS

    sources = (
        helpers.ECS_EVENT_SOURCE,
        helpers.EKS_EVENT_SOURCE,
        helpers.BATCH_EVENT_SOURCE,
        helpers.EMR_EVENT_SOURCE,
        helpers.APPLICATION_AUTOSCALING_EVENT_SOURCE,  # an ECS service's minimum
    )
    return sorted(
        name for source in sources for name in helpers.LAUNCH_EVENTS[source] if name in GROUP_EVENTS
    )


def surge_windows() -> list[tuple[str, str, int, int]]:
    """VCPUSurge's windows as the SQL's rows: (kind, span, seconds, threshold), from the config."""
    install_global_helpers()
    from ec2_compute_windows import DAY_SECONDS

    import ec2_compute_config as config

    eight = config.vcpu_surge_window_seconds()
    return [
        ("principal", _hours(eight), eight, config.vcpu_surge_threshold()),
        ("principal", "24 hours", DAY_SECONDS, config.vcpu_surge_day_threshold()),
        ("principal", "7 days", 7 * DAY_SECONDS, config.vcpu_surge_week_threshold()),
        ("source IP", _hours(eight), eight, config.vcpu_surge_source_ip_threshold()),
        ("account", _hours(eight), eight, config.vcpu_surge_account_threshold()),
    ]


def count_windows() -> list[tuple[str, int]]:
    """HighInstanceCount's windows as the SQL's rows: (kind, threshold per UTC day)."""
    install_global_helpers()
    import ec2_compute_config as config

    return [
        ("principal", config.high_instance_count_threshold()),
        ("source IP", config.high_instance_count_source_ip_threshold()),
        ("account", config.high_instance_count_account_threshold()),
    ]


def like_any(column: str, patterns: list[str]) -> str:
    """SQL matching `column` against shell patterns as matches_any does (any case): `*` and `?`
    become LIKE's `%` and `_`, LIKE's own wildcards are escaped."""
    tests = []
    for pattern in patterns:
        if "[" in pattern:
            raise ValueError(f"pattern {pattern!r}: character classes have no SQL form; use * or ?")
        escaped = pattern.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
        like = escaped.replace("*", "%").replace("?", "_").replace("'", "''")
        tests.append(f"LOWER({column}) LIKE '{like}' ESCAPE '!'")
    return "(" + " OR ".join(tests) + ")" if tests else "FALSE"


def caller_filters() -> dict[str, str]:
    """actors' allowlisted and capacity_controller columns, from the configuration."""
    install_global_helpers()
    import ec2_compute_config as config

    def arns(patterns):
        return f"({like_any('actor_arn', patterns)} OR {like_any('issuer_arn', patterns)})"

    user_agents, roles = (
        config.capacity_controller_user_agents(),
        config.capacity_controller_principal_arns(),
    )
    allow_arns, allow_agents = config.allowlisted_principal_arns(), config.allowlisted_user_agents()
    allowlisted = [arns(allow_arns)] if allow_arns else []
    allowlisted += [like_any("user_agent", allow_agents)] if allow_agents else []
    controller = (
        f"({like_any('user_agent', user_agents)} AND {arns(roles)})"
        if user_agents and roles
        else "FALSE"
    )
    return {
        "allowlisted": "(" + " OR ".join(allowlisted) + ")" if allowlisted else "FALSE",
        "capacity_controller": controller,
    }


# The auto scaling calls that give a group its size, the EC2 calls that give a fleet its target
# capacity, and how far back the queries look for the size a group or fleet had (its growth is
# counted, as the streaming rules count it). The streaming rules remember a group for
# launch_template_memory_seconds() (90 days); an hourly query reading 90 days of CloudTrail costs
# too much, so a group last sized more than a week before counts its whole new size, as a group
# the streaming rules never saw.
GROUP_SIZING_CALLS = (
    "CreateAutoScalingGroup",
    "UpdateAutoScalingGroup",
    "SetDesiredCapacity",
    "PutScheduledUpdateGroupAction",  # counted when made, as the streaming rules count it
    "PutScalingPolicy",  # its adjustment, which ExecutePolicy applies to the group's size
    "ExecutePolicy",
    "StartInstanceRefresh",  # the group's instances replaced: its size, when of other types
)
FLEET_SIZING_CALLS = ("CreateFleet", "ModifyFleet", "ModifySpotFleetRequest", "RequestSpotFleet")
# The EC2 calls that launch, or ask AWS to launch, instances: new ones, stopped ones started
# again, a resize, a fleet's growth.
EC2_LAUNCH_CALLS = (
    "CreateFleet",
    "RequestSpotFleet",
    "RequestSpotInstances",
    "RunInstances",
    "RunScheduledInstances",
    "StartInstances",
    "ModifyInstanceAttribute",  # of instanceType only (launch_calls.sql): a resize
    "ModifyFleet",
    "ModifySpotFleetRequest",
)
GROUP_LOOKBACK = "7 days"
# The definitions template_types.sql reads, over the group lookback too: launch templates'
# versions and defaults (EC2), launch configurations (auto scaling).
EC2_TEMPLATE_CALLS = ("CreateLaunchTemplate", "CreateLaunchTemplateVersion", "ModifyLaunchTemplate")
AUTOSCALING_TEMPLATE_CALLS = ("CreateLaunchConfiguration",)


def other_service_calls() -> dict:
    """The compute services' calls the streaming rules read, beside EC2 and auto scaling."""
    install_global_helpers()
    import ec2_compute_helpers as helpers

    ec2 = (helpers.EC2_EVENT_SOURCE, helpers.AUTOSCALING_EVENT_SOURCE)
    return {source: names for source, names in helpers.LAUNCH_EVENTS.items() if source not in ec2}


def service_definition_calls() -> dict:
    """The definitions that price the other services' calls, as the streaming rules remember
    them (TEMPLATE_EVENTS): ECS task definitions, SageMaker endpoint configs, Lambda functions,
    Batch job definitions, Amplify apps. Not EC2's and auto scaling's (the vCPU Surge query's),
    nor CodeBuild projects (they price refusals, and the query reads successes)."""
    install_global_helpers()
    import ec2_compute_helpers as helpers
    from ec2_launch_templates import TEMPLATE_EVENTS

    others = (
        helpers.EC2_EVENT_SOURCE,
        helpers.AUTOSCALING_EVENT_SOURCE,
        helpers.CODEBUILD_EVENT_SOURCE,
    )
    return {
        source: tuple(sorted(names))
        for source, names in TEMPLATE_EVENTS.items()
        if source not in others
    }


def service_launch_calls() -> dict:
    """What the Services vCPU Surge query reads: the other services' calls, the definitions that
    price them, and RunInstances (a caller's own instances count in the same windows)."""
    install_global_helpers()
    import ec2_compute_helpers as helpers

    calls = {source: tuple(sorted(names)) for source, names in other_service_calls().items()}
    for source, names in service_definition_calls().items():
        calls[source] = tuple(sorted({*calls.get(source, ()), *names}))
    return {**calls, helpers.EC2_EVENT_SOURCE: ("RunInstances",)}


def service_count_calls() -> dict:
    """What the Services High Instance Count query reads: service_launch_calls() less the calls
    counted by their vCPUs only (VCPUS_ONLY_EVENTS: tasks, jobs, builds; Application Auto
    Scaling's, of the ECS services this ledger reads them for: is_vcpus_only) and the services
    left with none (their definitions too)."""
    install_global_helpers()
    import ec2_compute_helpers as helpers

    scaler = helpers.APPLICATION_AUTOSCALING_EVENT_SOURCE
    return {
        source: tuple(n for n in names if n not in helpers.VCPUS_ONLY_EVENTS.get(source, ()))
        for source, names in service_launch_calls().items()
        if source in helpers.INSTANCE_COUNT_EVENTS and source != scaler
    }


def owner_tags() -> list[str]:
    """The tags a fleet service's launch names its group or fleet by, most specific first (the
    streaming rules' order): the SQL charges those launches to the owner of an auto scaling
    group, a spot fleet or an EC2 fleet."""
    install_global_helpers()
    import ec2_compute_helpers as helpers

    return [tag for tag, kind in helpers._OWNER_TAGS if kind in ("asg", "spot-fleet", "fleet")]


def _type_values(rows: dict[str, tuple[int, int]], per_line: int) -> str:
    """An instance_types table's VALUES: ('type',vcpus,accelerators) rows, `per_line` a line."""
    return _values([f"('{name}',{row[0]},{row[1]})" for name, row in rows.items()], per_line)


def _values(rows: list[str], per_line: int = 3) -> str:
    lines = [", ".join(rows[i : i + per_line]) for i in range(0, len(rows), per_line)]
    return ",\n    ".join(lines)


def _sql_list(names) -> str:
    """Constant names as an SQL list's items: 'a', 'b'."""
    return ", ".join(f"'{name}'" for name in names)


def scaled_namespaces(*sources: str) -> tuple[str, ...]:
    """Application Auto Scaling's namespaces whose groups are those of `sources`' services
    (SCALABLE_RESOURCES): what a ledger of those services reads of its calls."""
    install_global_helpers()
    import ec2_compute_helpers as helpers

    return tuple(
        sorted(ns for ns, (source, _) in helpers.SCALABLE_RESOURCES.items() if source in sources)
    )


def ec2_launch_events() -> dict:
    """EC2's launch calls, auto scaling's group sizes and the minimums Application Auto Scaling
    raises fleets to: what the queries of EC2's ledger read (eventSource -> eventNames)."""
    install_global_helpers()
    import ec2_compute_helpers as helpers

    scaler = helpers.APPLICATION_AUTOSCALING_EVENT_SOURCE
    return {
        helpers.EC2_EVENT_SOURCE: EC2_LAUNCH_CALLS,
        helpers.AUTOSCALING_EVENT_SOURCE: GROUP_SIZING_CALLS,
        scaler: tuple(helpers.LAUNCH_EVENTS[scaler]),
    }


def _launch_events(
    sources: dict,
    source: str = "eventSource",
    name: str = "eventName",
    joint: str = "\n      OR ",
    namespaces: tuple = (),
) -> str:
    """SQL keeping the calls of `sources` (eventSource -> eventNames), by the columns named;
    Application Auto Scaling's, of the `namespaces` given (another's scaling is another ledger's,
    or no compute)."""
    install_global_helpers()
    import ec2_compute_helpers as helpers

    scaler = helpers.APPLICATION_AUTOSCALING_EVENT_SOURCE
    if scaler in sources and not namespaces:
        raise ValueError(f"{scaler}'s calls are read for the namespaces of a ledger: none given")
    return joint.join(
        f"{source} = '{event_source}' AND {name} IN ({_sql_list(sorted(names))})"
        + (
            f" AND requestParameters:serviceNamespace::STRING IN ({_sql_list(namespaces)})"
            if event_source == scaler
            else ""
        )
        for event_source, names in sorted(sources.items())
    )


def _calls_since(lookback: str) -> str:
    """launch_calls' time filter: the query's lookback, and the group lookback for the calls that
    size groups and fleets or define templates when it is longer."""
    if _seconds(lookback) >= _seconds(GROUP_LOOKBACK):
        return f"p_occurs_since('{lookback}')"
    sizing = _sql_list(
        GROUP_SIZING_CALLS + FLEET_SIZING_CALLS + EC2_TEMPLATE_CALLS + AUTOSCALING_TEMPLATE_CALLS
    )
    return (
        f"(p_occurs_since('{lookback}')\n      OR eventName IN ({sizing})\n"
        f"        AND p_occurs_since('{GROUP_LOOKBACK}'))"
    )


def _seconds(span: str) -> int:
    """A lookback's length ("25 hours", "7 days") in seconds."""
    number, unit = span.split()
    return int(number) * {"hours": 3600, "days": 86400}[unit]


def _fill(
    template: str,
    lookback: str,
    crossed_since_last_run: str = "",
    launch_events: dict | None = None,
    service_calls_only: str = "",
    template_types: bool = True,
    actors: str = "group_growth.sql",
    launch_columns: bool = True,
    ledger_windows: str = "{surge_calls}\n{surge_report}",
    service_days_only: str = "",
    namespaces: tuple = (),
    **fields: str,
) -> str:
    """A query from its template: launch_calls.sql reads `launch_events` (eventSource ->
    eventNames; by default the EC2 launch APIs and the calls that size auto scaling groups), and
    with `template_types` the template definitions in the same scan, to price the calls that name
    a template by its types (template_types.sql). `actors` defines the calls the query reads (by
    default with the growth of the groups and fleets they size). Without `launch_columns`, the
    calls are read without what EC2's launch APIs ask for (launch_columns.sql). The Services
    ledger (service_surge.sql) is read by `ledger_windows`: VCPUSurge's windows, or the SQL of
    HighInstanceCount's (service_counts.sql)."""
    install_global_helpers()
    import ec2_compute_config as config
    import ec2_compute_helpers as helpers

    if launch_events is None:
        launch_events, namespaces = ec2_launch_events(), scaled_namespaces(helpers.EC2_EVENT_SOURCE)
    template_calls = ()
    if template_types:
        template_calls = EC2_TEMPLATE_CALLS + AUTOSCALING_TEMPLATE_CALLS
        launch_events = {
            **launch_events,
            helpers.EC2_EVENT_SOURCE: launch_events[helpers.EC2_EVENT_SOURCE] + EC2_TEMPLATE_CALLS,
            helpers.AUTOSCALING_EVENT_SOURCE: launch_events[helpers.AUTOSCALING_EVENT_SOURCE]
            + AUTOSCALING_TEMPLATE_CALLS,
        }

    # A query of EC2's calls that prices them by the catalog (launched.sql's, High Instance
    # Count's fleets in vCPUs) prices each by its smallest type; it, and a query reading every
    # type a call names, reads them (named_types.sql). (The Services ledger has its own catalog.)
    text = _template(template)
    prices = template_types and any(part in text for part in ("{launched}", "JOIN instance_types"))
    names_types = prices or "JOIN named_types" in text
    typed = instance_type_rows()
    accelerated = [f"('{name}', {row[1]})" for name, row in typed.items() if row[1]]
    services = _sql_list(sorted(helpers.ON_BEHALF_SERVICES))
    tags = owner_tags()
    sql = (
        text.replace("{launch_calls}", _template("launch_calls.sql"))
        .replace(
            "{launch_columns}", _template("launch_columns.sql") + "\n" if launch_columns else ""
        )
        .replace("{named_calls}", "named_calls" if template_types else "launch_calls")
        .replace(
            "{template_types}", _template("template_types.sql") + "\n" if template_types else ""
        )
        .replace("{named_types}", _template("named_types.sql") + "\n" if names_types else "")
        .replace("{priced_types}", _template("priced_types.sql") + "\n" if prices else "")
        .replace("{typed_calls}", "priced_calls" if prices else "named_calls")
        .replace("{actors}", _template(actors))
        .replace("{ledger_windows}", ledger_windows)
        .replace("{count_windows_cte}", _template("count_windows.sql"))
        .replace("{count_report}", _template("count_report.sql"))
        .replace("{launched}", _template("launched.sql"))
        .replace("{surge_calls}", _template("surge_calls.sql"))
        .replace("{accelerated_types}", _template("accelerated_types.sql"))
        .replace("{service_items}", _template("service_items.sql"))
    )
    for name, value in {**caller_filters(), **fields}.items():
        sql = sql.replace("{" + name + "}", value)
    reads_resizes = "ModifyInstanceAttribute" in launch_events.get(helpers.EC2_EVENT_SOURCE, ())
    for name, line in {
        "crossed_since_last_run": crossed_since_last_run,
        "service_calls_only": service_calls_only,
        "service_days_only": service_days_only,
        "typed_resizes_only": TYPED_RESIZES_ONLY if reads_resizes else "",
    }.items():  # a line of its own in the template: that line, or none
        sql = sql.replace(f"  {{{name}}}\n", f"  {line}\n" if line else "")
    return (
        sql.replace("{instance_type_values}", _type_values(typed, 20))
        .replace("{accelerated_type_values}", _values(accelerated, per_line=4))
        .replace("{launch_events}", _launch_events(launch_events, namespaces=namespaces))
        .replace("{calls_since}", _calls_since(lookback))
        .replace("{lookback}", lookback)
        .replace("{group_lookback}", GROUP_LOOKBACK)
        .replace("{template_calls}", _sql_list(template_calls))
        .replace("{fleet_services}", services)
        .replace("{owner_tags}", " ".join(tags))
        .replace("{owner_tag_list}", _sql_list(tags))
        .replace(
            "{surge_windows}", _values([str((i, *w)) for i, w in enumerate(surge_windows())], 3)
        )
        .replace("{last_run}", LAST_RUN)
        .replace(
            "{ec2_sources}", _sql_list((helpers.EC2_EVENT_SOURCE, helpers.AUTOSCALING_EVENT_SOURCE))
        )
        .replace("{size_rule_vcpus}", _template("size_rule.sql"))
        .replace(
            "{count_windows}", _values([str((i, *w)) for i, w in enumerate(count_windows())], 3)
        )
        .replace("{is_ip_address}", IS_IP_ADDRESS)
        .replace("{run_instances_asked}", RUN_INSTANCES_ASKED)
        .replace("{unpriced_seconds}", str(config.vcpu_surge_window_seconds()))
        .replace("{group_creates}", _sql_list(group_creates()))
        .replace("{scalable_minimum}", SCALABLE_MINIMUM)
        .replace("{ecs_service_id}", helpers.SCALABLE_RESOURCES["ecs"][1].pattern)
        .replace("{spot_fleet_id}", helpers.SCALABLE_RESOURCES["ec2"][1].pattern)
        + "\n"
    )


# Saved first-seen queries: seen in the last day, not in the first_seen_days() before.
SEEN_TODAY_ONLY = "MIN(p_event_time) >= DATEADD(day, -1, CURRENT_TIMESTAMP())"
# The scheduled one: every row of the term arrived (p_parse_time) since the last hourly run, so a
# term is reported once, by the run after it first arrived, however late its logs were.
ARRIVED_SINCE_LAST_RUN = f"SUM(CASE WHEN p_parse_time < {LAST_RUN} THEN 1 ELSE 0 END) = 0"


class Term(NamedTuple):
    sql: str  # the term's expression over launch_calls
    keep: str  # which calls have one
    title: str  # the saved query's name
    description: str


FIRST_SEEN_TERMS = {  # the column the saved query names its term by: the term
    "instance_family": Term(
        "SPLIT_PART(instance_type, '.', 1)",
        "instance_type <> 'unknown-type'",
        "New Instance Families",
        "an instance family launched or attempted in an account",
    ),
    "region": Term(
        "region",
        "region IS NOT NULL",
        "First Compute in a Region",
        "the first compute launch or attempt (EC2 or another compute service) in a region of an "
        "account",
    ),
    "principal": Term(
        "principal",
        "principal <> 'unknown' AND NOT on_behalf",  # a fleet service's role launches for others
        "Principals Launching for the First Time",
        "a principal (user, role behind its sessions, Identity Center person) launching or "
        "trying to launch compute (EC2 or another compute service) in an account",
    ),
}


def _first_seen(term_column: str, days: int, new: str, meaning: str, term_filter: str = "") -> str:
    """A new-term query over every compute call the streaming rules read: EC2's launch calls and
    group sizes, the other services' calls (other_service_calls()), each of every outcome."""
    install_global_helpers()
    import ec2_compute_helpers as helpers

    term = FIRST_SEEN_TERMS[term_column]
    return _fill(
        "first_seen.sql",
        f"{days} days",
        launch_events={**ec2_launch_events(), **other_service_calls()},
        namespaces=scaled_namespaces(helpers.EC2_EVENT_SOURCE, helpers.ECS_EVENT_SOURCE),
        outcomes_read="TRUE",  # refusals and dry runs too: a stolen key's first refusal is news
        **service_items_fields(),
        term=term.sql,
        term_column=term_column,
        term_filter=term_filter or term.keep,
        new=new,
        new_meaning=meaning,
    )


def _saved_first_seen(term: str, days: int) -> dict:
    name, what = FIRST_SEEN_TERMS[term].title, FIRST_SEEN_TERMS[term].description
    return {
        "AnalysisType": "saved_query",
        "QueryName": f"AWS EC2 Compute Abuse {name}",
        "Description": (
            f"Hunting, new term: {what} today, not seen in the {days} days before. Every "
            "EC2 launch call (RunInstances, CreateFleet, spot, scheduled) and auto scaling group "
            "sizing, and the other compute services' launches and sizes (ECS, SageMaker, Batch, "
            "EKS, EMR, Lambda, Lightsail, CodeBuild, Amplify), counts, refused and dry runs too. "
            f"Reads {days + 1} days of CloudTrail."
        ),
        "SnowflakeQuery": _first_seen(
            term,
            days + 1,
            SEEN_TODAY_ONLY,
            f"first seen in the last day, not in the {days} days before",
        ),
        "Tags": ["AWS", "EC2", "Compute Abuse", "Hunting", "New Term"],
    }


def unusual_family_filter() -> str:
    """SQL keeping launch calls of the configured unusual families and types (by default every
    accelerated family), as UnusualInstanceType reads them; the usual ones are left to the rule."""
    install_global_helpers()
    import ec2_compute_config as config

    entries = sorted({entry.lower() for entry in config.unusual_instance_types()})
    families = _sql_list(e for e in entries if "." not in e)
    types = _sql_list(e for e in entries if "." in e)
    tests = [f"SPLIT_PART(instance_type, '.', 1) IN ({families})"] if families else []
    tests += [f"instance_type IN ({types})"] if types else []
    return " OR ".join(tests) or "FALSE"


# Each of VCPUSurge's windows with the largest total it reached, in place of the crossings the
# scheduled query reports: what tests compare with the streaming rule's totals.
SURGE_TOTALS = """SELECT window_kind, grouped_value, span, MAX(total_vcpus) AS total_vcpus,
  MAX(total_accelerators) AS total_accelerators, MAX(instances) AS instances
FROM ended GROUP BY window_kind, grouped_value, span"""


def surge_totals_query() -> str:
    """The vCPU Surge query reporting every window's largest total, crossed or not."""
    return vcpu_surge_with(SURGE_TOTALS)


def vcpu_surge_with(report: str) -> str:
    """The vCPU Surge query with `report`, a SELECT over its CTEs (launched, calls, ended), in
    place of the crossings it reports."""
    return _fill("vcpu_surge.sql", "7 days", surge_report=report)


def service_surge_totals_query() -> str:
    """The Services vCPU Surge query reporting every window's largest total, crossed or not."""
    return service_surge_with(SURGE_TOTALS)


def service_surge_with(report: str) -> str:
    """The Services vCPU Surge query with `report` (a SELECT over its CTEs) in place of the
    crossings it reports."""
    return _service_ledger(
        "7 days",
        surge_report=report,
        service_calls_only="AND service_calls > 0",
        outcomes_read="c.outcome = 'success'",
        service_type_values=_type_values(service_type_rows(), 20),
    )


def service_counts_query(
    crossed_since_last_run: str = "", count_crossings: str = "", service_days_only: bool = True
) -> str:
    """HighInstanceCount's windows over the Services ledger: every day at its threshold that
    holds another service's call asking for instances (without `service_days_only`, every day
    at its threshold); with `crossed_since_last_run` and `count_crossings`, the days the
    scheduled query reports (a crossing of the streaming rule's, once)."""
    return _service_ledger(
        "7 days",
        crossed_since_last_run,
        launch_events=service_count_calls(),
        ledger_windows=_template("service_counts.sql"),
        service_days_only=(
            "AND COUNT(IFF(event_source IN ({ec2_sources}) OR instances = 0, NULL, 1)) > 0"
            if service_days_only
            else ""
        ),
        count_crossings=count_crossings,
        outcomes_read="c.outcome <> 'dry_run'",  # an attempt refused counts: it asked
        service_type_values=_type_values(count_type_rows(), 20),
    )


def _service_ledger(lookback: str, crossed_since_last_run: str = "", **fields) -> str:
    """A query reading the Services ledger (service_surge.sql): the other services' calls, the
    definitions that price them, and RunInstances."""
    install_global_helpers()
    import ec2_compute_helpers as helpers

    fields = {"launch_events": service_launch_calls(), **fields}
    return _fill(
        "service_surge.sql",
        lookback,
        crossed_since_last_run,
        namespaces=scaled_namespaces(helpers.ECS_EVENT_SOURCE),
        template_types=False,  # EC2 launch templates: read by the vCPU Surge query
        launch_columns=False,
        sizing_calls=_sql_list(service_sizing_calls()),
        legacy_vcpu_units=cpu_units(
            "COALESCE(r.value:container:vcpus, r.value:vcpus)::STRING", helpers.CPU_UNITS_PER_VCPU
        ),
        lambda_mb=str(helpers.LAMBDA_MB_PER_VCPU),
        lambda_max=str(helpers.LAMBDA_MAX_VCPUS),
        lambda_default_mb=str(helpers.LAMBDA_DEFAULT_MEMORY_MB),
        **service_items_fields(),
        **fields,
    )


def service_items_fields() -> dict:
    """What a query reading the other services' calls item by item needs: their actors
    (service_actors.sql) and the SQL of service_items.sql's placeholders."""
    install_global_helpers()
    import ec2_compute_helpers as helpers

    return {
        "actors": "service_actors.sql",
        "cpu_units": cpu_units("part.value:cpu::STRING"),
        "vcpu_units": cpu_units("part.value:value::STRING", helpers.CPU_UNITS_PER_VCPU),
        "eks_default_type": helpers.EKS_DEFAULT_INSTANCE_TYPE,
        "amplify_default": helpers.AMPLIFY_DEFAULT_COMPUTE_TYPE,
        "definition_calls": "("
        + _launch_events(service_definition_calls(), "event_source", "event_name", " OR ")
        + ")",
    }


def count_totals_query() -> str:
    """The High Instance Count query reporting every day at its threshold, whether or not the
    streaming rule alerted on it (a window of one principal, or crossed with an earlier one)."""
    return _fill("high_instance_count.sql", "25 hours", CROSSED_SINCE_LAST_RUN, count_crossings="")


def _template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8").rstrip()


def _hours(seconds: int) -> str:
    return f"{seconds // 3600} hours" if seconds % 3600 == 0 else f"{seconds} seconds"


def specs() -> dict[str, dict]:
    """File name -> YAML spec of every query."""
    install_global_helpers()
    import ec2_compute_config as config
    import ec2_compute_helpers as helpers

    window = config.vcpu_surge_window_seconds()
    days = config.first_seen_days()
    return {
        "vcpu_surge_query.yml": {
            "AnalysisType": "scheduled_query",
            "QueryName": "AWS EC2 Compute Abuse vCPU Surge",
            "Enabled": True,
            "Description": (
                f"Data-lake VCPUSurge: vCPUs per principal ({_hours(window)}, 24 hours, 7 days), "
                f"source IP and account ({_hours(window)}), as the streaming rule's windows; "
                "hourly, for what it missed (KV outages, late logs)."
            ),
            "SnowflakeQuery": vcpu_surge_with(_template("surge_alerts.sql")),
            "Schedule": {"RateMinutes": RATE_MINUTES, "TimeoutMinutes": 10},
            "Tags": ["AWS", "EC2", "Compute Abuse"],
        },
        "service_vcpu_surge_query.yml": {
            "AnalysisType": "scheduled_query",
            "QueryName": "AWS Compute Abuse Services vCPU Surge",
            "Enabled": True,
            "Description": (
                "Data-lake VCPUSurge for the other services: vCPUs of Fargate, SageMaker, EKS, "
                "EMR, Batch, Lambda, Lightsail, CodeBuild and Amplify, with RunInstances', per "
                "caller. Reports a window holding another service's call that adds capacity "
                "(EC2 alone: vCPU Surge's). Hourly."
            ),
            "SnowflakeQuery": service_surge_with(_template("surge_alerts.sql")),
            "Schedule": {"RateMinutes": RATE_MINUTES, "TimeoutMinutes": 10},
            "Tags": ["AWS", "Compute Abuse"],
        },
        "high_instance_count_query.yml": {
            "AnalysisType": "scheduled_query",
            "QueryName": "AWS EC2 Compute Abuse High Instance Count",
            "Enabled": True,
            "Description": (
                "Data-lake version of ComputeAbuse.AWS.EC2.HighInstanceCount, with its windows: "
                "instances requested per UTC day by a principal, from a source IP address and in "
                "an account, each with the streaming rule's threshold, across subnets, instance "
                "types and outcomes (Elastic's buckets listed per row): RunInstances' maxCount, "
                "fleets' and spot requests' target capacity, scheduled instances, and auto "
                "scaling groups' growth. Runs every hour over the last 25 hours, "
                "so each UTC day is seen whole; a day is reported once, by the run after the rows "
                "that took it over the threshold arrived."
            ),
            "SnowflakeQuery": _fill(
                "high_instance_count.sql",
                "25 hours",
                CROSSED_SINCE_LAST_RUN + FIRST_CROSSING,
                count_crossings=_template("count_crossings.sql"),
            ),
            "Schedule": {"RateMinutes": RATE_MINUTES, "TimeoutMinutes": 10},
            "Tags": ["AWS", "EC2", "Compute Abuse"],
        },
        "service_high_instance_count_query.yml": {
            "AnalysisType": "scheduled_query",
            "QueryName": "AWS Compute Abuse Services High Instance Count",
            "Enabled": True,
            "Description": (
                "Data-lake HighInstanceCount for the other services: instances asked of "
                "SageMaker, EKS, EMR, Batch (in its smallest type) and Lightsail, with "
                "RunInstances', per UTC day, refusals too. Reports a day holding another "
                "service's call for instances (EC2 alone: High Instance Count's)."
            ),
            "SnowflakeQuery": service_counts_query(
                CROSSED_SINCE_LAST_RUN + FIRST_CROSSING, _template("count_crossings.sql")
            ),
            "Schedule": {"RateMinutes": RATE_MINUTES, "TimeoutMinutes": 10},
            "Tags": ["AWS", "Compute Abuse"],
        },
        "launches_by_actor_query.yml": {
            "AnalysisType": "saved_query",
            "QueryName": "AWS EC2 Compute Abuse Launches by Actor",
            "Description": (
                "Hunting: EC2 capacity per actor over the last 7 days (launched, and asked of "
                "fleets, spot and auto scaling) with instances, vCPUs, "
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
        "other_services_capacity_query.yml": {
            "AnalysisType": "saved_query",
            "QueryName": "AWS Compute Abuse Other Compute Services",
            "Description": (
                "Hunting: compute asked of SageMaker, ECS and Fargate, EKS node groups, EMR, "
                "Batch, Lightsail, CodeBuild, Amplify and Lambda, and minimums Application "
                "Auto Scaling raises ECS services and Spot Fleets to, over the last 7 days, per "
                "principal and service: calls, refusals, how many (instances, nodes, tasks, "
                "Batch vCPUs), the types named, accelerated types first. The streaming rules "
                "price these calls; this query lists them for a hunt."
            ),
            "SnowflakeQuery": _fill(
                "other_services.sql",
                "7 days",
                launch_events=other_service_calls(),
                namespaces=scaled_namespaces(helpers.ECS_EVENT_SOURCE, helpers.EC2_EVENT_SOURCE),
                template_types=False,  # EC2 launch templates: not read by the other services
            ),
            "Tags": ["AWS", "Compute Abuse", "Hunting"],
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
                "Hunting, Elastic style: instances requested per UTC day by a principal, a "
                "source IP address and an account over the last 7 days (subnets, instance types "
                "and outcomes listed per row), at or above HighInstanceCount's thresholds."
            ),
            "SnowflakeQuery": _fill("high_instance_count.sql", "7 days", count_crossings=""),
            "Tags": ["AWS", "EC2", "Compute Abuse", "Hunting"],
        },
        "accelerated_family_first_seen_query.yml": {
            "AnalysisType": "scheduled_query",
            "QueryName": "AWS EC2 Compute Abuse Accelerated Family First Seen",
            "Enabled": True,
            "Description": (
                "New term: an accelerated (or otherwise unusual) instance family launched or "
                f"attempted in an account that had not shown it for {days} days, by EC2 or "
                "another compute service (SageMaker's ml.* types are EC2's; EKS, EMR, Batch). Runs "
                "every hour; each account and family is reported once, by the run after its "
                "first rows arrived. Needs that many days of CloudTrail in the data lake. "
                "Rule ComputeAbuse.AWS.EC2.AcceleratedFamilyFirstSeenDataLake."
            ),
            "SnowflakeQuery": _first_seen(
                "instance_family",
                days,
                ARRIVED_SINCE_LAST_RUN,
                f"every row arrived since the last hourly run: first in {days} days",
                term_filter=f"({unusual_family_filter()})",
            ),
            "Schedule": {"RateMinutes": RATE_MINUTES, "TimeoutMinutes": 10},
            "Tags": ["AWS", "EC2", "Compute Abuse", "New Term"],
        },
        **{
            f"first_seen_{term}_query.yml": _saved_first_seen(term, days)
            for term in FIRST_SEEN_TERMS
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
