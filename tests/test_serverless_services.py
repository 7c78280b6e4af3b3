"""Lambda concurrency, Batch jobs, Amplify build jobs and CodeBuild projects in the capacity
ledger. Each is priced by a definition remembered like a launch template: a function's memory
(its vCPU share), a job definition's revision, an app's or a project's build compute type. A call
that names a definition the pack has not seen yet waits for it. Provisioned concurrency and jobs
count; reserved concurrency is potential capacity, reported and never summed. Everyday
counterparts stay quiet."""

import pytest

import ec2_compute_helpers as helpers
from compute_abuse.events import (
    api_call,
    create_amplify_app,
    create_codebuild_project,
    create_function,
    function_concurrency,
    register_job_definition,
    start_amplify_job,
    start_build,
    submit_job,
)
from ec2_launch_templates import launch_with_template
from tests.scenarios import HOUR, T0, by, context, load_rules, quiet


@pytest.fixture(scope="module")
def rules():
    return load_rules()


# --- Lambda -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "memory, units",
    [(1769, 1024), (128, 75), (3538, 2048), (10240, 5928), (20000, 6144), (0, None), ("x", None)],
)
def test_a_functions_vcpu_share_follows_its_memory_up_to_six(memory, units):
    size = helpers.lambda_size(memory)
    assert (size.cpu_units if size else None) == units


@pytest.mark.parametrize(
    "name",
    [
        "miner",
        "miner:live",
        "arn:aws:lambda:us-east-1:111122223333:function:miner",
        "arn:aws:lambda:us-east-1:111122223333:function:miner:7",
        "111122223333:function:miner",
    ],
)
def test_a_function_is_known_by_name_arn_or_partial_arn(name):
    assert helpers.function_ref(name).ref == "miner"


def test_provisioned_concurrency_of_a_large_function_alerts_naming_the_person(kv, rules):
    events = [
        by(create_function, "miner", 10240, epoch=T0 - 60),
        by(function_concurrency, "miner", provisioned=200),
    ]
    (surge,) = kv.run(rules["VCPUSurge"], events)
    assert context(surge)["window_total"] == 1158  # 200 environments of 10,240/1,769 vCPUs
    assert context(surge)["service"] == "Lambda" and surge.dedup_output.endswith("user/mallory")


def test_a_memory_raise_is_what_later_concurrency_is_priced_at(kv, rules):
    events = [
        by(create_function, "miner", 128, epoch=T0 - 120),
        by(
            create_function,
            "miner",
            10240,
            epoch=T0 - 60,
            event_name="UpdateFunctionConfiguration20150331v2",
        ),
        by(function_concurrency, "miner", provisioned=150),
    ]
    (surge,) = kv.run(rules["VCPUSurge"], events)
    assert context(surge)["window_total"] == 869  # 150 x 5.79, rounded up once


def test_concurrency_delivered_before_its_function_waits_for_it(kv, rules):
    """The function's creation arrives after the concurrency call: the call waits, and the
    creation judges it again."""
    concurrency = by(function_concurrency, "miner", provisioned=200, epoch=T0 + 30)
    assert kv.run(rules["VCPUSurge"], [concurrency]) == []
    (surge,) = kv.run(rules["VCPUSurge"], [by(create_function, "miner", 10240)])
    assert context(surge)["window_total"] == 1158


def test_reserved_concurrency_is_potential_capacity_reported_not_summed(kv, rules):
    events = [
        by(create_function, "miner", 10240, epoch=T0 - 60),
        by(function_concurrency, "miner", reserved=1000),
    ]
    assert kv.run(rules["VCPUSurge"], events) == []
    summary = helpers.summarize_launch(events[1])
    assert (summary.instance_count, summary.vcpus, summary.max_capacity) == (0, 0, 1000)
    for event in events:
        kv.run(rules["UnusualInstanceType"], [event])
    priced, lookup = launch_with_template(events[1], kv.store())
    assert lookup.status == "known" and priced.requested_vcpus == 0
    assert priced.requested_vcpus_max == 5790  # 1,000 environments of 5.79 vCPUs, at most


def test_everyday_functions_stay_quiet(kv, rules):
    """A 512 MB function with a little provisioned and reserved concurrency, and a default one."""
    quiet(
        kv,
        rules,
        [
            by(create_function, "resize-images", 512, epoch=T0 - 60, user="web"),
            by(function_concurrency, "resize-images", provisioned=10, user="web"),
            by(function_concurrency, "resize-images", reserved=100, user="web"),
            by(create_function, "hello", None, user="web"),
        ],
    )


# --- Batch jobs ---------------------------------------------------------------------------------


