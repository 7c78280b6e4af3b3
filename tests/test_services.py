"""Compute beyond EC2 in the capacity ledger: SageMaker jobs, notebooks, Studio apps and HyperPod
clusters are priced like EC2 launches (ml.* types are EC2 types), so every detection sees them,
charged to the principal, with the service named."""

import json
from datetime import UTC, datetime

import pytest

import ec2_compute_helpers as helpers
from compute_abuse import events
from compute_abuse.content import load_rule, rule_spec
from compute_abuse.events import (
    api_call,
    application_autoscaling_call,
    auto_scaling_group,
    create_compute_environment,
    create_endpoint,
    create_endpoint_config,
    create_fleet,
    create_launch_template,
    create_service,
    iam_user,
    modify_spot_fleet_request,
    put_scaling_policy,
    put_scheduled_action,
    register_scalable_target,
    register_task_definition,
    request_spot_fleet,
    run_instances,
    run_task,
    sagemaker_job,
    start_instances,
    tuning_job,
    update_compute_environment,
)

T0 = int(datetime(2024, 8, 7, 14, 0, tzinfo=UTC).timestamp())


def at(epoch):
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sagemaker(name, request, epoch=T0, user="mallory", **fields):
    return api_call(
        "sagemaker.amazonaws.com",
        name,
        eventTime=at(epoch),
        userIdentity=iam_user(user),
        requestParameters=request,
        responseElements=fields.pop("response", {"arn": "arn:aws:sagemaker:x"}),
        **fields,
    )


def training(instance_type, count, epoch=T0, user="mallory", **fields):
    if "response" in fields:
        fields["responseElements"] = fields.pop("response")
    return sagemaker_job(
        "CreateTrainingJob",
        instance_type,
        count,
        eventTime=at(epoch),
        userIdentity=iam_user(user),
        **fields,
    )


def hyperpod(groups, epoch=T0, user="mallory"):
    return sagemaker(
        "CreateCluster",
        {
            "clusterName": "c",
            "instanceGroups": [
                {"instanceGroupName": f"g{i}", "instanceType": t, "instanceCount": n}
                for i, (t, n) in enumerate(groups)
            ],
        },
        epoch,
        user,
    )


@pytest.fixture(scope="module")
def rules():
    return {
        name: load_rule(rule_spec(f"ComputeAbuse.AWS.EC2.{name}"))
        for name in (
            "UnusualInstanceType",
            "VCPUSurge",
            "HighInstanceCount",
            "HijackPlaybook",
            "DryRunProbe",
            "RegionSpread",
        )
    }


def context(result):
    return json.loads(result.alert_context_output)


@pytest.mark.parametrize(
    "event, instances, vcpus, accelerators, types",
    [
        (training("ml.p4d.24xlarge", 10), 10, 960, 80, ("p4d.24xlarge",)),
        (
            hyperpod([("ml.t3.xlarge", 1), ("ml.p5.48xlarge", 8)]),
            9,
            4 + 8 * 192,
            64,
            ("t3.xlarge", "p5.48xlarge"),
        ),
        (
            tuning_job("ml.g5.12xlarge", 1, 10, eventTime=at(T0), userIdentity=iam_user("mallory")),
            10,
            480,
            40,
            ("g5.12xlarge",),
        ),
        (
            sagemaker(
                "CreateProcessingJob",
                {
                    "processingResources": {
                        "clusterConfig": {"instanceType": "ml.m5.xlarge", "instanceCount": 2}
                    }
                },
            ),
            2,
            8,
            0,
            ("m5.xlarge",),
        ),
        (
            sagemaker(
                "CreateTransformJob",
                {"transformResources": {"instanceType": "ml.c5.2xlarge", "instanceCount": 3}},
            ),
            3,
            24,
            0,
            ("c5.2xlarge",),
        ),
        (
            sagemaker("CreateNotebookInstance", {"instanceType": "ml.g5.xlarge"}),
            1,
            4,
            1,
            ("g5.xlarge",),
        ),
        (
            sagemaker(
                "CreateApp",
                {"appType": "JupyterLab", "resourceSpec": {"instanceType": "ml.t3.medium"}},
            ),
            1,
            2,
            0,
            ("t3.medium",),
        ),
        (training(None, None), 1, 0, 0, ()),  # no type: nothing guessed
    ],
)
def test_each_sagemaker_api_is_priced_by_the_catalog(event, instances, vcpus, accelerators, types):
    assert helpers.is_launch_event(event)
    summary = helpers.summarize_launch(event)
    assert (summary.instance_count, summary.vcpus, summary.accelerators) == (
        instances,
        vcpus,
        accelerators,
    )
    assert summary.instance_types == types and summary.launches_later
    assert helpers.service_name(event) == "SageMaker"


def test_a_stolen_key_training_on_gpus_alerts_naming_the_person_and_the_service(kv, rules):
    event = training("ml.p4d.24xlarge", 10)
    (unusual,) = kv.run(rules["UnusualInstanceType"], [event])
    assert unusual.title_output.startswith(
        "mallory requested 10 unusual SageMaker instance(s) [p4d.24xlarge] via CreateTrainingJob"
    )
    assert unusual.severity_output == "HIGH" and context(unusual)["service"] == "SageMaker"
    (surge,) = kv.run(rules["VCPUSurge"], [event])
    assert context(surge)["window_total"] == 960 and surge.dedup_output.endswith("user/mallory")
    # jobs are counted by vCPUs alone (VCPUS_ONLY_EVENTS): VCPUSurge's, not HighInstanceCount's
    assert kv.run(rules["HighInstanceCount"], [event]) == []


def test_vcpus_add_up_across_ec2_and_sagemaker(kv, rules):
    ec2 = run_instances("c5.24xlarge", 5, 5, event_time=at(T0), identity=iam_user("mallory"))
    assert kv.run(rules["VCPUSurge"], [ec2]) == []  # 480 vCPUs
    (alert,) = kv.run(rules["VCPUSurge"], [training("ml.c5.9xlarge", 10, T0 + 60)])  # +360
    assert context(alert)["window_total"] == 840


def test_a_refused_gpu_job_is_a_low_attempt(kv, rules):
    refused = training(
        "ml.p5.48xlarge",
        4,
        errorCode="ResourceLimitExceeded",
        errorMessage="The account-level service limit",
        response=None,
    )
    (alert,) = kv.run(rules["UnusualInstanceType"], [refused])
    assert alert.severity_output == "LOW"
    assert "tried to launch 4 unusual SageMaker instance(s) [p5.48xlarge]" in alert.title_output


def test_a_gpu_job_is_the_playbooks_launch_stage(kv, rules):
    events = [
        api_call(
            "servicequotas.amazonaws.com",
            "GetServiceQuota",
            eventTime=at(T0),
            userIdentity=iam_user("mallory"),
            requestParameters={"serviceCode": "ec2", "quotaCode": "L-417A185B"},
        ),
        api_call(
            "servicequotas.amazonaws.com",
            "RequestServiceQuotaIncrease",
            eventTime=at(T0 + 60),
            userIdentity=iam_user("mallory"),
            requestParameters={"serviceCode": "sagemaker", "quotaCode": "L-1234"},
        ),
        training("ml.p4d.24xlarge", 2, T0 + 120),
    ]
    (alert,) = kv.run(rules["HijackPlaybook"], events)
    assert [s["stage"] for s in context(alert)["stages"]] == ["recon", "quota-increase", "launch"]


def test_everyday_data_science_stays_quiet(kv, rules):
    events = [
        sagemaker(
            "CreateProcessingJob",
            {
                "processingResources": {
                    "clusterConfig": {"instanceType": "ml.m5.xlarge", "instanceCount": 2}
                }
            },
            T0,
            "ds",
        ),
        sagemaker("CreateNotebookInstance", {"instanceType": "ml.t3.medium"}, T0 + 60, "ds"),
        sagemaker("CreateApp", {"resourceSpec": {"instanceType": "ml.t3.medium"}}, T0 + 120, "ds"),
        training("ml.m5.2xlarge", 1, T0 + 180, "ds"),
        training(None, None, T0 + 240, "ds"),
    ]
    for name, rule in rules.items():
        assert kv.run(rule, events) == [], name


# --- StartInstances: stopped instances coming back --------------------------------------------


def start(instance_ids, epoch, user="mallory", **fields):
    return start_instances(instance_ids, eventTime=at(epoch), userIdentity=iam_user(user), **fields)


def launched_ids(event):
    return [item["instanceId"] for item in event["responseElements"]["instancesSet"]["items"]]


DAY = 86400


def test_starting_remembered_instances_counts_their_vcpus_and_types(kv, rules):
    """Launched (and recorded by VCPUSurge), stopped, and started again three days later with
    more: the start is priced by what the pack remembered of each instance."""
    big = run_instances("c5.24xlarge", 8, 8, event_time=at(T0), identity=iam_user("mallory"))
    gpus = run_instances("p3.16xlarge", 2, 2, event_time=at(T0 + DAY), identity=iam_user("mallory"))
    assert kv.run(rules["VCPUSurge"], [big, gpus]) == []  # 768 vCPUs, a day later 128
    restart = start([*launched_ids(big), *launched_ids(gpus), "i-0unknown000000001"], T0 + 4 * DAY)
    summary = helpers.summarize_launch(restart)
    assert (summary.instance_count, summary.vcpus) == (11, 0)  # alone: counted by number only
    (surge,) = kv.run(rules["VCPUSurge"], [restart])
    assert context(surge)["window_total"] == 896  # 8 x 96 + 2 x 64, the unknown one by number
    assert context(surge)["instance_types"] == ["c5.24xlarge", "p3.16xlarge"]
    (unusual,) = kv.run(rules["UnusualInstanceType"], [restart])
    assert "unusual EC2 instance(s) [p3.16xlarge] via StartInstances" in unusual.title_output


def test_started_instances_the_pack_never_saw_count_by_number(kv, rules):
    unknown = [f"i-0{n:016x}" for n in range(12)]
    (count,) = kv.run(rules["HighInstanceCount"], [start(unknown, T0)])
    assert context(count)["window_total"] == 12
    assert kv.run(rules["UnusualInstanceType"], [start(unknown, T0 + 60)]) == []  # no type


def test_a_scheduler_restarting_two_small_instances_every_morning_stays_quiet(kv, rules):
    launch = run_instances("t3.micro", 2, 2, event_time=at(T0), identity=iam_user("scheduler"))
    ids = launched_ids(launch)
    events = [launch, *[start(ids, T0 + d * DAY, "scheduler") for d in range(1, 8)]]
    for name, rule in rules.items():
        assert kv.run(rule, events) == [], name


# --- Auto scaling groups: growth of what exists -----------------------------------------------


def desired(count, epoch, user="mallory", group="workers"):
    return api_call(
        "autoscaling.amazonaws.com",
        "SetDesiredCapacity",
        eventTime=at(epoch),
        userIdentity=iam_user(user),
        responseElements=None,
        requestParameters={
            "autoScalingGroupName": group,
            "desiredCapacity": count,
            "honorCooldown": False,
        },
    )


def group(count, epoch, types=("g5.4xlarge",), user="platform"):
    from compute_abuse.events import auto_scaling_group

    return auto_scaling_group(
        desired=count, override_types=types, eventTime=at(epoch), userIdentity=iam_user(user)
    )


def test_growing_a_remembered_gpu_group_counts_its_growth_at_the_groups_types(kv, rules):
    created = group(2, T0 - 30 * DAY)
    assert kv.run(rules["VCPUSurge"], [created]) == []  # 32 vCPUs, remembered by VCPUSurge
    grow = desired(200, T0, "mallory")
    (surge,) = kv.run(rules["VCPUSurge"], [grow])
    assert context(surge)["window_total"] == 198 * 16 and surge.dedup_output.endswith("mallory")
    (unusual,) = kv.run(rules["UnusualInstanceType"], [grow])
    assert "198 unusual EC2 instance(s) [g5.4xlarge] via SetDesiredCapacity" in unusual.title_output
    (count,) = kv.run(rules["HighInstanceCount"], [grow])
    assert context(count)["window_total"] == 198


def test_everyday_resizes_of_known_groups_stay_quiet(kv, rules):
    """A group scaled 2 to 4, and a web tier of 100 nudged to 101 (growth 2, and 1)."""
    scaled = [group(2, T0 - DAY, ("c5.large",)), desired(4, T0, "ops")]
    for name, rule in rules.items():
        assert kv.run(rule, scaled) == [], name
    kv.run(rules["VCPUSurge"], [desired(100, T0 + 60, "ops", "web")])  # remembered
    nudge = desired(101, T0 + 2 * DAY, "ops", "web")
    assert helpers.summarize_launch(nudge).requested_instance_count == 101  # the call alone
    for name, rule in rules.items():
        assert kv.run(rule, [nudge]) == [], name