def test_a_gpu_job_array_alerts_with_its_gpus(kv, rules):
    events = [
        by(register_job_definition, "crunch", "96", gpus=8, epoch=T0 - 60),
        by(submit_job, "crunch", array_size=20),
    ]
    (surge,) = kv.run(rules["VCPUSurge"], events)
    assert context(surge)["window_total"] == 1920 and context(surge)["service"] == "Batch"
    assert "160 accelerator(s)" in surge.title_output
    assert kv.run(rules["HighInstanceCount"], events) == []  # jobs are not instances


@pytest.mark.parametrize(
    "job_definition, expected",
    [
        ("crunch", 4 * 64),
        ("crunch:1", 2 * 64),
        ("crunch:2", 4 * 64),
        ("arn:aws:batch:us-east-1:111122223333:job-definition/crunch:1", 2 * 64),
    ],
)
def test_a_job_names_its_definitions_revision_or_the_latest(kv, rules, job_definition, expected):
    events = [
        by(register_job_definition, "crunch", "2", revision=1, epoch=T0 - 120, user="ds"),
        by(register_job_definition, "crunch", "4", revision=2, epoch=T0 - 60, user="ds"),
        by(submit_job, job_definition, array_size=64),
    ]
    for event in events:
        kv.run(rules["VCPUSurge"], [event])
    priced, _ = launch_with_template(events[2], kv.store())
    assert priced.vcpus == expected


def test_job_overrides_and_multi_node_jobs_are_priced(kv, rules):
    overridden = helpers.summarize_launch(submit_job("any", array_size=10, vcpus="0.25"))
    assert (overridden.instance_count, overridden.vcpus, overridden.needs_template) == (
        10,
        3,
        False,
    )  # 2.5 vCPUs, rounded up once
    events = [
        by(register_job_definition, "mpi", "48", nodes=4, epoch=T0 - 60),
        by(submit_job, "mpi", array_size=5),
    ]
    (surge,) = kv.run(rules["VCPUSurge"], events)
    assert context(surge)["window_total"] == 5 * 4 * 48


def test_an_override_of_gpus_alone_keeps_the_definitions_vcpus(kv, rules):
    """Batch overrides each resource it names: a SubmitJob overriding GPUs alone runs each job
    at its definition's vCPUs with the GPUs asked. Read as a job of 0 vCPUs, an array of them
    would hide from VCPUSurge (1,000 jobs of 8 vCPUs); an override of memory alone is the
    definition's size."""
    events = [
        by(register_job_definition, "miner", "8", gpus=1, epoch=T0 - 60),
        by(submit_job, "miner", array_size=1000, gpus=2),
    ]
    (surge,) = kv.run(rules["VCPUSurge"], events)
    assert context(surge)["window_total"] == 8000
    assert "2000 accelerator(s)" in surge.title_output
    memory = by(submit_job, "miner", array_size=10, epoch=T0 + 60)
    memory["requestParameters"]["containerOverrides"] = {
        "resourceRequirements": [{"type": "MEMORY", "value": "2048"}]
    }
    priced, _ = launch_with_template(memory, kv.store())
    assert (priced.vcpus, priced.accelerators) == (80, 10)


def test_everyday_batch_jobs_stay_quiet(kv, rules):
    """A data-science team's array of 200 one-vCPU jobs and a few single jobs."""
    events = [
        by(register_job_definition, "etl", "1", epoch=T0 - 60, user="ds"),
        by(submit_job, "etl", array_size=200, user="ds"),
        *[by(submit_job, "etl", epoch=T0 + 60 * i, user="ds") for i in range(1, 6)],
    ]
    quiet(kv, rules, events)


# --- Amplify ------------------------------------------------------------------------------------


def test_many_large_amplify_builds_alert_naming_the_person(kv, rules):
    events = [
        by(create_amplify_app, "d1miner", "XLARGE_72GB", epoch=T0 - 60),
        *[by(start_amplify_job, "d1miner", f"b{i}", epoch=T0 + i) for i in range(25)],
    ]
    (surge,) = kv.run(rules["VCPUSurge"], events)
    assert context(surge)["window_total"] == 23 * 36 and context(surge)["service"] == "Amplify"
    assert context(surge)["instance_types"] == ["amplify.xlarge_72gb"]


def test_an_apps_compute_type_defaults_and_survives_unrelated_updates(kv, rules):
    events = [
        by(create_amplify_app, "d1site", epoch=T0 - 120),
        by(create_amplify_app, "d1site", epoch=T0 - 60, event_name="UpdateApp"),
        by(start_amplify_job, "d1site"),
    ]
    for event in events:
        kv.run(rules["VCPUSurge"], [event])
    priced, lookup = launch_with_template(events[2], kv.store())
    assert priced.instance_types == ("amplify.standard_8gb",) and priced.vcpus == 4
    unknown, lookup = launch_with_template(by(start_amplify_job, "d1never"), kv.store())
    assert lookup.status.startswith("unknown") and unknown.vcpus == 0
    assert unknown.instance_count == 1