def test_a_group_the_pack_never_saw_counts_its_whole_new_size(kv, rules):
    (count,) = kv.run(rules["HighInstanceCount"], [desired(50, T0, "mallory", "legacy")])
    assert context(count)["window_total"] == 50
    assert kv.run(rules["UnusualInstanceType"], [desired(60, T0 + 60, "mallory", "legacy")]) == []


# --- ECS: tasks of a task definition's size ------------------------------------------------------


def ecs(factory, *args, epoch=T0, user="mallory", **kwargs):
    return factory(*args, eventTime=at(epoch), userIdentity=iam_user(user), **kwargs)


@pytest.mark.parametrize(
    "event, tasks, vcpus, gpus",
    [
        # Fargate tasks listed in the response: each task's cpu (4,096 units = 4 vCPUs).
        (lambda: run_task("miner:3", 10), 10, 40, 0),
        # Four quarter-vCPU tasks are one vCPU, rounded up once.
        (lambda: run_task("cron", 4, cpu="256"), 4, 1, 0),
        # Placed on EC2 container instances: counted there, so no vCPUs here.
        (lambda: run_task("web", 6, launch_type="EC2"), 6, 0, 0),
        # Neither a launch type nor a capacity provider strategy: tasks listed with their cpu.
        (lambda: run_task("web", 2, launch_type=None), 2, 8, 0),
        # Task-level overrides size the request; the response is still what launched.
        (
            lambda: {
                **run_task("miner", 2, placed=0),
                "requestParameters": {
                    "taskDefinition": "miner",
                    "count": 2,
                    "overrides": {"cpu": "16 vCPU"},
                },
            },
            2,
            32,
            0,
        ),
    ],
)
def test_each_ecs_call_is_priced_by_its_tasks(event, tasks, vcpus, gpus):
    summary = helpers.summarize_launch(event())
    assert (summary.instance_count, summary.vcpus, summary.accelerators) == (tasks, vcpus, gpus)
    assert helpers.service_name(event()) == "ECS"


def test_a_refused_run_task_is_a_failure_with_ecs_reason():
    summary = helpers.summarize_launch(run_task("miner:3", 5, placed=0))
    assert (summary.outcome, summary.error_code) == (helpers.OUTCOME_FAILURE, "RESOURCE:CPU")
    assert summary.needs_template  # its size comes from the task definition, if remembered


def test_the_aws_campaign_service_of_miners_alerts_naming_the_person_and_ecs(kv, rules):
    """AWS's November 2025 campaign: a task definition of a miner image, then a service of many
    Fargate tasks. CreateService names the family; its size is the remembered revision's."""
    definition = ecs(register_task_definition, "sysupdate", "16384", revision=2)
    service = ecs(create_service, "sysupdate", desired=60, epoch=T0 + 30, name="sysupdate")
    (surge,) = kv.run(rules["VCPUSurge"], [definition, service])
    context = json.loads(surge.alert_context_output)
    assert "mallory launched 960 vCPUs" in surge.title_output
    assert context["service"] == "ECS" and context["principal"].endswith("user/mallory")
    assert context["task_definition"] == "sysupdate@$Latest"
    assert (context["task_cpu_units"], context["task_gpus"]) == (16384, 0)
    assert context["launch_template_status"] == "known"


def test_a_service_created_before_its_task_definition_arrives_waits_for_it(kv, rules):
    service = ecs(create_service, "sysupdate:2", desired=60, epoch=T0 + 30)
    definition = ecs(register_task_definition, "sysupdate", "16384", revision=2)
    assert kv.run(rules["VCPUSurge"], [service]) == []  # size unknown: nothing yet
    (surge,) = kv.run(rules["VCPUSurge"], [definition])
    assert json.loads(surge.alert_context_output)["event_id"] == service["eventID"]


def test_gpu_tasks_run_on_gpu_instances_counted_at_their_launch():
    """Fargate has no GPUs: GPU tasks run on EC2 container instances, whose vCPUs and GPUs were
    counted when they launched. The task definition's GPUs are read, the tasks add nothing."""
    definition = ecs(register_task_definition, "train", "16384", gpus=4, fargate=False)
    assert helpers.task_size(definition["requestParameters"]) == helpers.TaskSize(16384, 4)
    tasks = ecs(run_task, "train:1", 8, launch_type="EC2", cpu="16384")
    summary = helpers.summarize_launch(tasks)
    assert (summary.instance_count, summary.vcpus, summary.accelerators) == (8, 0, 0)
    assert not summary.needs_template


def test_vcpus_add_up_across_ec2_and_ecs(kv, rules):
    ec2 = run_instances("c5.24xlarge", 5, 5, identity=iam_user("mallory"), event_time=at(T0))
    assert kv.run(rules["VCPUSurge"], [ec2]) == []  # 480 vCPUs
    (alert,) = kv.run(rules["VCPUSurge"], [ecs(run_task, "x:1", 90, epoch=T0 + 60)])  # +360
    assert json.loads(alert.alert_context_output)["window_total"] == 840


def test_ecs_in_three_regions_is_a_region_spread(kv, rules):
    events = [
        ecs(run_task, "x:1", 1, epoch=T0 + i, awsRegion=region)
        for i, region in enumerate(("us-east-1", "eu-west-1", "ap-south-1"))
    ]
    (alert,) = kv.run(rules["RegionSpread"], events)
    assert "compute in 3 regions" in alert.title_output


def test_everyday_ecs_stays_quiet(kv, rules):
    """A scheduled Fargate task every ten minutes for a day (144 small tasks), a deploy role
    creating services of a few tasks, and tasks on the cluster's own EC2 instances."""
    scheduler = [
        ecs(run_task, "report:7", 1, cpu="512", epoch=T0 + 600 * i, user="scheduler")
        for i in range(144)
    ]
    deploys = [
        ecs(register_task_definition, "api", "1024", revision=40, user="deploy"),
        *(
            ecs(
                create_service,
                "api:40",
                desired=4,
                epoch=T0 + 60 + i,
                name=f"api-{i}",
                user="deploy",
            )
            for i in range(5)
        ),
    ]
    on_instances = [
        ecs(run_task, "batch:1", 50, launch_type="EC2", epoch=T0 + 3600 + i, user="batch")
        for i in range(20)
    ]
    for name in ("VCPUSurge", "HighInstanceCount", "UnusualInstanceType", "HijackPlaybook"):
        assert kv.run(rules[name], scheduler + deploys + on_instances) == [], name