def test_everyday_amplify_builds_stay_quiet(kv, rules):
    events = [
        by(create_amplify_app, "d1site", "LARGE_16GB", epoch=T0 - 60, user="web"),
        *[by(start_amplify_job, "d1site", epoch=T0 + HOUR * i, user="web") for i in range(8)],
    ]
    quiet(kv, rules, events)


def test_a_sagemaker_studio_app_is_still_a_launch_beside_amplifys_create_app(kv, rules):
    """CreateApp is an Amplify definition and a SageMaker launch: the source tells them apart."""
    studio = by(
        api_call,
        "sagemaker.amazonaws.com",
        "CreateApp",
        requestParameters={
            "appType": "JupyterLab",
            "resourceSpec": {"instanceType": "ml.p4d.24xlarge"},
        },
    )
    (unusual,) = kv.run(rules["UnusualInstanceType"], [studio])
    assert "SageMaker" in unusual.title_output


# --- CodeBuild projects -------------------------------------------------------------------------


def refused_build(project="miner", epoch=T0):
    return by(
        api_call,
        "codebuild.amazonaws.com",
        "StartBuild",
        epoch=epoch,
        requestParameters={"projectName": project},
        responseElements=None,
        errorCode="AccountLimitExceededException",
        errorMessage="Cannot have more than 1 builds in queue for the account",
    )


def test_a_refused_build_of_a_gpu_project_is_judged_by_the_project(kv, rules):
    events = [
        by(
            create_codebuild_project,
            "miner",
            "BUILD_GENERAL1_LARGE",
            "LINUX_GPU_CONTAINER",
            privileged=True,
            epoch=T0 - 60,
        ),
        refused_build(),
    ]
    (unusual,) = kv.run(rules["UnusualInstanceType"], events)
    assert unusual.severity_output == "LOW"
    assert (
        "tried to launch 1 unusual CodeBuild instance(s) [codebuild-gpu.build_general1_large]"
        in unusual.title_output
    )
    assert context(unusual)["launch_template"] == "miner"


def test_a_project_update_changes_what_its_builds_are_priced_at(kv, rules):
    events = [
        by(create_codebuild_project, "app", epoch=T0 - 120),
        by(
            create_codebuild_project,
            "app",
            "BUILD_GENERAL1_2XLARGE",
            epoch=T0 - 60,
            event_name="UpdateProject",
        ),
        refused_build("app"),
    ]
    for event in events:
        kv.run(rules["VCPUSurge"], [event])
    priced, _ = launch_with_template(events[2], kv.store())
    assert priced.instance_types == ("codebuild.build_general1_2xlarge",) and priced.vcpus == 72


def test_everyday_projects_and_refused_builds_stay_quiet(kv, rules):
    quiet(
        kv,
        rules,
        [
            by(create_codebuild_project, "app", epoch=T0 - 60, user="ci"),
            refused_build("app"),
            by(start_build, user="ci"),
        ],
    )


def test_reserved_concurrency_in_many_regions_is_not_compute_in_them(kv, rules):
    """A deploy pipeline setting reserved concurrency in three regions runs nothing there;
    provisioned concurrency there does."""
    regions = ("us-east-1", "eu-west-1", "ap-southeast-2")
    reserved = [
        by(function_concurrency, "api", reserved=50, epoch=T0 + i, awsRegion=region, user="deploy")
        for i, region in enumerate(regions)
    ]
    assert kv.run(rules["RegionSpread"], reserved) == []
    provisioned = [
        by(function_concurrency, "api", provisioned=5, epoch=T0 + 10 + i, awsRegion=region)
        for i, region in enumerate(regions)
    ]
    (spread,) = kv.run(rules["RegionSpread"], provisioned)
    assert "compute in 3 regions" in spread.title_output


def test_a_builds_privileged_mode_is_in_the_alert_context(kv, rules):
    gpu = by(start_build, "BUILD_GENERAL1_LARGE", "LINUX_GPU_CONTAINER", override=True)
    gpu["requestParameters"]["privilegedModeOverride"] = True
    (unusual,) = kv.run(rules["UnusualInstanceType"], [gpu])
    assert context(unusual)["privileged_mode"] is True
    assert "privileged_mode" not in helpers.launch_alert_context(submit_job("x", vcpus="1"))
    plain = helpers.launch_alert_context(start_build("BUILD_GENERAL1_SMALL"))
    assert plain["privileged_mode"] is False