def update_service(service="web", desired=None, task_definition=None, epoch=T0, user="mallory"):
    """UpdateService naming its cluster by ARN."""
    cluster = "arn:aws:ecs:us-east-1:111122223333:cluster/default"
    return ecs(
        events.update_service, service, desired, task_definition, cluster, epoch=epoch, user=user
    )


def test_scaling_a_known_service_up_counts_its_growth_at_its_task_size(kv, rules):
    """An attacker grows an existing service from 2 to 60 tasks of 16 vCPUs: 58 new tasks, 928
    vCPUs, priced by the size the service was created with (the update names no task
    definition)."""
    events = [
        ecs(register_task_definition, "etl", "16384", revision=5, user="dataeng"),
        ecs(create_service, "etl:5", desired=2, name="etl", user="dataeng"),
    ]
    assert kv.run(rules["VCPUSurge"], events) == []  # 32 vCPUs
    (surge,) = kv.run(rules["VCPUSurge"], [update_service("etl", 60, epoch=T0 + 300)])
    context = json.loads(surge.alert_context_output)
    assert (context["requested_instance_count"], context["requested_vcpus"]) == (58, 928)
    assert context["service"] == "ECS" and context["principal"].endswith("user/mallory")


def test_everyday_service_deploys_stay_quiet(kv, rules):
    """A deploy role rolls 30 new revisions of a 14-task service (same desired count: counted
    whole each time, 840 vCPUs in five hours would cross), forces
    new deployments (no desired count), and scales a service on EC2 container instances."""
    events = [ecs(create_service, "api:1", desired=14, name="api", user="deploy")]
    for revision in range(2, 32):
        events.append(
            ecs(
                register_task_definition,
                "api",
                "2048",
                revision=revision,
                epoch=T0 + 600 * revision,
                user="deploy",
            )
        )
        events.append(
            update_service("api", 14, f"api:{revision}", T0 + 600 * revision + 5, "deploy")
        )
        events.append(update_service("api", None, None, T0 + 600 * revision + 9, "deploy"))
    events.append(
        ecs(create_service, "batch:1", desired=1, launch_type="EC2", name="batch", user="deploy")
    )
    events.append(update_service("batch", 400, None, T0 + 30000, "deploy"))
    for name in ("VCPUSurge", "RegionSpread", "HijackPlaybook"):
        assert kv.run(rules[name], events) == [], name


# --- SageMaker endpoints: priced by the endpoint config they name ---------------------------------


def endpoint_config(name, variants, epoch=T0, user="mallory"):
    return create_endpoint_config(name, variants, eventTime=at(epoch), userIdentity=iam_user(user))


def endpoint(config, epoch=T0 + 60, user="mallory", name="CreateEndpoint"):
    return create_endpoint(config, "e", name, eventTime=at(epoch), userIdentity=iam_user(user))


def test_a_gpu_endpoint_is_priced_by_its_config_and_alerts_naming_the_person(kv, rules):
    events = [endpoint_config("big", [("ml.p4d.24xlarge", 9), ("ml.m5.large", 2)]), endpoint("big")]
    (unusual,) = kv.run(rules["UnusualInstanceType"], events)
    assert unusual.title_output.startswith(
        "mallory requested 11 unusual SageMaker instance(s) [p4d.24xlarge] via CreateEndpoint"
    )
    (surge,) = kv.run(rules["VCPUSurge"], events)
    assert context(surge)["window_total"] == 9 * 96 + 2 * 2
    assert context(surge)["launch_template_status"] == "known"


def test_an_endpoint_before_its_config_waits_for_it(kv, rules):
    """The config delivered after the endpoint (or written by another invocation at the same
    moment): the endpoint is judged when the config arrives, about the endpoint."""
    config, create = endpoint_config("late", [("ml.g5.48xlarge", 4)]), endpoint("late")
    (alert,) = kv.run(rules["UnusualInstanceType"], [create, config])
    assert "via CreateEndpoint" in alert.title_output and "g5.48xlarge" in alert.title_output


def test_an_endpoint_of_a_config_never_seen_says_so(kv, rules):
    summary = helpers.summarize_launch(endpoint("unseen"))
    assert summary.needs_template and summary.vcpus == 0
    assert kv.run(rules["UnusualInstanceType"], [endpoint("unseen")]) == []


def test_everyday_endpoints_stay_quiet(kv, rules):
    """A team's small endpoint, updated to a new config of the same size, and a serverless one."""
    serverless = sagemaker(
        "CreateEndpointConfig",
        {
            "endpointConfigName": "sls",
            "productionVariants": [
                {"variantName": "v", "modelName": "m", "serverlessConfig": {"memorySizeInMB": 2048}}
            ],
        },
        T0,
        "ds",
    )
    events = [
        endpoint_config("api-1", [("ml.m5.large", 2)], T0, "ds"),
        endpoint("api-1", T0 + 60, "ds"),
        endpoint_config("api-2", [("ml.m5.large", 2)], T0 + DAY, "ds"),
        endpoint("api-2", T0 + DAY + 60, "ds", "UpdateEndpoint"),
        serverless,
        endpoint("sls", T0 + 120, "ds"),
    ]
    for name, rule in rules.items():
        assert kv.run(rule, events) == [], name


# --- EC2 fleets resized: ModifyFleet, ModifySpotFleetRequest --------------------------------------


def modify_fleet(fleet_id, capacity, epoch, user="mallory"):
    return events.modify_fleet(fleet_id, capacity, eventTime=at(epoch), userIdentity=iam_user(user))


def modify_spot_fleet(request_id, capacity, epoch, user="mallory"):
    return events.modify_spot_fleet_request(
        request_id, capacity, eventTime=at(epoch), userIdentity=iam_user(user)
    )


def fleet_id(event):
    return event["responseElements"]["CreateFleetResponse"]["fleetId"]


def test_growing_a_remembered_fleet_counts_its_growth_at_its_types(kv, rules):
    from compute_abuse.events import create_fleet

    fleet = create_fleet(
        ("g5.4xlarge",), 2, "maintain", eventTime=at(T0 - DAY), identity=iam_user("platform")
    )
    assert kv.run(rules["VCPUSurge"], [fleet]) == []  # 32 vCPUs, remembered
    grow = modify_fleet(fleet_id(fleet), 200, T0)
    (surge,) = kv.run(rules["VCPUSurge"], [grow])
    assert context(surge)["window_total"] == 198 * 16 and surge.dedup_output.endswith("mallory")
    (unusual,) = kv.run(rules["UnusualInstanceType"], [grow])
    assert "198 unusual EC2 instance(s) [g5.4xlarge] via ModifyFleet" in unusual.title_output


def test_a_fleet_in_vcpus_grows_in_vcpus(kv, rules):
    from compute_abuse.events import create_fleet

    fleet = create_fleet(
        ("c5.large", "c5.24xlarge"),
        64,
        "maintain",
        unit="vcpu",
        eventTime=at(T0 - DAY),
        identity=iam_user("platform"),
    )
    kv.run(rules["VCPUSurge"], [fleet])
    (surge,) = kv.run(rules["VCPUSurge"], [modify_fleet(fleet_id(fleet), 1000, T0)])
    assert context(surge)["window_total"] == 1000 - 64


def test_growing_a_spot_fleet_request_counts_its_growth(kv, rules):
    from compute_abuse.events import request_spot_fleet

    spot = request_spot_fleet(
        ("p3.2xlarge",), 1, eventTime=at(T0 - DAY), userIdentity=iam_user("platform")
    )
    kv.run(rules["VCPUSurge"], [spot])
    (surge,) = kv.run(rules["VCPUSurge"], [modify_spot_fleet("sfr-1", 120, T0)])
    assert context(surge)["window_total"] == 119 * 8 and "119 accelerator(s)" in surge.title_output


def test_everyday_fleet_resizes_stay_quiet(kv, rules):
    """A fleet scaled 2 to 4 and back; a spot fleet the pack never saw set to 3 (by number)."""
    from compute_abuse.events import create_fleet

    fleet = create_fleet(
        ("c5.large",), 2, "maintain", eventTime=at(T0 - DAY), identity=iam_user("ops")
    )
    events = [
        fleet,
        modify_fleet(fleet_id(fleet), 4, T0, "ops"),
        modify_fleet(fleet_id(fleet), 2, T0 + 3600, "ops"),
        modify_spot_fleet("sfr-unknown", 3, T0 + 60, "ops"),
    ]
    for name, rule in rules.items():
        assert kv.run(rule, events) == [], name


# --- Attribute-based instance requirements ------------------------------------------------------


def fleet_with_requirements(requirements, capacity=20, **overrides):
    """A maintain fleet naming InstanceRequirements (PascalCase, CreateFleet's) and no type."""
    event = create_fleet((), capacity, fleet_type="maintain", **overrides)
    configs = event["requestParameters"]["CreateFleetRequest"]["LaunchTemplateConfigs"]
    configs["Overrides"] = {"InstanceRequirements": requirements, "tag": 1}
    return event


def group_with_requirements(requirements, desired=4, **overrides):
    """A mixed-instances auto scaling group naming instanceRequirements (camelCase)."""
    event = auto_scaling_group(desired=desired, override_types=("c5.large",), **overrides)
    policy = event["requestParameters"]["mixedInstancesPolicy"]["launchTemplate"]
    policy["overrides"] = [{"instanceRequirements": requirements}]
    return event


def test_requirements_for_gpus_are_priced_and_unusual(kv):
    rules_ = {
        n: load_rule(rule_spec(f"ComputeAbuse.AWS.EC2.{n}"))
        for n in ("UnusualInstanceType", "VCPUSurge")
    }
    event = fleet_with_requirements(
        {
            "VCpuCount": {"Min": 32, "Max": 96},
            "MemoryMiB": {"Min": 65536},
            "AcceleratorCount": {"Min": 4},
            "AcceleratorManufacturers": {"item": "nvidia"},
            "AcceleratorTypes": {"item": "gpu"},
        },
        capacity=40,
        eventTime=at(T0),
    )
    summary = helpers.summarize_launch(event)
    assert len(summary.requested_instance_types) == 2  # the smallest and largest that qualify
    assert summary.requested_accelerators >= 40 * 4  # at least four GPUs each
    (unusual,) = kv.run(rules_["UnusualInstanceType"], [event])
    assert unusual.severity_output == "HIGH" and unusual.title_output.startswith("alice")
    (surge,) = kv.run(rules_["VCPUSurge"], [event])
    assert json.loads(surge.alert_context_output)["window_total"] >= 40 * 32


@pytest.mark.parametrize(
    "requirements, least_vcpus, most_vcpus",
    [
        ({"vCpuCount": {"min": 2, "max": 4}}, 2, 4),  # no accelerators asked: none counted
        ({"vCpuCount": {"min": 8, "max": 8}, "acceleratorCount": {"max": 0}}, 8, 8),
        ({"vCpuCount": {"min": 4}, "acceleratorTypes": ["gpu"]}, 4, 64),
    ],  # p2.16xlarge: 16 GPUs
)
def test_requirements_give_the_smallest_and_largest_qualifying_type(
    requirements, least_vcpus, most_vcpus
):
    summary = helpers.summarize_launch(group_with_requirements(requirements, desired=1))
    assert (summary.requested_vcpus, summary.requested_vcpus_max) == (least_vcpus, most_vcpus)
    accelerated = bool(requirements.get("acceleratorTypes"))
    assert (summary.requested_accelerators > 0) == accelerated


def test_a_cpu_only_requirements_group_stays_quiet(kv):
    """Karpenter-like requirements (2 to 8 vCPUs, no accelerators asked for) at a daily size."""
    requirements = {"vCpuCount": {"min": 2, "max": 8}, "memoryMiB": {"min": 4096}}
    event = group_with_requirements(requirements, desired=6, eventTime=at(T0))
    for name in ("UnusualInstanceType", "VCPUSurge", "HighInstanceCount"):
        rule = load_rule(rule_spec(f"ComputeAbuse.AWS.EC2.{name}"))
        assert kv.run(rule, [event]) == [], name


# --- Scheduled actions and scaling policies ------------------------------------------------------


def autoscaling(event_name, request, epoch=T0, user="mallory"):
    return api_call(
        "autoscaling.amazonaws.com",
        event_name,
        eventTime=at(epoch),
        userIdentity=iam_user(user),
        requestParameters=request,
    )


def platform_group(instance_type="g5.12xlarge", desired=2):
    """The platform team's group "workers", created the day before: by default of g5.12xlarge
    (48 vCPUs, 4 GPUs)."""
    return auto_scaling_group(
        desired=desired,
        override_types=(instance_type,),
        eventTime=at(T0 - 86400),
        userIdentity=iam_user("platform"),
    )


def scaling_policy(kind="ChangeInCapacity", adjustment=50, name="burst", epoch=T0 - 3600):
    return put_scaling_policy(
        "workers", name, kind, adjustment, eventTime=at(epoch), userIdentity=iam_user("platform")
    )


@pytest.mark.parametrize(
    "last, kind, adjustment, size",
    [
        (4, "ChangeInCapacity", 3, 7),
        (4, "ChangeInCapacity", -9, 0),
        (4, "ExactCapacity", 40, 40),
        (10, "PercentChangeInCapacity", 25, 13),
        (0, "PercentChangeInCapacity", 100, 0),
    ],
)
def test_a_scaling_adjustment_gives_the_groups_new_size(last, kind, adjustment, size):
    assert helpers.adjusted_size(last, kind, adjustment) == size


def test_a_scheduled_action_growing_a_gpu_group_is_charged_to_who_scheduled_it(kv):
    surge = load_rule(rule_spec("ComputeAbuse.AWS.EC2.VCPUSurge"))
    action = autoscaling(
        "PutScheduledUpdateGroupAction",
        {
            "autoScalingGroupName": "workers",
            "scheduledActionName": "night",
            "startTime": "2024-08-08T01:00:00Z",
            "desiredCapacity": 40,
        },
    )
    (alert,) = kv.run(surge, [platform_group(), action])
    context = json.loads(alert.alert_context_output)
    assert context["window_total"] == 38 * 48 and alert.dedup_output.endswith("user/mallory")
    assert context["requested_accelerator_count"] == 38 * 4


@pytest.mark.parametrize(
    "policy_name",
    [
        "burst",
        "arn:aws:autoscaling:us-east-1:111122223333:"
        "scalingPolicy:0b1c:autoScalingGroupName/workers:policyName/burst",
    ],
)
def test_executing_a_scaling_policy_counts_its_adjustment(kv, policy_name):
    surge = load_rule(rule_spec("ComputeAbuse.AWS.EC2.VCPUSurge"))
    execute = autoscaling(
        "ExecutePolicy",
        {"autoScalingGroupName": "workers", "policyName": policy_name, "honorCooldown": False},
    )
    (alert,) = kv.run(surge, [platform_group(), scaling_policy(), execute])
    assert json.loads(alert.alert_context_output)["window_total"] == 50 * 48
    assert alert.dedup_output.endswith("user/mallory")


def test_an_exact_capacity_policy_counts_growth_over_the_last_size(kv):
    surge = load_rule(rule_spec("ComputeAbuse.AWS.EC2.VCPUSurge"))
    execute = autoscaling(
        "ExecutePolicy", {"autoScalingGroupName": "workers", "policyName": "exact"}
    )
    events = [platform_group(desired=10), scaling_policy("ExactCapacity", 30, "exact"), execute]
    (alert,) = kv.run(surge, events)
    assert json.loads(alert.alert_context_output)["window_total"] == 20 * 48


def alerts_after_a_new_minimum(kv, monkeypatch, event_name, group_size, desired, threshold):
    """Mallory's alerts per rule when the platform team's group of `group_size` c5.4xlarge gets
    a minimum of 12 (`event_name`) and then a desired size of `desired`; HighInstanceCount
    alerts at `threshold` instances, VCPUSurge above as many c5.4xlarge less one vCPU."""
    import ec2_compute_config as config

    events = [
        platform_group("c5.4xlarge", desired=group_size),
        autoscaling(event_name, {"autoScalingGroupName": "workers", "minSize": 12}),
        autoscaling(
            "SetDesiredCapacity",
            {"autoScalingGroupName": "workers", "desiredCapacity": desired},
            T0 + 60,
        ),
    ]
    monkeypatch.setattr(config, "HIGH_INSTANCE_COUNT_THRESHOLD", threshold)
    monkeypatch.setattr(config, "VCPU_SURGE_THRESHOLD", threshold * 16 - 1)
    alerts = {}
    for name in ("VCPUSurge", "HighInstanceCount"):  # VCPUSurge remembers the group's sizes
        rule = load_rule(rule_spec(f"ComputeAbuse.AWS.EC2.{name}"))
        alerts[name] = len([a for a in kv.run(rule, events) if "user/mallory" in a.dedup_output])
    return alerts


@pytest.mark.parametrize("event_name", ["UpdateAutoScalingGroup", "PutScheduledUpdateGroupAction"])
@pytest.mark.parametrize("threshold, alerts", [(4, 1), (5, 0)])
def test_a_raised_minimum_counts_the_groups_growth_not_the_whole_minimum(
    kv, monkeypatch, event_name, threshold, alerts
):
    """A group of 10 c5.4xlarge whose minimum is raised to 12 grows by 2 (not 12: ten run
    already); a desired size of 14 then grows it by 2 more: 4 instances, 64 vCPUs in all."""
    found = alerts_after_a_new_minimum(kv, monkeypatch, event_name, 10, 14, threshold)
    assert found == {"VCPUSurge": alerts, "HighInstanceCount": alerts}


@pytest.mark.parametrize("event_name", ["UpdateAutoScalingGroup", "PutScheduledUpdateGroupAction"])
@pytest.mark.parametrize("desired, alerts", [(20, 0), (21, 1)])
def test_a_lowered_minimum_leaves_the_groups_size(kv, monkeypatch, event_name, desired, alerts):
    """A group of 20 whose minimum is set to 12 still runs 20 (AWS raises a group to a new
    minimum, never lowers it): sizing it to 20 again grows nothing, to 21 grows one instance."""
    found = alerts_after_a_new_minimum(kv, monkeypatch, event_name, 20, desired, 1)
    assert found == {"VCPUSurge": alerts, "HighInstanceCount": alerts}


def test_everyday_scheduled_and_policy_scaling_stays_quiet(kv):
    """A group of c5.large raised from 2 to 6 every morning by a schedule, and a +2 policy run
    by hand."""
    group = platform_group("c5.large")
    schedule = {
        "autoScalingGroupName": "workers",
        "scheduledActionName": "morning",
        "recurrence": "0 7 * * MON-FRI",
        "minSize": 6,
    }
    execute = {"autoScalingGroupName": "workers", "policyName": "step"}
    events = [
        group,
        scaling_policy(adjustment=2, name="step"),
        autoscaling("PutScheduledUpdateGroupAction", schedule, user="platform"),
        autoscaling("ExecutePolicy", execute, T0 + 60, "platform"),
    ]
    for name in ("VCPUSurge", "HighInstanceCount", "UnusualInstanceType", "RegionSpread"):
        assert kv.run(load_rule(rule_spec(f"ComputeAbuse.AWS.EC2.{name}")), events) == [], name


def requirements_template(requirements, template_id="lt-0a1b2c3d4e5f60708", user="mallory"):
    """CreateLaunchTemplate whose data sets attribute-based requirements, not a type."""
    from compute_abuse.events import create_launch_template

    event = create_launch_template(
        None, template_id, "by-attributes", eventTime=at(T0 - 60), userIdentity=iam_user(user)
    )
    data = event["requestParameters"]["CreateLaunchTemplateRequest"]["LaunchTemplateData"]
    data["InstanceRequirements"] = requirements
    return event


GPU_REQUIREMENTS = {
    "VCpuCount": {"Min": 32},
    "MemoryMiB": {"Min": 131072},
    "AcceleratorCount": {"Min": 8},
    "AcceleratorManufacturers": ["nvidia"],
}


def test_a_template_of_gpu_requirements_prices_the_groups_that_name_it(kv):
    """A group naming a template that asks for 8 NVIDIA GPUs a node is at least the smallest
    such type a node, and unusual like a named GPU type."""
    smallest, largest = helpers.requirement_types(GPU_REQUIREMENTS)
    spec = helpers.instance_type_spec(smallest)
    assert spec.accelerators >= 8
    events = [
        requirements_template(GPU_REQUIREMENTS),
        auto_scaling_group(desired=30, eventTime=at(T0), userIdentity=iam_user("mallory")),
    ]
    (surge,) = kv.run(load_rule(rule_spec("ComputeAbuse.AWS.EC2.VCPUSurge")), events)
    alert = json.loads(surge.alert_context_output)
    assert alert["window_total"] == 30 * spec.vcpus
    assert alert["template_instance_types"] == [smallest, largest]
    (unusual,) = kv.run(
        load_rule(rule_spec("ComputeAbuse.AWS.EC2.UnusualInstanceType")), events[1:]
    )
    assert unusual.dedup_output.endswith(f"user/mallory:{smallest},{largest}")


def test_a_template_of_small_requirements_stays_quiet(kv):
    """Karpenter-like requirements (2 to 8 vCPUs, no accelerators) for a group of 4."""
    events = [
        requirements_template(
            {"VCpuCount": {"Min": 2, "Max": 8}, "MemoryMiB": {"Min": 4096}}, user="platform"
        ),
        auto_scaling_group(desired=4, eventTime=at(T0), userIdentity=iam_user("platform")),
    ]
    for name in ("VCPUSurge", "HighInstanceCount", "UnusualInstanceType", "DryRunProbe"):
        assert kv.run(load_rule(rule_spec(f"ComputeAbuse.AWS.EC2.{name}")), events) == [], name


# --- Application Auto Scaling: the minimum a person sets ------------------------------------------


@pytest.mark.parametrize(
    "resource, group",
    [
        ("service/prod/api", ("ecs.amazonaws.com", "prod/api")),
        ("spot-fleet-request/sfr-0a1b2c3d", ("ec2.amazonaws.com", "sfr-0a1b2c3d")),
        ("instancegroup/j-2AXXXXXXGAPLF/ig-1", ("", "")),  # EMR: counted by number only
        ("table/orders", ("", "")),  # DynamoDB's throughput: no compute
        ("service/api", ("", "")),  # no cluster: not a resource ID ECS has
        ("service/prod/api/extra", ("", "")),
    ],
)
def test_application_auto_scaling_sizes_ecs_services_and_spot_fleets(resource, group):
    """The group a scalable target names, as its own service's calls name it; another
    namespace's or a malformed resource ID is no capacity change."""
    for event in (
        register_scalable_target(resource, 50),
        put_scheduled_action(resource, 50, 60),
    ):
        assert tuple(helpers.scaled_group(event)) == group
        assert helpers.is_launch_event(event) is bool(group[0])
        assert helpers.capacity_group_name(event) == group[1]


def test_a_scalable_targets_minimum_is_its_size_and_only_raises():
    """RegisterScalableTarget's minCapacity, a scheduled action's scalableTargetAction minimum;
    a maximum alone sets no size (and gives no minimum to raise to)."""
    registered = register_scalable_target("service/prod/api", 30, 60)
    scheduled = put_scheduled_action("service/prod/api", "12", 60)  # a number as text
    maximum_only = put_scheduled_action("service/prod/api", None, 8)
    assert [helpers.group_size(e) for e in (registered, scheduled, maximum_only)] == [30, 12, None]
    assert [helpers.gives_minimum_only(e) for e in (registered, scheduled, maximum_only)] == [
        True,
        True,
        False,
    ]
    summary = helpers.summarize_launch(registered)
    assert (summary.requested_instance_count, summary.requested_vcpus) == (30, 0)  # priced later


def test_a_key_raising_a_services_minimum_alerts_vcpu_surge_not_the_count(kv, rules):
    """A deploy role's Fargate service of four 4-vCPU tasks; a stolen key registers it as a
    scalable target of minimum 300 and Application Auto Scaling raises it (its UpdateService
    counts for no one): 296 tasks, 1,184 vCPUs, charged to the key. HighInstanceCount counts
    instances, not tasks: nothing."""
    deploy = [
        ecs(register_task_definition, "api", "4096", user="deploy"),
        ecs(create_service, "api", desired=4, name="api", epoch=T0 + 60, user="deploy"),
    ]
    raised = [
        ecs(register_scalable_target, "service/default/api", 300, epoch=T0 + 600),
        events.update_service(
            "api", 300, eventTime=at(T0 + 601), **application_autoscaling_call("ecs")
        ),
    ]
    (alert,) = kv.run(rules["VCPUSurge"], deploy + raised)
    assert "mallory launched 1184 vCPUs" in alert.title_output
    context = json.loads(alert.alert_context_output)
    assert context["service"] == "ECS"  # the service whose capacity it is
    assert kv.run(rules["HighInstanceCount"], deploy + raised) == []


def test_re_registering_a_scaled_services_target_on_every_deploy_stays_quiet(kv, rules):
    """A deploy role creates a service of 40 tasks of 4 vCPUs, then re-registers its target
    (minimum 2, maximum 60) on each of 40 deploys in a day, and puts scheduled minimums of 10 and
    2: no growth (a minimum never lowers the service), no alert."""
    events = [
        ecs(register_task_definition, "api", "4096", user="deploy"),
        ecs(create_service, "api", desired=40, name="api", epoch=T0 + 60, user="deploy"),
    ]
    for i in range(40):
        events.append(
            ecs(
                register_scalable_target,
                "service/default/api",
                2,
                60,
                epoch=T0 + 600 + 1200 * i,
                user="deploy",
            )
        )
    events += [
        ecs(put_scheduled_action, "service/default/api", 10, 60, epoch=T0 + 900, user="deploy"),
        ecs(put_scheduled_action, "service/default/api", 2, 60, epoch=T0 + 901, user="deploy"),
        ecs(register_scalable_target, "service/default/api", 20, 60, epoch=T0 + 902, user="deploy"),
    ]
    for name in ("VCPUSurge", "HighInstanceCount", "UnusualInstanceType", "HijackPlaybook"):
        assert kv.run(rules[name], events) == [], name


def test_resizes_adding_nothing_to_a_gpu_fleet_are_no_unusual_launch(kv, rules):
    """A team's Spot Fleet of ten p3.2xlarge: UnusualInstanceType names it at its request. Lowered
    to 4, given a minimum of 2 on a deploy and a scheduled minimum of 4, it launches nothing: no
    alert. A stolen key's minimum of 40 adds 36, named as EC2 capacity charged to the key. An
    auto scaling group or a Batch environment switched to GPU types at the same size still alerts;
    its types named again (a pipeline re-applying its template) do not.
    (VCPUSurge, the one writer of group sizes, reads each call first, as Panther runs both.)"""
    platform = iam_user("platform")
    events = [
        request_spot_fleet(("p3.2xlarge",), 10, userIdentity=platform, eventTime=at(T0)),
        modify_spot_fleet_request("sfr-1", 4, userIdentity=platform, eventTime=at(T0 + 60)),
        register_scalable_target(
            "spot-fleet-request/sfr-1", 2, userIdentity=platform, eventTime=at(T0 + 120)
        ),
        put_scheduled_action(
            "spot-fleet-request/sfr-1", 4, userIdentity=platform, eventTime=at(T0 + 180)
        ),
        register_scalable_target(
            "spot-fleet-request/sfr-1", 40, userIdentity=iam_user("mallory"), eventTime=at(T0 + 240)
        ),
    ]
    # a group of m5.large switched to p4d.24xlarge at its size: judged, though it adds nothing
    switched = auto_scaling_group(
        "UpdateAutoScalingGroup",
        desired=4,
        override_types=("p4d.24xlarge",),
        userIdentity=platform,
        eventTime=at(T0 + 360),
    )
    # a Batch environment of m5 kept at 64 vCPUs, its types switched to p3: judged too
    batch = [
        create_compute_environment(
            ("m5",), min_vcpus=64, userIdentity=platform, eventTime=at(T0 + 400)
        ),
        update_compute_environment(
            64, None, ("p3",), userIdentity=platform, eventTime=at(T0 + 460)
        ),
    ]
    # ... and then to a launch template of p5.48xlarge, naming no type of its own
    template = create_launch_template(
        "p5.48xlarge", "lt-0a1b2c3d4e5f60708", userIdentity=platform, eventTime=at(T0 + 500)
    )
    to_template = auto_scaling_group(
        "UpdateAutoScalingGroup", desired=4, userIdentity=platform, eventTime=at(T0 + 560)
    )
    # a pipeline re-applying the group (its template named again) at its size, then lowering
    # it; the Batch environment's p3 named again at its vCPUs: nothing new, no alert
    again = [
        auto_scaling_group(
            "UpdateAutoScalingGroup", desired=size, userIdentity=platform, eventTime=at(T0 + 600)
        )
        for size in (4, 2)
    ]
    batch_again = update_compute_environment(
        64, None, ("p3",), userIdentity=platform, eventTime=at(T0 + 660)
    )
    events = [
        auto_scaling_group(
            desired=4, override_types=("m5.large",), userIdentity=platform, eventTime=at(T0 + 300)
        ),
        *events,
        switched,
        *batch,
        template,
        to_template,
        *again,
        batch_again,
    ]
    titles = []
    for event in events:
        kv.run(rules["VCPUSurge"], [event])
        titles += [alert.title_output for alert in kv.run(rules["UnusualInstanceType"], [event])]
    assert [title.split(" in account")[0] for title in titles] == [
        "platform requested 10 unusual EC2 instance(s) [p3.2xlarge] via RequestSpotFleet",
        "mallory requested 36 unusual EC2 instance(s) [p3.2xlarge] via RegisterScalableTarget",
        "platform switched workers to unusual EC2 instance type(s) [p4d.24xlarge]"
        " via UpdateAutoScalingGroup",
        "platform switched jobs to unusual Batch instance type(s) [p3]"
        " via UpdateComputeEnvironment",
        "platform switched workers to unusual EC2 instance type(s) [p5.48xlarge]"
        " via UpdateAutoScalingGroup",
    ]


def test_re_applying_a_gpu_group_of_many_types_at_its_size_stays_quiet(kv, rules):
    """A group diversified over six GPU types (a list longer than a kept label: cut) alerts at its
    creation; a pipeline naming the same six again at its size, then lowering it, does not."""
    platform = iam_user("platform")
    types = ("g4dn.xlarge", "g4dn.2xlarge", "g5.xlarge", "g5.2xlarge", "g6.xlarge", "g6.2xlarge")
    events = [
        auto_scaling_group(
            name,
            desired=size,
            override_types=types,
            userIdentity=platform,
            eventTime=at(T0 + 60 * n),
        )
        for n, (name, size) in enumerate(
            (
                ("CreateAutoScalingGroup", 4),
                ("UpdateAutoScalingGroup", 4),
                ("UpdateAutoScalingGroup", 2),
            )
        )
    ]
    titles = []
    for event in events:
        kv.run(rules["VCPUSurge"], [event])
        titles += [alert.title_output for alert in kv.run(rules["UnusualInstanceType"], [event])]
    assert len(titles) == 1 and "platform requested 4 unusual EC2 instance(s)" in titles[0]
